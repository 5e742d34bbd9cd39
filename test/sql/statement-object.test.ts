/** A statement behaves like windmill-client's plain object and like a postgres.js query: fields, JSON, unbound methods, await. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, expect, inject, beforeAll, afterAll } from 'vitest';
import { configure } from '../../src/config.js';
import { close } from '../../src/runtime.js';
import { datatable } from '../../src/sql/datatable.js';
import { freshDatabase } from '../setup/pgdb.js';

process.env.MILLRACE_HOME = mkdtempSync(join(tmpdir(), 'millrace-stmt-'));

let sql: ReturnType<typeof datatable>;

beforeAll(async () => {
  await configure({ datatables: { main: await freshDatabase(inject('pgUrl'), 'millrace_statement_object') } });
  sql = datatable();
  await sql`CREATE TABLE log (id serial PRIMARY KEY, v text)`.execute();
});

afterAll(() => close());

const count = () => sql`SELECT count(*) AS n FROM log`.fetchOneScalar();

describe('a statement as windmill-client’s object', () => {
  it('destructures and serializes to { content, args }', () => {
    const stmt = sql`SELECT * FROM log WHERE v = ${'a'} AND id > ${2}`;
    const { content, args } = stmt;
    expect(content).toBe('SELECT * FROM log WHERE v = $1 AND id > $2');
    expect(args).toEqual({ arg1: 'a', arg2: 2 });
    expect(JSON.parse(JSON.stringify(stmt))).toEqual({ content, args });
  });

  it('lends its methods unbound', async () => {
    const stmt = sql`SELECT ${'x'} AS v`;
    const { fetch, fetchOne, fetchOneScalar, execute } = stmt;
    expect(await fetch()).toEqual([{ v: 'x' }]);
    expect(await fetchOne()).toEqual({ v: 'x' });
    expect(await fetchOneScalar()).toBe('x');
    await expect(execute()).resolves.toBeUndefined();
    const f = stmt.fetchOne;
    expect(await f()).toEqual({ v: 'x' });
  });
});

describe('a statement as a postgres.js query', () => {
  it('runs when awaited, with the default result mode', async () => {
    const before = await count();
    const rows = await sql`INSERT INTO log (v) VALUES (${'awaited'}) RETURNING v`;
    expect(rows).toEqual([{ v: 'awaited' }]);
    expect(await count()).toBe(before + 1);
  });

  it('runs once however often it is awaited, and works with Promise.all', async () => {
    const before = await count();
    const stmt = sql`INSERT INTO log (v) VALUES (${'once'}) RETURNING id`;
    const [a, b] = await Promise.all([stmt, stmt]);
    const c = await stmt;
    expect(a).toBe(b);
    expect(c).toBe(a);
    expect(await count()).toBe(before + 1);
    const [x, y] = await Promise.all([sql`SELECT 1 AS v`, sql`SELECT 2 AS v`]);
    expect([x, y]).toEqual([[{ v: 1 }], [{ v: 2 }]]);
  });

  it('is run by an async function that returns it (the thenable is awaited)', async () => {
    const before = await count();
    const insert = async () => sql`INSERT INTO log (v) VALUES (${'returned'})`;
    await insert();
    expect(await count()).toBe(before + 1);
  });

  it('rejects an awaited failure like fetch()', async () => {
    await expect(sql`SELECT * FROM no_such_table`).rejects.toMatchObject({ code: 'Sql', sqlState: '42P01' });
    const failing = sql`SELECT * FROM no_such_table`;
    await expect(failing.then(() => 'ok', () => 'caught')).resolves.toBe('caught');
  });

  it('is not run by building it, by reading it, or by fetching it', async () => {
    const before = await count();
    const stmt = sql`INSERT INTO log (v) VALUES (${'lazy'})`;
    void stmt.content;
    void JSON.stringify(stmt);
    expect(await count()).toBe(before);
    await stmt.execute();
    await stmt.execute();
    expect(await count()).toBe(before + 2);
  });
});
