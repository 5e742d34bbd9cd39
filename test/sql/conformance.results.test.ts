/**
 * Result-modes conformance over every SQL engine (test/helpers/engines.ts): fetch(), fetchOne(),
 * fetchOneScalar(), execute(), the nine result collections, `.stream()`, `.query()`, awaiting a
 * statement, multi-statement texts, empty results, and errors as MillraceError with the same code
 * on both engines where they mean the same (the engine's own code, SQLSTATE or DuckDB's error
 * type, in `sqlState`).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { MillraceError, SqlError } from '../../src/index.js';
import { caught, ENGINES, useEngines } from '../helpers/engines.js';

useEngines('conformance_results');

const NAMES = ['a', 'b', 'c', 'd', 'e'];
const ALL = NAMES.map((name, i) => ({ id: i + 1, name }));
const range = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

describe.each(ENGINES)('$name', (engine) => {
  const sql = () => engine.sql();
  const { int, text } = engine.types;

  beforeAll(async () => {
    const s = sql();
    await s`CREATE TABLE items (id ${s.raw(int)}, name ${s.raw(text)})`.execute();
    for (const row of ALL) await s`INSERT INTO items VALUES (${row.id}, ${row.name})`.execute();
  });

  it('fetch() gives the rows of the last statement, plain objects in order', async () => {
    const rows = await sql()`SELECT id, name FROM items ORDER BY id`.fetch();
    expect(rows).toStrictEqual(ALL);
    expect(Object.getPrototypeOf(rows[0])).toBe(Object.prototype);
  });

  it('fetchOne() gives the first row, fetchOneScalar() its first column', async () => {
    const s = sql();
    expect(await s`SELECT id, name FROM items WHERE id >= ${3} ORDER BY id`.fetchOne()).toStrictEqual({ id: 3, name: 'c' });
    expect(await s`SELECT name, id FROM items WHERE id >= ${3} ORDER BY id`.fetchOneScalar()).toBe('c');
    expect(await s`SELECT count(*) FROM items`.fetchOneScalar()).toBe(5);
  });

  it('execute() runs the statement and gives nothing', async () => {
    const s = sql();
    await s`CREATE TABLE executed (v ${s.raw(int)})`.execute();
    expect(await s`INSERT INTO executed VALUES (${7}), (${8})`.execute()).toBeUndefined();
    expect(await s`SELECT v FROM executed ORDER BY v`.fetch()).toStrictEqual([{ v: 7 }, { v: 8 }]);
  });

  it('the nine result collections over a multi-statement text with parameters', async () => {
    const stmt = sql()`SELECT id FROM items WHERE id <= ${2} ORDER BY id; SELECT name FROM items WHERE id = ${3}`;
    const first = [{ id: 1 }, { id: 2 }];
    const last = [{ name: 'c' }];
    const expected = {
      last_statement_all_rows: last,
      last_statement_first_row: { name: 'c' },
      last_statement_all_rows_scalar: ['c'],
      last_statement_first_row_scalar: 'c',
      all_statements_all_rows: [first, last],
      all_statements_first_row: [{ id: 1 }, { name: 'c' }],
      all_statements_all_rows_scalar: [[1, 2], ['c']],
      all_statements_first_row_scalar: [1, 'c'],
      legacy: [first, last],
    } as const;
    for (const [resultCollection, want] of Object.entries(expected)) {
      expect(await stmt.fetch({ resultCollection: resultCollection as keyof typeof expected }), resultCollection).toStrictEqual(want);
    }
    expect(await sql()`SELECT id FROM items WHERE id <= ${2} ORDER BY id`.fetch({ resultCollection: 'legacy' })).toStrictEqual(first);
  });

  it('a multi-statement text runs in order in one transaction: a failure rolls every statement back', async () => {
    const s = sql();
    const rows = await s`CREATE TABLE multi (v ${s.raw(int)}); INSERT INTO multi VALUES (${1}); INSERT INTO multi VALUES (${2}); SELECT v FROM multi ORDER BY v`.fetch();
    expect(rows).toStrictEqual([{ v: 1 }, { v: 2 }]);
    const err = await caught(s`INSERT INTO multi VALUES (${3}); SELECT * FROM no_such_table`.fetch());
    expect(err.code).toBe('Sql');
    expect(await s`SELECT count(*) FROM multi`.fetchOneScalar()).toBe(2);
  });

  it('empty results: [], null, and per statement', async () => {
    const s = sql();
    const none = () => s`SELECT id FROM items WHERE id > ${100}`;
    expect(await none().fetch()).toStrictEqual([]);
    expect(await none().fetchOne()).toBeNull();
    expect(await none().fetchOneScalar()).toBeNull();
    expect(await none()).toStrictEqual([]);
    expect(await none().fetch({ resultCollection: 'last_statement_all_rows_scalar' })).toStrictEqual([]);
    const two = s`SELECT id FROM items WHERE id > ${100}; SELECT id FROM items WHERE id = ${1}`;
    expect(await two.fetch({ resultCollection: 'all_statements_first_row' })).toStrictEqual([null, { id: 1 }]);
    expect(await two.fetch({ resultCollection: 'all_statements_all_rows_scalar' })).toStrictEqual([[], [1]]);
    const rows: unknown[] = [];
    for await (const row of none().stream()) rows.push(row);
    expect(rows).toStrictEqual([]);
  });

  it('.stream() yields every row in order, batchSize at a time', async () => {
    for (const batchSize of [1, 7, 100, 1000]) {
      const ids: number[] = [];
      for await (const row of sql()<{ i: number }>`SELECT i FROM generate_series(1, ${100}) AS t(i) ORDER BY i`.stream({ batchSize })) ids.push(row.i);
      expect(ids, `batchSize ${batchSize}`).toStrictEqual(range(100));
    }
  });

  it('.stream() stopped early releases its connection, again and again', async () => {
    // More early stops than a pool holds connections: a stream that kept its connection would starve the next.
    for (let round = 0; round < 15; round++) {
      const seen: number[] = [];
      for await (const row of sql()<{ i: number }>`SELECT i FROM generate_series(1, ${10000}) AS t(i) ORDER BY i`.stream({ batchSize: 10 })) {
        seen.push(row.i);
        if (seen.length === 3) break;
      }
      expect(seen).toStrictEqual([1, 2, 3]);
    }
    expect(await sql()`SELECT count(*) FROM items`.fetchOneScalar()).toBe(5);
  });

  it('.stream() reads one statement, and refuses a bad batchSize', async () => {
    const s = sql();
    const many = async () => {
      for await (const _ of s`SELECT 1 AS a; SELECT 2 AS b`.stream()) expect.unreachable();
    };
    expect((await caught(many)).code).toBe('InvalidArgument');
    const bad = async () => {
      for await (const _ of s`SELECT 1 AS a`.stream({ batchSize: 0 })) expect.unreachable();
    };
    expect((await caught(bad)).code).toBe('InvalidArgument');
  });

  it('.query(text, ...params) takes $n-style SQL', async () => {
    const s = sql();
    expect(await s.query('SELECT name FROM items WHERE id = $1 OR id = $2 ORDER BY id', 2, 4).fetch()).toStrictEqual([{ name: 'b' }, { name: 'd' }]);
    expect(await s.query("SELECT '$1' AS quoted, $1 AS v", 'x').fetchOne()).toStrictEqual({ quoted: '$1', v: 'x' });
    expect(s.query('SELECT $1 AS v', 5).content).toBe('SELECT $1 AS v');
    expect((await caught(() => s.query('SELECT $2 AS v', 1).fetch())).code).toBe('InvalidArgument');
  });

  it('a statement is thenable: await runs it once with the default mode', async () => {
    const s = sql();
    expect(await s`SELECT id FROM items WHERE id < ${3} ORDER BY id`).toStrictEqual([{ id: 1 }, { id: 2 }]);
    await s`CREATE TABLE awaited (v ${s.raw(int)})`;
    const insert = s`INSERT INTO awaited VALUES (${1})`;
    await insert;
    await insert;
    expect(await s`SELECT count(*) FROM awaited`.fetchOneScalar()).toBe(1);
    await insert.execute();
    expect(await s`SELECT count(*) FROM awaited`.fetchOneScalar()).toBe(2);
  });

  /** Errors that mean the same on both engines: one code, the engine's own code in sqlState. */
  const SQL_ERRORS = [
    { what: 'a syntax error', run: () => sql()`SELEC ${1}`, sqlState: { postgres: '42601', duckdb: 'Parser' } },
    { what: 'an unknown table', run: () => sql()`SELECT * FROM no_such_table WHERE id = ${1}`, sqlState: { postgres: '42P01', duckdb: 'Catalog' } },
    { what: 'an unknown column', run: () => sql()`SELECT no_such_column FROM items WHERE id = ${1}`, sqlState: { postgres: '42703', duckdb: 'Binder' } },
    { what: 'a value the type cannot read', run: () => sql()`SELECT ${'not-a-number-xyz'}::${sql().raw(engine.types.int)} AS v`, sqlState: { postgres: '22P02', duckdb: 'Conversion' } },
  ];

  it.each(SQL_ERRORS)('$what is a SqlError (code Sql) with the statement text and no values', async ({ run, sqlState }) => {
    const stmt = run();
    const err = await caught(stmt.fetch());
    expect(err).toBeInstanceOf(SqlError);
    expect(err.code).toBe('Sql');
    const e = err as SqlError;
    expect(e.engine).toBe(engine.engine);
    expect(e.sqlState).toBe(sqlState[engine.engine]);
    expect(e.sql).toBe(stmt.content);
    expect(e.message).not.toContain('not-a-number-xyz');
  });

  it('a NOT NULL violation is Sql on both', async () => {
    const s = sql();
    await s`CREATE TABLE required (v ${s.raw(int)} NOT NULL)`.execute();
    const err = (await caught(s`INSERT INTO required VALUES (${null})`.execute())) as SqlError;
    expect(err.code).toBe('Sql');
    expect(err.sqlState).toBe({ postgres: '23502', duckdb: 'Constraint' }[engine.engine]);
    expect(await s`SELECT count(*) FROM required`.fetchOneScalar()).toBe(0);
  });

  it('misuse is InvalidArgument, an aborted signal Aborted, on both', async () => {
    const s = sql();
    expect((await caught(() => s`SELECT 1 AS a`.fetch({ resultCollection: 'nope' as never }))).code).toBe('InvalidArgument');
    expect((await caught(() => s`   `.fetch())).code).toBe('InvalidArgument');
    expect((await caught(() => s`SELECT '${1}' AS quoted; SELECT 2 AS b`.fetch())).code).toBe('InvalidArgument');
    expect(() => s.ident('')).toThrow(MillraceError);
    const signal = AbortSignal.abort();
    expect((await caught(s`SELECT 1 AS a`.fetch({ signal }))).code).toBe('Aborted');
    expect(await s`SELECT 1 AS a`.fetchOneScalar()).toBe(1);
  });
});
