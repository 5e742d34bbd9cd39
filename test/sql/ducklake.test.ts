/**
 * ducklake() on the embedded default (DuckDB-file catalog, data in the fs storage): parameter
 * binding, the JS type of each DuckDB type, result modes, injection, errors, lifecycle.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { configure, close, ducklake, getConfig, isMillraceError, listS3Files, SqlError } from '../../src/index.js';
import { caught, createBucket, embeddedLake, EXTENSION_DIR } from '../helpers/ducklake.js';
import { HOSTILE } from '../helpers/hostile.js';

const home = embeddedLake('ducklake');

describe('embedded default', () => {
  it('main has a DuckDB-file catalog in MILLRACE_HOME and its data under ducklake/main/ in the default storage', async () => {
    const sql = ducklake();
    await sql`CREATE TABLE friend (id VARCHAR, name VARCHAR, age INTEGER)`.execute();
    await sql`INSERT INTO friend VALUES (${'u1'}, ${'Robin'}, ${21}), (${'u2'}, ${'Ada'}, ${36})`.execute();
    expect(await sql`SELECT * FROM friend WHERE id = ${'u1'}`.fetchOne()).toEqual({ id: 'u1', name: 'Robin', age: 21 });
    expect(getConfig().ducklakes.main!.catalog).toEqual({ type: 'duckdb', path: join(home, 'ducklake', 'main.ducklake') });
    const files: string[] = [];
    for await (const f of listS3Files({ prefix: 'ducklake/main/' })) files.push(f.s3);
    expect(files.some((k) => k.startsWith('ducklake/main/main/friend/') && k.endsWith('.parquet'))).toBe(true);
  });
});

describe('parameters', () => {
  const sql = ducklake();
  it.each([
    ['integer', 42, 'BIGINT', 42],
    ['float', 2.5, 'DOUBLE', 2.5],
    ['bigint', 9007199254740993n, 'BIGINT', 9007199254740993n],
    ['string', 'héllo ✓', 'VARCHAR', 'héllo ✓'],
    ['boolean', true, 'BOOLEAN', true],
    ['Date', new Date('2026-11-21T10:11:12.345Z'), 'TIMESTAMP WITH TIME ZONE', new Date('2026-11-21T10:11:12.345Z')],
    ['int array', [1, 2, 3], 'BIGINT[]', [1, 2, 3]],
    ['mixed numbers', [1, 2.5], 'DOUBLE[]', [1, 2.5]],
    ['string array', ['a', 'b'], 'VARCHAR[]', ['a', 'b']],
    ['Uint8Array', new Uint8Array([0, 1, 255]), 'BLOB', new Uint8Array([0, 1, 255])],
    ['null', null, '"NULL"', null],
    ['undefined', undefined, '"NULL"', null],
    // The same inference as datatable() (the shared compiler's): these used to differ on DuckDB.
    ['integer beyond 2^53', 2 ** 60, 'BIGINT', 2n ** 60n],
    ['int array with nulls', [1, null, undefined], 'BIGINT[]', [1, null, null]],
    ['string array with a null', [null, 'a'], 'VARCHAR[]', [null, 'a']],
    // JSON text (VARCHAR with the JSON alias, which typeof() and a bare SELECT do not keep), as objects.
    ['all-null array', [null, null], 'VARCHAR', '[null,null]'],
    ['empty array', [], 'VARCHAR', '[]'],
  ])('%s binds as %s', async (_label, value, type, back) => {
    const row = await sql`SELECT ${value} AS v, typeof(${value}) AS t`.fetchOne();
    expect(row!.t).toBe(type);
    if (back instanceof Uint8Array) expect(new Uint8Array(row!.v as Uint8Array)).toEqual(back);
    else expect(row!.v).toEqual(back);
  });

  it('objects bind as JSON text that json functions read, and ::JSON makes it JSON', async () => {
    const obj = { a: 1, b: ['x', 'y'], c: { d: null } };
    expect(await sql`SELECT ${obj}->>'$.b[1]' AS v`.fetchOneScalar()).toBe('y');
    expect(await sql`SELECT ${obj}::JSON AS v`.fetchOneScalar()).toEqual(obj);
    expect(await sql`SELECT ${[{ a: 1 }, { a: 2 }]}::JSON AS v`.fetchOneScalar()).toEqual([{ a: 1 }, { a: 2 }]);
  });

  it('an integer beyond BIGINT is a typed error, not a silent DOUBLE', async () => {
    expect((await caught(sql`SELECT ${1e20} AS v`.fetch())).code).toBe('InvalidArgument');
    expect((await caught(sql`SELECT ${2n ** 64n} AS v`.fetch())).code).toBe('InvalidArgument');
  });

  it('an S3Object URI of a configured storage is its storage URL; other s3:// strings stay strings', async () => {
    await sql`COPY (SELECT 7 AS n) TO ${{ s3: 'uris/seven.parquet' }} (FORMAT parquet)`.execute();
    expect(await sql`SELECT n FROM read_parquet(${'s3:///uris/seven.parquet'})`.fetchOneScalar()).toBe(7);
    await sql`COPY (SELECT 8 AS n) TO ${'s3:///uris/eight.parquet'} (FORMAT parquet)`.execute();
    expect(await sql`SELECT n FROM read_parquet(${{ s3: 'uris/eight.parquet' }})`.fetchOneScalar()).toBe(8);
    // A bucket millrace does not manage, an unknown storage, a malformed URI: ordinary strings.
    for (const s of ['s3://some-real-bucket/k.parquet', 's3://nope/k.parquet', 's3:///', 's3://x', 's3:///../k']) {
      expect(await sql`SELECT ${s} AS v`.fetchOneScalar()).toBe(s);
    }
  });

  it('an explicit ::type wins over inference', async () => {
    expect(await sql`SELECT typeof(${'2026-11-21'}::DATE) AS t`.fetchOneScalar()).toBe('DATE');
    expect(await sql`SELECT ${'2026-11-21'}::DATE AS d`.fetchOneScalar()).toBe('2026-11-21');
    expect(await sql`SELECT typeof(CAST(${7} AS INTEGER)) AS t`.fetchOneScalar()).toBe('INTEGER');
    expect(await sql`SELECT ${'12.50'}::DECIMAL(10,2) AS d`.fetchOneScalar()).toBe(12.5);
  });

  it('the statement text has placeholders and args carry the values', () => {
    const s = sql`SELECT * FROM friend WHERE id = ${'u1'} AND age > ${18}`;
    expect(s.content).toBe('SELECT * FROM friend WHERE id = $1 AND age > $2');
    expect(s.args).toEqual({ arg1: 'u1', arg2: 18 });
  });
});

describe('result types', () => {
  const sql = ducklake();
  it('maps each DuckDB type to its documented JS type', async () => {
    const row = await sql`SELECT
      true AS bool, 1::TINYINT AS tiny, 2::SMALLINT AS small, 3::INTEGER AS int, 4::BIGINT AS big,
      9007199254740993::BIGINT AS big_unsafe, 5::HUGEINT AS huge, 6::UBIGINT AS ubig,
      1.5::FLOAT AS flt, 2.25::DOUBLE AS dbl, 12.34::DECIMAL(10,2) AS dec_small, 12345678901234567.89::DECIMAL(20,2) AS dec_big,
      'txt' AS str, DATE '2026-11-21' AS d, TIME '10:11:12' AS tm, TIMESTAMP '2026-11-21 10:11:12.5' AS ts,
      TIMESTAMPTZ '2026-11-21 10:11:12+00' AS tstz, 'infinity'::TIMESTAMP AS ts_inf, INTERVAL 3 DAY AS iv,
      [1, 2] AS list, ['a', NULL] AS list_null, [1, 2]::INTEGER[2] AS arr, {'x': 1, 'y': 'z'} AS struct, MAP {'k': 1} AS map,
      from_hex('01ff') AS blob, '{"a":[1,{"b":2}]}'::JSON AS json, '00000000-0000-0000-0000-000000000001'::UUID AS uuid,
      'b'::ENUM('a','b') AS enum, NULL AS nul, {'j': '{"k":1}'::JSON} AS nested_json`.fetchOne();
    expect(row).toEqual({
      bool: true, tiny: 1, small: 2, int: 3, big: 4, big_unsafe: 9007199254740993n, huge: 5, ubig: 6,
      flt: 1.5, dbl: 2.25, dec_small: 12.34, dec_big: '12345678901234567.89',
      str: 'txt', d: '2026-11-21', tm: '10:11:12', ts: new Date('2026-11-21T10:11:12.500Z'),
      tstz: new Date('2026-11-21T10:11:12Z'), ts_inf: 'infinity', iv: '3 days',
      list: [1, 2], list_null: ['a', null], arr: [1, 2], struct: { x: 1, y: 'z' }, map: { k: 1 },
      blob: expect.any(Uint8Array), json: { a: [1, { b: 2 }] }, uuid: '00000000-0000-0000-0000-000000000001',
      enum: 'b', nul: null, nested_json: { j: { k: 1 } },
    });
    expect([...(row!.blob as Uint8Array)]).toEqual([1, 255]);
    // Rows are JSON-serializable when no value exceeds 2^53 (what a Windmill script returns).
    expect(() => JSON.stringify({ ...row, big_unsafe: undefined, huge: row!.huge })).not.toThrow();
  });

  it('supports every result-collection mode, multi-statement SQL included', async () => {
    const s = sql`SELECT 1 AS a UNION ALL SELECT 2 ORDER BY a; SELECT 'x' AS b`;
    expect(await s.fetch()).toEqual([{ b: 'x' }]);
    expect(await s.fetch({ resultCollection: 'all_statements_all_rows' })).toEqual([[{ a: 1 }, { a: 2 }], [{ b: 'x' }]]);
    expect(await s.fetch({ resultCollection: 'all_statements_first_row' })).toEqual([{ a: 1 }, { b: 'x' }]);
    expect(await s.fetch({ resultCollection: 'all_statements_all_rows_scalar' })).toEqual([[1, 2], ['x']]);
    expect(await s.fetch({ resultCollection: 'all_statements_first_row_scalar' })).toEqual([1, 'x']);
    expect(await s.fetch({ resultCollection: 'last_statement_first_row' })).toEqual({ b: 'x' });
    expect(await s.fetch({ resultCollection: 'last_statement_all_rows_scalar' })).toEqual(['x']);
    expect(await s.fetch({ resultCollection: 'last_statement_first_row_scalar' })).toBe('x');
    expect(await s.fetch({ resultCollection: 'legacy' })).toEqual([[{ a: 1 }, { a: 2 }], [{ b: 'x' }]]);
    expect(await sql`SELECT 1 AS a WHERE false`.fetchOne()).toBeNull();
  });

  it('runs several statements in one transaction: a failure leaves nothing behind', async () => {
    await sql`CREATE TABLE tx (id INTEGER)`.execute();
    const e = await caught(sql`INSERT INTO tx VALUES (1); INSERT INTO tx VALUES ('not a number')`.execute());
    expect(e.code).toBe('Sql');
    expect(await sql`SELECT count(*) FROM tx`.fetchOneScalar()).toBe(0);
    // The connection is clean afterwards.
    await sql`INSERT INTO tx VALUES (1)`.execute();
    expect(await sql`SELECT count(*) FROM tx`.fetchOneScalar()).toBe(1);
  });
});

describe('schemas, nesting, identifiers', () => {
  it('name:schema selects the schema with USE', async () => {
    await ducklake()`CREATE SCHEMA IF NOT EXISTS analytics`.execute();
    const a = ducklake('main:analytics');
    await a`CREATE TABLE events (n INTEGER)`.execute();
    await a`INSERT INTO events VALUES (${1}), (${2})`.execute();
    expect(await ducklake()`SELECT count(*) FROM analytics.events`.fetchOneScalar()).toBe(2);
    expect(await a`SELECT current_schema() AS s`.fetchOneScalar()).toBe('analytics');
    expect(await ducklake()`SELECT current_schema() AS s`.fetchOneScalar()).toBe('main');
  });

  it('nests statements with renumbered parameters and quotes identifiers', async () => {
    const sql = ducklake();
    const where = sql`age > ${20}`;
    const rows = await sql`SELECT name FROM ${sql.ident('main.friend')} WHERE ${where} AND name <> ${'nobody'} ORDER BY name`.fetch();
    expect(rows).toEqual([{ name: 'Ada' }, { name: 'Robin' }]);
  });
});

describe('injection', () => {
  // Stored and read back verbatim, the table surviving: test/sql-injection.test.ts, over every engine.
  it('hostile values come back verbatim through a JSON parameter (the batch path)', async () => {
    const sql = ducklake();
    const back = await sql`SELECT list(j->>'$' ORDER BY k::INTEGER) AS v FROM json_each(${HOSTILE}::JSON) AS t(k, j)`.fetchOneScalar();
    expect(back).toEqual(HOSTILE);
    expect(await sql`SELECT count(*) FROM friend`.fetchOneScalar()).toBe(2);
  });
});

describe('concurrency in one process', () => {
  it('runs many statements at once on one lake, serialized per connection', async () => {
    const sql = ducklake();
    await sql`CREATE TABLE counter (n INTEGER)`.execute();
    await Promise.all(Array.from({ length: 40 }, (_, i) => sql`INSERT INTO counter VALUES (${i})`.execute()));
    const reads = await Promise.all(Array.from({ length: 20 }, () => sql`SELECT count(*) FROM counter`.fetchOneScalar()));
    expect(reads.every((n) => n === 40)).toBe(true);
    expect(await sql`SELECT sum(n) FROM counter`.fetchOneScalar()).toBe((39 * 40) / 2);
  });
});

describe('errors', () => {
  it('an SQL error is a SqlError with the text, DuckDB\'s error type, and no parameter values', async () => {
    const secret = 'hunter2-parameter-value';
    const e = await caught(ducklake()`SELECT * FROM no_such_table WHERE x = ${secret}`.fetch());
    expect(e).toBeInstanceOf(SqlError);
    const s = e as SqlError;
    expect(s.code).toBe('Sql');
    expect(s.engine).toBe('duckdb');
    expect(s.sqlState).toBe('Catalog');
    expect(s.sql).toBe('SELECT * FROM no_such_table WHERE x = $1');
    expect(`${s.message} ${s.sql} ${String(s.cause)}`).not.toContain(secret);
  });

  it('values DuckDB echoes in conversion errors are scrubbed from the message and the cause', async () => {
    const sql = ducklake();
    const cases: [Promise<unknown>, string[]][] = [
      [sql`SELECT (${'not-a-date'})::DATE`.fetch(), ['not-a-date']],
      [sql`SELECT CAST(${'abc'} AS INTEGER)`.fetch(), ['abc']],
      [sql`SELECT CAST(${'xy'} AS INTEGER)`.fetch(), ['xy']],
      [sql`SELECT ${'2026-13-45 10:00'}::TIMESTAMP`.fetch(), ['2026-13-45']],
      [sql`SELECT ${{ a: 'zz' }}::INTEGER`.fetch(), ['zz']],
      [sql`SELECT ${[300, 2]}::TINYINT[]`.fetch(), ['300']],
      [sql`SELECT ${2 ** 60}::INTEGER`.fetch(), ['1152921504606846976']],
    ];
    // Concurrent statements run on connections of their own and settle in any order: catch them all now.
    const errors = cases.map(([p, values]) => [caught(p), values] as const);
    for (const [p, values] of errors) {
      const e = (await p) as SqlError;
      expect(e).toBeInstanceOf(SqlError);
      expect(e.sqlState).toBe('Conversion');
      expect(e.message).toContain('***');
      const cause = e.cause as Error & { code?: string };
      expect(cause).toBeInstanceOf(Error);
      expect(cause.code).toBe('Conversion');
      for (const v of values) {
        expect(e.message).not.toContain(v);
        expect(cause.message).not.toContain(v);
        expect(String(cause.stack)).not.toContain(v);
      }
    }
  });

  it('an unknown lake name is a typed error listing the configured lakes', async () => {
    const e = await caught(ducklake('nope')`SELECT 1`.fetch());
    expect(e.code).toBe('Config');
    expect(e.message).toContain('"nope"');
    expect(e.message).toContain('main');
  });

  it('aborts with a signal', async () => {
    const ac = new AbortController();
    ac.abort();
    const e = await caught(ducklake()`SELECT 1`.fetch({ signal: ac.signal }));
    expect(e.code).toBe('Aborted');
  });

  it('interrupts a running statement on abort', async () => {
    const ac = new AbortController();
    const p = ducklake()`SELECT count(*) FROM range(10000000000) a`.fetch({ signal: ac.signal });
    setTimeout(() => ac.abort(), 200);
    const e = await caught(p);
    expect(e.code).toBe('Aborted');
    expect(await ducklake()`SELECT 1 AS one`.fetchOneScalar()).toBe(1);
  });
});

describe('bad configuration (each in a child process, so this file keeps its lake)', () => {
  const runner = resolve(__dirname, '..', 'helpers', 'ducklake-child.ts');
  function child(scenario: string, env: Record<string, string> = {}) {
    const started = Date.now();
    const r = spawnSync(process.execPath, ['--import', 'tsx', runner, scenario], {
      env: { ...process.env, MILLRACE_HOME: mkdtempSync(join(tmpdir(), 'millrace-dlchild-')), EXT_DIR: EXTENSION_DIR, ...env },
      encoding: 'utf8',
      timeout: 60_000,
    });
    return { ...r, ms: Date.now() - started, out: JSON.parse(r.stdout.trim().split('\n').pop() || '{}') as Record<string, unknown> };
  }

  it('a missing extension is ExtensionMissing, naming it and how to provide it', () => {
    const r = child('missing-extension');
    expect(r.status).toBe(0);
    expect(r.out.code).toBe('ExtensionMissing');
    expect(r.out.message).toContain('"ducklake"');
    expect(r.out.message).toContain('npx millrace-duckdb-extensions --dir ');
  });

  it('an unreachable PostgreSQL catalog is a Connection error without the password, and no hang', () => {
    const r = child('unreachable-catalog');
    expect(r.status).toBe(0);
    expect(r.out.code).toBe('Connection');
    expect(JSON.stringify(r.out)).not.toContain('s3cr3t-pw');
    expect(r.ms).toBeLessThan(30_000);
  });

  it('a script that never calls close() exits promptly', () => {
    const r = child('no-close');
    expect(r.status).toBe(0);
    expect(r.out.rows).toBe(3);
    expect(r.ms).toBeLessThan(15_000);
  });

  it('importing the entry point loads no DuckDB', () => {
    const r = child('import-only');
    expect(r.status).toBe(0);
    expect(r.out.duckdbLoaded).toBe(false);
  });

  it('an S3 storage without keys uses the credential chain (aws extension): keys from the environment', async () => {
    const s3 = inject('s3');
    await createBucket(s3, 'credential-chain');
    const r = child('credential-chain', {
      BUCKET: 'credential-chain', S3_ENDPOINT: s3.endPoint,
      AWS_ACCESS_KEY_ID: s3.accessKey, AWS_SECRET_ACCESS_KEY: s3.secretKey, AWS_REGION: s3.region,
    });
    expect(r.stderr).not.toMatch(/Error/);
    expect(r.out).toMatchObject({ n: 42 });
    expect(r.out.stored).toBeGreaterThan(0);
  });
});

describe('lifecycle', () => {
  it('close() releases the instance and the next statement reopens it', async () => {
    await close();
    expect(await ducklake()`SELECT count(*) FROM friend`.fetchOneScalar()).toBe(2);
  });

  it('configure() drops the instance and its lakes', async () => {
    await configure({ duckdb: { extensionDirectory: EXTENSION_DIR, settings: { threads: 1 } } });
    expect(await ducklake()`SELECT current_setting('threads') AS t`.fetchOneScalar()).toBe(1);
    expect(isMillraceError(await caught(ducklake()`SELECT * FROM nope`.fetch()), 'Sql')).toBe(true);
  });
});
