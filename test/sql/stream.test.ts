/**
 * `.stream()` on both engines: rows one at a time with the statement's parameters, schema and
 * role, and a connection that is free again the moment the caller stops reading.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { close, configure, datatable, ducklake, MillraceError } from '../../src/index.js';
import { ensureExtensions } from '../helpers/ducklake.js';
import { freshDatabase } from '../setup/pgdb.js';

process.env.MILLRACE_HOME = mkdtempSync(join(tmpdir(), 'millrace-stream-'));

beforeAll(async () => {
  const url = await freshDatabase(inject('pgUrl'), 'millrace_stream');
  // `cold` and `coldschema`: the same database through pools that nothing has used before their first stream.
  await configure({ datatables: { main: url, cold: url, coldschema: url }, duckdb: { extensionDirectory: await ensureExtensions() } });
  const sql = datatable();
  await sql`CREATE SCHEMA analytics; CREATE TABLE analytics.events AS SELECT g AS id, 'kind ' || (g % 3) AS kind FROM generate_series(1, 5000) g;
    DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'stream_reader') THEN CREATE ROLE stream_reader; END IF; END $$;
    GRANT USAGE ON SCHEMA analytics TO stream_reader; GRANT SELECT ON analytics.events TO stream_reader`.execute();
  const lake = ducklake();
  await lake`CREATE SCHEMA IF NOT EXISTS analytics`.execute();
  await lake`CREATE OR REPLACE TABLE analytics.events AS SELECT range + 1 AS id, 'kind ' || ((range + 1) % 3) AS kind FROM range(5000)`.execute();
});
afterAll(() => close());

/** Rejects if `p` has not settled within `ms`: a starved pool shows as a clear failure, not a hung test. */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([p, new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: still waiting after ${ms} ms`)), ms)))]).finally(() => clearTimeout(timer));
}

const engines = [
  ['PostgreSQL', () => datatable(':analytics'), () => datatable(), 'generate_series(1, 3000000) g', 'g'],
  ['DuckDB', () => ducklake(':analytics'), () => ducklake(), 'range(3000000) t(g)', 'g'],
] as const;

describe.each(engines)('stream() on %s', (_name, inSchema, plain, big, col) => {
  it('yields every row once, with the parameters bound and the schema in use', async () => {
    const sql = inSchema();
    let n = 0;
    let sum = 0;
    for await (const row of sql<{ id: number; kind: string; tag: string }>`SELECT id, kind, ${'tag ✓'} AS tag FROM events WHERE kind = ${'kind 1'} ORDER BY id`.stream({ batchSize: 100 })) {
      expect(row.kind).toBe('kind 1');
      expect(row.tag).toBe('tag ✓');
      n++;
      sum += Number(row.id);
    }
    expect(n).toBe(1667);
    expect(sum).toBe(Array.from({ length: 5000 }, (_, i) => i + 1).filter((i) => i % 3 === 1).reduce((a, b) => a + b, 0));
  });

  it('breaking out early gives the connection back at once: the next statements run right away', async () => {
    const sql = plain();
    // More abandoned streams than either pool has connections (10 on PostgreSQL, 4 per lake and schema on DuckDB).
    for (let i = 0; i < 12; i++) {
      let seen = 0;
      for await (const row of sql`SELECT ${sql.raw(col)} AS g FROM ${sql.raw(big)}`.stream({ batchSize: 500 })) {
        expect(row).toHaveProperty('g');
        if (++seen === 3) break;
      }
    }
    expect(await within(sql`SELECT 42 AS v`.fetchOneScalar(), 10_000, 'a statement after 12 abandoned streams')).toBe(42);
    // A throw inside the loop releases it too.
    await expect(
      (async () => {
        for await (const _ of sql`SELECT ${sql.raw(col)} AS g FROM ${sql.raw(big)}`.stream()) throw new Error('consumer failed');
      })(),
    ).rejects.toThrow('consumer failed');
    const all = await within(Promise.all(Array.from({ length: 12 }, (_, i) => sql`SELECT ${i} AS v`.fetchOneScalar())), 10_000, '12 concurrent statements after the streams');
    expect(all).toEqual(Array.from({ length: 12 }, (_, i) => i));
  });

  it('refuses several statements and a bad batch size, and reports SQL errors as SqlError', async () => {
    const sql = plain();
    const drain = async (it: AsyncIterable<unknown>) => {
      for await (const _ of it);
    };
    await expect(drain(sql`SELECT 1; SELECT 2`.stream())).rejects.toMatchObject({ code: 'InvalidArgument' });
    await expect(drain(sql`SELECT 1`.stream({ batchSize: 0 }))).rejects.toMatchObject({ code: 'InvalidArgument' });
    const e = await drain(sql`SELECT * FROM no_such_table_here`.stream()).catch((x) => x);
    expect(e).toBeInstanceOf(MillraceError);
    expect(e.code).toBe('Sql');
    expect(await sql`SELECT 7 AS v`.fetchOneScalar()).toBe(7);
  });
});

describe('stream() as the first statement of a pool', () => {
  it('works on a PostgreSQL pool with no connection open yet, with and without a schema', async () => {
    const count = async (it: AsyncIterable<unknown>) => {
      let n = 0;
      for await (const _ of it) n++;
      return n;
    };
    expect(await within(count(datatable('cold')`SELECT g FROM generate_series(1, ${2500}::int) g`.stream({ batchSize: 100 })), 20_000, 'a first stream')).toBe(2500);
    expect(await within(count(datatable('coldschema:analytics')`SELECT id FROM events`.stream()), 20_000, 'a first stream in a schema')).toBe(5000);
  });
});

describe('stream() types its parameters as fetch() does on PostgreSQL', () => {
  const UUID = '6f1f7b8e-2c1a-4d8e-9a51-0b7c6e3f2a10';
  const all = async <T>(it: AsyncIterable<T>) => {
    const rows: T[] = [];
    for await (const row of it) rows.push(row);
    return rows;
  };

  it.each([
    ['without a schema', () => datatable(), 'analytics.typed'],
    ['in a schema, inside its transaction', () => datatable(':analytics'), 'typed'],
  ] as const)('%s: from the context, else with windmill-client’s type, arrays of objects as JSON', async (_name, open, table) => {
    const sql = open();
    await datatable()`CREATE TABLE IF NOT EXISTS analytics.typed (id uuid PRIMARY KEY, n int);
      INSERT INTO analytics.typed VALUES (${UUID}, NULL) ON CONFLICT DO NOTHING`.execute();
    // A string compared with a uuid column, a null with an int column: the server types them.
    const byId = sql`SELECT id, n FROM ${sql.raw(table)} WHERE id = ${UUID} AND (n = ${null} OR n IS NULL)`;
    expect(await all(byId.stream())).toEqual([{ id: UUID, n: null }]);
    // Where the context says nothing: windmill-client's types, the same values fetch() gives.
    const free = sql`SELECT ${1} + ${2} AS sum, ${null} IS NULL AS nothing, json_build_object('k', ${'v'}) AS obj, ${5} AS five, ${1.5} AS half
      FROM ${sql.raw(table)} WHERE id = ${UUID}`;
    const fetched = await free.fetch();
    expect(fetched).toEqual([{ sum: 3, nothing: true, obj: { k: 'v' }, five: 5, half: 1.5 }]);
    expect(await all(free.stream())).toEqual(fetched);
    // An array of objects into a jsonb function, with and without a cast: a JSON array.
    const rows = [{ a: 1 }, { a: 2 }];
    expect(await all(sql`SELECT sum(a)::int AS s FROM jsonb_to_recordset(${rows}) AS p(a int)`.stream())).toEqual([{ s: 3 }]);
    expect(await all(sql`SELECT sum(a)::int AS s FROM jsonb_to_recordset(${rows}::jsonb) AS p(a int)`.stream())).toEqual([{ s: 3 }]);
  });
});

describe('stream() with a role on PostgreSQL', () => {
  it('runs as the role, inside its transaction', async () => {
    const sql = datatable(':analytics', { role: 'stream_reader' });
    const users: unknown[] = [];
    for await (const row of sql`SELECT current_user AS who, count(*) OVER () AS n FROM events LIMIT 3`.stream()) users.push(row.who);
    expect(users).toEqual(['stream_reader', 'stream_reader', 'stream_reader']);
    const denied = datatable('main', { role: 'stream_reader' });
    const e = await (async () => {
      for await (const _ of denied`SELECT * FROM pg_authid`.stream());
    })().catch((x) => x);
    expect(e.code).toBe('PermissionDenied');
  });
});

describe('stream() rows own their columns', () => {
  it.each(engines)('a column named __proto__ is an own property in every batch on %s', async (_name, _inSchema, plain) => {
    const sql = plain();
    const rows: Record<string, unknown>[] = [];
    for await (const row of sql`SELECT g AS "__proto__", g * 2 AS "x" FROM ${sql.raw(_name === 'DuckDB' ? 'range(1, 251) t(g)' : 'generate_series(1, 250) g')}`.stream({ batchSize: 100 })) rows.push(row);
    expect(rows).toHaveLength(250);
    for (const [i, row] of rows.entries()) {
      expect(Object.getPrototypeOf(row)).toBe(Object.prototype);
      expect(Object.keys(row)).toEqual(['__proto__', 'x']);
      expect(Object.getOwnPropertyDescriptor(row, '__proto__')?.value).toBe(i + 1);
    }
  });
});

describe("stream() with Windmill's conventions on DuckDB", () => {
  it('reads the lake as dl, as run() does', async () => {
    const ids: unknown[] = [];
    for await (const row of ducklake()`SELECT id FROM dl.analytics.events WHERE id <= 3 ORDER BY id`.stream()) ids.push(row.id);
    expect(ids).toEqual([1, 2, 3]);
    expect(await ducklake()`SELECT count(*) AS n FROM analytics.events`.fetchOneScalar()).toBe(5000);
  });
});
