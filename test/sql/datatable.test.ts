/** datatable() against the real PostgreSQL of the test setup: modes, types, schema, role, errors, injection. */
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, expect, inject, beforeAll, afterAll } from 'vitest';
import fc from 'fast-check';
import { configure } from '../../src/config.js';
import { close } from '../../src/runtime.js';
import { datatable } from '../../src/sql/datatable.js';
import { RESULT_COLLECTIONS } from '../../src/sql/statement.js';
import { MillraceError, SqlError } from '../../src/errors.js';
import { HOSTILE } from '../helpers/hostile.js';
import { freshDatabase } from '../setup/pgdb.js';

process.env.MILLRACE_HOME = mkdtempSync(join(tmpdir(), 'millrace-dt-'));

let url: string;
let refusedPort: number;

beforeAll(async () => {
  url = await freshDatabase(inject('pgUrl'), 'millrace_datatable');
  const u = new URL(url);
  refusedPort = await closedPort();
  await configure({
    datatables: {
      main: url,
      // The same database through Windmill's postgresql resource fields.
      fields: { host: u.hostname, port: Number(u.port), user: decodeURIComponent(u.username), dbname: 'millrace_datatable', sslmode: 'disable' },
      down: `postgres://postgres:s3cret-pw@127.0.0.1:${refusedPort}/nothing`,
      // A role the server rejects at login (SQLSTATE 28000).
      nobody: Object.assign(new URL(url), { username: 'no_such_role' }).toString(),
    },
  });
  const sql = datatable();
  await sql`
    CREATE TABLE friend (id text PRIMARY KEY, name text NOT NULL, age int);
    INSERT INTO friend VALUES ('u1', 'Robin', 21), ('u2', 'Ada', 36);
    CREATE SCHEMA analytics;
    CREATE TABLE analytics.events (id serial PRIMARY KEY, kind text NOT NULL);
    INSERT INTO analytics.events (kind) VALUES ('open'), ('click'), ('click');
    CREATE TABLE events (id int);
    CREATE ROLE reader NOLOGIN;
    GRANT USAGE ON SCHEMA analytics TO reader;
    GRANT SELECT ON analytics.events TO reader;
    CREATE TABLE secret (v text);
  `.execute();
});

afterAll(async () => {
  await close();
});

function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

describe('statements', () => {
  it('binds values as typed parameters and exposes content and args', async () => {
    const sql = datatable();
    const id = 'u1';
    const stmt = sql`SELECT name, age FROM friend WHERE id = ${id} AND age > ${18}`;
    expect(stmt.content).toBe('SELECT name, age FROM friend WHERE id = $1 AND age > $2');
    expect(stmt.args).toEqual({ arg1: 'u1', arg2: 18 });
    expect(await stmt.fetch()).toEqual([{ name: 'Robin', age: 21 }]);
    expect(await stmt.fetchOne()).toEqual({ name: 'Robin', age: 21 });
    expect(await stmt.fetchOneScalar()).toBe('Robin');
    expect(await stmt.execute()).toBeUndefined();
  });

  it('fetchOne gives null when there is no row', async () => {
    const sql = datatable();
    expect(await sql`SELECT * FROM friend WHERE id = ${'nobody'}`.fetchOne()).toBeNull();
    expect(await sql`SELECT * FROM friend WHERE id = ${'nobody'}`.fetchOneScalar()).toBeNull();
  });

  it('query() takes $n-style text; $n inside literals and comments is text', async () => {
    const sql = datatable();
    const row = await sql.query<{ a: string; b: number; lit: string }>(
      `SELECT $2 AS a, $1::int AS b, '$1 stays' AS lit -- $3 in a comment\n`, 7, 'x',
    ).fetchOne();
    expect(row).toEqual({ a: 'x', b: 7, lit: '$1 stays' });
    expect(() => sql.query('SELECT $2', 1)).toThrow(MillraceError);
  });

  it('nests statements with renumbered parameters, raw text and identifiers', async () => {
    const sql = datatable();
    const cond = sql`age > ${30}`;
    const stmt = sql`SELECT ${sql.ident('name')} FROM ${sql.ident('public.friend')} WHERE id <> ${'u9'} AND ${cond} ORDER BY ${sql.raw('name')}`;
    expect(stmt.content).toBe('SELECT "name" FROM "public"."friend" WHERE id <> $1 AND age > $2 ORDER BY name');
    expect(await stmt.fetch()).toEqual([{ name: 'Ada' }]);
  });

  it('an explicit ::type or CAST wins over inference', async () => {
    const sql = datatable();
    const stmt = sql`SELECT ${'42'}::int AS a, CAST(${'2024-02-29'} AS date) AS d, ${1.5}::numeric AS n`;
    expect(stmt.content).toBe('SELECT $1::int AS a, CAST($2 AS date) AS d, $3::numeric AS n');
    expect(await stmt.fetchOne()).toEqual({ a: 42, d: '2024-02-29', n: '1.5' });
  });
});

describe('result collection', () => {
  const single = () => datatable()`SELECT name, age FROM friend ORDER BY id`;
  const multi = () => datatable()`SELECT 1 AS a, 'x' AS b; SELECT name FROM friend WHERE id = ${'u2'}; SELECT name, age FROM friend ORDER BY id`;
  const robin = { name: 'Robin', age: 21 };
  const ada = { name: 'Ada', age: 36 };

  it('covers all nine modes on a single statement', async () => {
    const got = Object.fromEntries(await Promise.all(RESULT_COLLECTIONS.map(async (m) => [m, await single().fetch({ resultCollection: m })])));
    expect(got).toEqual({
      last_statement_all_rows: [robin, ada],
      last_statement_first_row: robin,
      last_statement_all_rows_scalar: ['Robin', 'Ada'],
      last_statement_first_row_scalar: 'Robin',
      all_statements_all_rows: [[robin, ada]],
      all_statements_first_row: [robin],
      all_statements_all_rows_scalar: [['Robin', 'Ada']],
      all_statements_first_row_scalar: ['Robin'],
      legacy: [robin, ada],
    });
  });

  it('covers all nine modes on several statements', async () => {
    const got: Record<string, unknown> = {};
    for (const m of RESULT_COLLECTIONS) got[m] = await multi().fetch({ resultCollection: m });
    expect(got).toEqual({
      last_statement_all_rows: [robin, ada],
      last_statement_first_row: robin,
      last_statement_all_rows_scalar: ['Robin', 'Ada'],
      last_statement_first_row_scalar: 'Robin',
      all_statements_all_rows: [[{ a: 1, b: 'x' }], [{ name: 'Ada' }], [robin, ada]],
      all_statements_first_row: [{ a: 1, b: 'x' }, { name: 'Ada' }, robin],
      all_statements_all_rows_scalar: [[1], ['Ada'], ['Robin', 'Ada']],
      all_statements_first_row_scalar: [1, 'Ada', 'Robin'],
      legacy: [[{ a: 1, b: 'x' }], [{ name: 'Ada' }], [robin, ada]],
    });
  });

  it('statements without rows give empty lists and null first rows', async () => {
    const sql = datatable();
    const r = await sql`CREATE TEMP TABLE t_empty (x int); INSERT INTO t_empty VALUES (${1}); SELECT * FROM t_empty WHERE x > ${5}`.fetch({ resultCollection: 'all_statements_first_row' });
    expect(r).toEqual([null, null, null]);
  });

  it('rejects an unknown mode or an empty statement, as a rejected promise (never a synchronous throw)', async () => {
    const badMode = single().fetch({ resultCollection: 'everything' as never });
    await expect(badMode).rejects.toMatchObject({ code: 'InvalidArgument' });
    const empty = datatable()` ; -- nothing`.fetchOne();
    expect(empty).toBeInstanceOf(Promise);
    await expect(empty).rejects.toMatchObject({ code: 'InvalidArgument' });
  });

  it('runs several statements in one transaction: a failure rolls all back', async () => {
    const sql = datatable();
    await sql`CREATE TABLE tx_check (v int)`.execute();
    const err = await sql`INSERT INTO tx_check VALUES (${1}); INSERT INTO tx_check VALUES (${'not a number'}::int)`.execute().catch((e) => e);
    expect(err).toBeInstanceOf(SqlError);
    expect(err.sql).toBe('INSERT INTO tx_check VALUES ($1::int)');
    expect(await sql`SELECT count(*) FROM tx_check`.fetchOneScalar()).toBe(0);
  });

  it('splits on ; only outside quotes, dollar-quoting and comments', async () => {
    const sql = datatable();
    const rows = await sql`
      CREATE FUNCTION semi() RETURNS text LANGUAGE plpgsql AS $body$ BEGIN RETURN 'a;b'; END; $body$;
      SELECT semi() AS s, ';' AS q, ${'x;y'} AS p /* ; */ -- ;
      ; DROP FUNCTION semi()
    `.fetch({ resultCollection: 'all_statements_all_rows' });
    expect(rows).toEqual([[], [{ s: 'a;b', q: ';', p: 'x;y' }], []]);
  });
});

describe('schema and role', () => {
  it('":analytics" makes unqualified names resolve in that schema', async () => {
    const events = datatable(':analytics');
    expect(await events`SELECT count(*) AS n FROM events WHERE kind = ${'click'}`.fetchOneScalar()).toBe(2);
    expect(await datatable('main:analytics')`SELECT count(*) FROM events`.fetchOneScalar()).toBe(3);
    // public.events (empty) is what the plain datatable sees.
    expect(await datatable()`SELECT count(*) FROM events`.fetchOneScalar()).toBe(0);
  });

  it('the search path does not leak to later statements on the pooled connection', async () => {
    await datatable(':analytics')`SELECT 1`.execute();
    const paths = await Promise.all(Array.from({ length: 12 }, () => datatable()`SHOW search_path`.fetchOneScalar()));
    for (const p of paths) expect(p).toContain('public');
  });

  it('role runs the statement as that role', async () => {
    const sql = datatable(':analytics', { role: 'reader' });
    expect(await sql`SELECT current_user AS u, count(*) AS n FROM events`.fetchOne()).toEqual({ u: 'reader', n: 3 });
    const denied = await datatable('main', { role: 'reader' })`SELECT * FROM public.secret`.fetch().catch((e) => e);
    expect(denied).toBeInstanceOf(SqlError);
    expect(denied).toMatchObject({ code: 'PermissionDenied', sqlState: '42501' });
    expect(await datatable()`SELECT current_user`.fetchOneScalar()).toBe('postgres');
  });

  it('an unknown role is an error, never a fallback', async () => {
    const err = await datatable('main', { role: 'no_such_role' })`SELECT current_user`.fetch().catch((e) => e);
    expect(err).toBeInstanceOf(SqlError);
    expect(err.code).toBe('PermissionDenied');
    expect(err.message).toContain('no_such_role');
  });

  it('a malformed role is refused before anything is sent', () => {
    for (const role of ['', 'a b', 'x"; DROP TABLE friend; --', 'r'.repeat(64), 'é']) {
      expect(() => datatable('main', { role })).toThrow(expect.objectContaining({ code: 'InvalidArgument' }));
    }
  });

  it('a hostile schema name is quoted, not run', async () => {
    const hostile = 'x"; DROP TABLE friend; --';
    // Missing, it is named in a NotFound; created, it is the quoted search path.
    expect((await datatable(`:${hostile}`)`SELECT 1`.fetch().catch((e) => e)).code).toBe('NotFound');
    await datatable()`CREATE SCHEMA IF NOT EXISTS ${datatable().ident(hostile)}`.execute();
    const path = await datatable(`:${hostile}`)`SELECT current_setting('search_path')`.fetchOneScalar();
    expect(path).toBe('"x""; DROP TABLE friend; --"');
    expect(await datatable()`SELECT count(*) FROM friend`.fetchOneScalar()).toBe(2);
  }, 30_000);
});

describe('config', () => {
  it('the resource-field form reaches the same database', async () => {
    expect(await datatable('fields')`SELECT count(*) FROM friend`.fetchOneScalar()).toBe(2);
  });

  it('an unknown datatable lists the configured names', async () => {
    const err = await datatable('nope')`SELECT 1`.fetch().catch((e) => e);
    expect(err).toBeInstanceOf(MillraceError);
    expect(err.code).toBe('Config');
    expect(err.message).toContain('"nope"');
    expect(err.message).toContain('main, fields, down');
  });

  it('rejected credentials (SQLSTATE 28xxx) are PermissionDenied, not Connection', async () => {
    const err = await datatable('nobody')`SELECT 1`.fetch().catch((e) => e);
    expect(err).toBeInstanceOf(MillraceError);
    expect(err).toMatchObject({ code: 'PermissionDenied', sqlState: '28000' });
    expect(err.message).toContain('no_such_role');
    expect(err.cause).toMatchObject({ name: 'PostgresError', code: '28000' });
  });

  it('connection refused is a quick typed error without the password', async () => {
    const t0 = performance.now();
    const err = await datatable('down')`SELECT 1`.fetch().catch((e) => e);
    const ms = performance.now() - t0;
    expect(err).toBeInstanceOf(MillraceError);
    expect(err.code).toBe('Connection');
    expect(err.message).toContain('ECONNREFUSED');
    expect(err.message).not.toContain('s3cret-pw');
    expect(JSON.stringify(err)).not.toContain('s3cret-pw');
    expect(ms).toBeLessThan(2000);
  });
});

describe('errors', () => {
  it('a SQL error is typed, with SQLSTATE and the text, and without parameter values', async () => {
    const sql = datatable();
    const secret = 'hunter2-secret-value';
    const err = await sql`SELECT * FROM no_such_table WHERE x = ${secret}`.fetch().catch((e) => e);
    expect(err).toBeInstanceOf(SqlError);
    expect(err).toMatchObject({ code: 'Sql', sqlState: '42P01', engine: 'postgres', sql: 'SELECT * FROM no_such_table WHERE x = $1' });
    expect(err.message).toContain('no_such_table');
    const bad = await sql`SELECT ${secret}::int`.fetch().catch((e) => e);
    expect(bad).toMatchObject({ code: 'Sql', sqlState: '22P02' });
    for (const e of [err, bad]) {
      expect(e.message).not.toContain(secret);
      expect(JSON.stringify(Object.entries(e))).not.toContain(secret);
      // The cause is the server's error reduced to name, SQLSTATE and a scrubbed message.
      expect(e.cause).toBeInstanceOf(Error);
      expect(e.cause).toMatchObject({ name: 'PostgresError', code: e.sqlState });
      expect(`${e.cause.message} ${e.cause.stack} ${JSON.stringify(Object.entries(e.cause))}`).not.toContain(secret);
    }
  });

  describe('data and integrity errors never echo bound values (classes 22 and 23)', () => {
    const sql = datatable();
    beforeAll(async () => {
      await sql`CREATE TABLE guarded (a int, b text NOT NULL, c text CHECK (length(c) < 3), t timestamptz, j jsonb, CONSTRAINT guarded_ab UNIQUE (a, b))`.execute();
      await sql`INSERT INTO guarded (a, b) VALUES (${7}, ${'xy'})`.execute();
    });

    async function failure(p: Promise<unknown>, sqlState: string): Promise<SqlError> {
      const e = await p.then(() => undefined, (x) => x);
      expect(e).toBeInstanceOf(SqlError);
      expect(e).toMatchObject({ code: 'Sql', sqlState });
      expect(e.cause).toMatchObject({ name: 'PostgresError', code: sqlState });
      return e;
    }
    const visible = (e: SqlError) => `${e.message}\n${(e.cause as Error).message}\n${(e.cause as Error).stack}`;

    it('23502 not-null: the failing row is hidden, short values included', async () => {
      const e = await failure(sql`INSERT INTO guarded (a, b, c) VALUES (${8}, ${null}, ${'qz'})`.execute(), '23502');
      expect(e.message).toContain('column "b"');
      expect(e.message).toContain('Failing row contains (***)');
      expect(visible(e)).not.toContain('qz');
    });

    it('23514 check: the failing row is hidden, the constraint kept', async () => {
      const e = await failure(sql`INSERT INTO guarded (a, b, c) VALUES (${9}, ${'kw'}, ${'qzv'})`.execute(), '23514');
      expect(e.message).toContain('guarded_c_check');
      expect(e.message).toContain('Failing row contains (***)');
      expect(visible(e)).not.toMatch(/qzv|kw/);
    });

    it('23505 on a multi-column key: column names and constraint kept, values hidden', async () => {
      const e = await failure(sql`INSERT INTO guarded (a, b) VALUES (${7}, ${'xy'})`.execute(), '23505');
      expect(e.message).toContain('guarded_ab');
      expect(e.message).toContain('Key (a, b)=(***) already exists');
      expect(visible(e)).not.toMatch(/xy|\b7\b/);
    });

    it('a Date parameter, printed the way PostgreSQL prints it', async () => {
      const d = new Date('2026-11-21T00:00:00Z');
      const e = await failure(sql`SELECT ${d}::text::int`.fetch(), '22P02');
      expect(visible(e)).not.toMatch(/2026-11-21/);
      const ms = new Date('2026-11-21T10:11:12.345Z');
      const e2 = await failure(sql`SELECT ${ms}::text::int`.fetch(), '22P02');
      expect(visible(e2)).not.toMatch(/2026-11-21/);
    });

    it('a jsonb parameter, printed with spaces and PostgreSQL key order', async () => {
      const obj = { longer: 'pq', a: 1 };
      const e = await failure(sql`SELECT (${obj}::jsonb)::text::int`.fetch(), '22P02');
      expect(visible(e)).not.toMatch(/longer|pq/);
    });

    it('a short value quoted in the message', async () => {
      const e = await failure(sql`SELECT ${'zq'}::int`.fetch(), '22P02');
      expect(e.message).toContain('"***"');
      expect(visible(e)).not.toContain('zq');
    });
  });

  it('a unique violation keeps its detail but not the parameter value', async () => {
    const err = await datatable()`INSERT INTO friend VALUES (${'u1'}, ${'Someone Else'}, ${1})`.execute().catch((e) => e);
    expect(err).toMatchObject({ code: 'Sql', sqlState: '23505' });
    expect(err.message).toContain('already exists');
    expect(err.message).not.toMatch(/\(u1\)/);
  });

  it('an aborted statement is cancelled on the server', async () => {
    const ac = new AbortController();
    const t0 = performance.now();
    const p = datatable()`SELECT pg_sleep(${10})`.fetch({ signal: ac.signal }).catch((e) => e);
    setTimeout(() => ac.abort(), 200);
    const err = await p;
    expect(err).toMatchObject({ code: 'Aborted' });
    expect(performance.now() - t0).toBeLessThan(5000);
    const already = await datatable()`SELECT 1`.fetch({ signal: AbortSignal.abort() }).catch((e) => e);
    expect(already).toMatchObject({ code: 'Aborted' });
  });
});

describe('pool', () => {
  it('reuses one pool per datatable across template functions', async () => {
    const pids = new Set<unknown>();
    for (let i = 0; i < 20; i++) pids.add(await datatable()`SELECT pg_backend_pid()`.fetchOneScalar());
    expect(pids.size).toBeLessThanOrEqual(10);
    const before = await datatable()`SELECT count(*) FROM pg_stat_activity WHERE application_name = 'millrace' AND datname = current_database()`.fetchOneScalar();
    await Promise.all(Array.from({ length: 30 }, () => datatable()`SELECT pg_sleep(0.01)`.execute()));
    const after = await datatable()`SELECT count(*) FROM pg_stat_activity WHERE application_name = 'millrace' AND datname = current_database()`.fetchOneScalar();
    expect(after).toBeLessThanOrEqual(10 + 1 /* the resource-field datatable may hold one */);
    expect(before).toBeGreaterThan(0);
  });

  it('close() ends the pools and the next statement opens a new one', async () => {
    await close();
    expect(await datatable()`SELECT count(*) FROM friend`.fetchOneScalar()).toBe(2);
  });
});

describe('injection', () => {
  // The shared list (test/helpers/hostile.ts) without NUL, which PostgreSQL's text cannot hold (tested below).
  const hostile = HOSTILE.filter((v) => !v.includes('\0'));

  it('hostile values are inert bound parameters and come back equal', async () => {
    const sql = datatable();
    for (const v of hostile) {
      const stmt = sql`SELECT ${v} AS v, (SELECT count(*) FROM friend WHERE name = ${v}) AS n`;
      expect(stmt.content).toBe('SELECT $1 AS v, (SELECT count(*) FROM friend WHERE name = $2) AS n');
      expect(await stmt.fetchOne()).toEqual({ v, n: 0 });
      expect(await sql.query('SELECT $1 AS v; SELECT $1::text AS w', v).fetch({ resultCollection: 'all_statements_first_row_scalar' })).toEqual([v, v]);
      await sql`INSERT INTO secret (v) VALUES (${v})`.execute();
    }
    expect(await sql`SELECT v FROM secret ORDER BY v`.fetch({ resultCollection: 'last_statement_all_rows_scalar' })).toEqual([...hostile].sort(byCodeUnits(await collation())));
    expect(await sql`SELECT count(*) FROM friend`.fetchOneScalar()).toBe(2);
    await sql`DELETE FROM secret`.execute();
  });

  it('a NUL character is a typed error, not an injection', async () => {
    const err = await datatable()`SELECT ${"a\0'; DROP TABLE friend; --"} AS v`.fetch().catch((e) => e);
    expect(err).toBeInstanceOf(SqlError);
    expect(err.code).toBe('Sql');
    expect(err.sqlState).toMatch(/^22/);
    expect(await datatable()`SELECT count(*) FROM friend`.fetchOneScalar()).toBe(2);
  });

  it('hostile identifiers through sql.ident are quoted', async () => {
    const sql = datatable();
    const names = ['x"; DROP TABLE friend; --', 'we"ird', "it's", 'sp ace', 'Mixed$Case;'];
    for (const name of names) {
      const stmt = sql`CREATE TABLE ${sql.ident(name)} (${sql.ident(name)} text); INSERT INTO ${sql.ident(name)} VALUES (${name}); SELECT ${sql.ident(name)} AS v FROM ${sql.ident(name)}; DROP TABLE ${sql.ident(name)}`;
      expect(stmt.content).toContain(`"${name.replace(/"/g, '""')}"`);
      expect(await stmt.fetch({ resultCollection: 'all_statements_first_row_scalar' })).toEqual([null, null, name, null]);
    }
    expect(() => sql.ident('')).toThrow(MillraceError);
    expect(() => sql.ident('a\0b')).toThrow(MillraceError);
    expect(await sql`SELECT count(*) FROM friend`.fetchOneScalar()).toBe(2);
  });

  it('property: thousands of random strings come back equal and the schema is unchanged', async () => {
    const sql = datatable();
    const schema = () => sql`SELECT table_schema, table_name FROM information_schema.tables WHERE table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1, 2`.fetch();
    const before = await schema();
    // Postgres text holds any Unicode except NUL; lone surrogates cannot be encoded as UTF-8.
    const text = fc.string({ unit: 'binary', maxLength: 40 }).filter((s) => !s.includes('\0') && (s as unknown as { isWellFormed(): boolean }).isWellFormed());
    const hostileParts = fc.constantFrom("'", '"', '\\', '$$', '$a$', ';', '--', '/*', '*/', 'DROP TABLE friend', 'E\'', '$1', '::int');
    const value = fc.oneof(text, fc.array(fc.oneof(text, hostileParts), { maxLength: 8 }).map((xs) => xs.join('')));
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(value, { minLength: 1, maxLength: 10 }), async (values) => {
        runs += values.length;
        const stmt = sql.query(`SELECT ${values.map((_, i) => `$${i + 1} AS v${i}`).join(', ')}`, ...values);
        const row = (await stmt.fetchOne()) as Record<string, unknown>;
        expect(Object.values(row)).toEqual(values);
        expect(await sql`SELECT ${values} AS arr`.fetchOneScalar()).toEqual(values);
      }),
      { numRuns: 400 },
    );
    expect(runs).toBeGreaterThan(1000);
    expect(await schema()).toEqual(before);
    expect(await sql`SELECT count(*) FROM friend`.fetchOneScalar()).toBe(2);
  });
});

async function collation(): Promise<string> {
  return (await datatable()`SELECT datcollate FROM pg_database WHERE datname = current_database()`.fetchOneScalar()) as string;
}

/** The test cluster uses the C collation: byte order, which is code-point order. */
function byCodeUnits(collate: string) {
  expect(collate).toBe('C');
  const enc = new TextEncoder();
  return (a: string, b: string) => Buffer.compare(enc.encode(a), enc.encode(b));
}
