/**
 * The PostgreSQL type -> JS table of the README, type by type, on the real server and on the
 * embedded PGlite (which must give the same values), plus the round trip of every JS value kind.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, expect, inject, beforeAll, afterAll } from 'vitest';
import { configure } from '../../src/config.js';
import { close } from '../../src/runtime.js';
import { datatable } from '../../src/sql/datatable.js';
import { freshDatabase } from '../setup/pgdb.js';

const home = mkdtempSync(join(tmpdir(), 'millrace-dt-types-'));
process.env.MILLRACE_HOME = home;

beforeAll(async () => {
  const url = await freshDatabase(inject('pgUrl'), 'millrace_datatable_types');
  await configure({ datatables: { server: url, embedded: { type: 'embedded', dataDir: join(home, 'pglite') } } });
});

afterAll(async () => {
  await close();
});

const bytes = new Uint8Array([0, 1, 127, 128, 255]);

/** [PostgreSQL expression, what a row gives in JS]: the README table. */
const TYPE_TABLE: [string, string, unknown][] = [
  ['int2', `32767::int2`, 32767],
  ['int4', `'-2147483648'::int4`, -2147483648],
  ['int8 (safe)', `9007199254740991::int8`, 9007199254740991],
  ['int8 (beyond 2^53)', `9223372036854775807::int8`, 9223372036854775807n],
  ['count(*)', `(SELECT count(*) FROM generate_series(1, 3))`, 3],
  ['numeric', `123456789012345678901234567890.123456789::numeric`, '123456789012345678901234567890.123456789'],
  ['float4', `1.5::float4`, 1.5],
  ['float8', `0.1::float8`, 0.1],
  ['float8 NaN', `'NaN'::float8`, NaN],
  ['float8 Infinity', `'-Infinity'::float8`, -Infinity],
  ['bool', `true`, true],
  ['text', `'héllo'::text`, 'héllo'],
  ['varchar', `'abc'::varchar(5)`, 'abc'],
  ['uuid', `'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid`, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'],
  ['json', `'{"a":[1,2,{"b":null}]}'::json`, { a: [1, 2, { b: null }] }],
  ['jsonb', `'{"b":1,"a":"x"}'::jsonb`, { a: 'x', b: 1 }],
  ['bytea', `'\\x00017f80ff'::bytea`, bytes],
  ['date', `'2024-02-29'::date`, '2024-02-29'],
  ['timestamp', `'2024-02-29 13:14:15.678'::timestamp`, new Date('2024-02-29T13:14:15.678Z')],
  ['timestamptz', `'2024-02-29 13:14:15.678+02'::timestamptz`, new Date('2024-02-29T11:14:15.678Z')],
  ['timestamp infinity', `'infinity'::timestamp`, 'infinity'],
  ['time', `'13:14:15'::time`, '13:14:15'],
  ['interval', `'1 day 2 hours 3 minutes'::interval`, '1 day 02:03:00'],
  ['int4[]', `ARRAY[1, 2, NULL]::int4[]`, [1, 2, null]],
  ['int8[]', `ARRAY[1, 9223372036854775807]::int8[]`, [1, 9223372036854775807n]],
  ['text[]', `ARRAY['a', 'b,c', 'd"e', NULL]`, ['a', 'b,c', 'd"e', null]],
  ['float8[]', `ARRAY[1.5, 2]::float8[]`, [1.5, 2]],
  ['bool[]', `ARRAY[true, false]`, [true, false]],
  ['numeric[]', `ARRAY[1.10, 2]::numeric[]`, ['1.10', '2']],
  ['date[]', `ARRAY['2024-01-01'::date]`, ['2024-01-01']],
  ['timestamptz[]', `ARRAY['2024-01-01 00:00:00+00'::timestamptz]`, [new Date('2024-01-01T00:00:00Z')]],
  ['jsonb[]', `ARRAY['{"a":1}'::jsonb]`, [{ a: 1 }]],
  ['text[] with escapes', `ARRAY['back\\slash', '', 'NULL', '{x}', ' sp ']`, ['back\\slash', '', 'NULL', '{x}', ' sp ']],
  ['int4[] lower bound', `'[0:1]={5,6}'::int4[]`, [5, 6]],
  ['int4[][]', `ARRAY[[1, 2], [3, 4]]::int4[]`, [[1, 2], [3, 4]]],
  ['null', `NULL::int`, null],
];

for (const engine of ['server', 'embedded'] as const) {
  describe(`${engine}: PostgreSQL type -> JS`, () => {
    for (const [name, expr, expected] of TYPE_TABLE) {
      it(name, async () => {
        const v = await datatable(engine).query(`SELECT ${expr} AS v`).fetchOneScalar();
        expect(v).toEqual(expected);
        if (expected instanceof Uint8Array) expect(Object.getPrototypeOf(v)).toBe(Uint8Array.prototype);
      });
    }
  });

  describe(`${engine}: JS value -> PostgreSQL -> JS round trip`, () => {
    // [name, value, pg_typeof, what comes back when not the value itself]
    const cases: [string, unknown, string, unknown?][] = [
      ['integer', 42, 'bigint'],
      ['negative integer', -7, 'bigint'],
      ['float', 3.25, 'double precision'],
      ['bigint beyond 2^53', 2n ** 62n + 1n, 'bigint'],
      ['negative bigint', -(2n ** 63n), 'bigint'],
      ['string', "it's \\ \"q\" 🎉", 'text'],
      ['empty string', '', 'text'],
      ['null', null, 'text'],
      ['Date', new Date('2021-03-04T05:06:07.089Z'), 'timestamp with time zone'],
      ['boolean', false, 'boolean'],
      ['integer[]', [1, 2, 3], 'bigint[]'],
      ['float[]', [1.5, 2], 'double precision[]'],
      // int8 comes back as a number while exact: 1n returns as 1.
      ['bigint[]', [2n ** 60n, 1n], 'bigint[]', [2n ** 60n, 1]],
      ['small bigint', 5n, 'bigint', 5],
      ['string[]', ['a', 'b"c', 'd\\e', '{x}', 'NULL', ''], 'text[]'],
      ['boolean[]', [true, false], 'boolean[]'],
      ['Date[]', [new Date('2020-01-01T00:00:00Z'), new Date('1999-12-31T23:59:59.999Z')], 'timestamp with time zone[]'],
      ['nested object as JSON', { a: 1, b: [true, null, 'x'], c: { d: 'é' } }, 'json'],
      ['mixed array as JSON', [1, 'a', null], 'json'],
      ['empty array as JSON', [], 'json'],
      // null elements keep the typed array; all-null stays JSON (the same on ducklake()).
      ['integer[] with nulls', [1, null, undefined], 'bigint[]', [1, null, null]],
      ['text[] with a null', [null, 'a'], 'text[]'],
      ['all-null array as JSON', [null, null], 'json'],
      ['integer beyond 2^53', 2 ** 60, 'bigint', 2n ** 60n],
      ['Uint8Array', new Uint8Array([0, 1, 2, 254, 255]), 'bytea'],
    ];
    for (const [name, value, pgType, back = value] of cases) {
      it(name, async () => {
        const row = await datatable(engine)`SELECT ${value} AS v, pg_typeof(${value})::text AS t`.fetchOne();
        expect(row).toEqual({ v: back, t: pgType });
      });
    }

    it('undefined binds as NULL', async () => {
      expect(await datatable(engine)`SELECT ${undefined} AS v, ${[1, undefined]}::int[] AS a`.fetchOne()).toEqual({ v: null, a: [1, null] });
    });

    it('values survive a table round trip', async () => {
      const sql = datatable(engine);
      const d = new Date('2022-05-06T07:08:09.123Z');
      const big = 2n ** 63n - 1n;
      const row = await sql`
        CREATE TEMP TABLE rt (i int, b bigint, f float8, n numeric, t text, ts timestamp, tz timestamptz, dt date, j jsonb, by bytea, a int[]);
        INSERT INTO rt VALUES (${7}, ${big}, ${0.5}, ${'1.10'}::numeric, ${'x'}, ${d}, ${d}, ${d}::date, ${{ k: [1] }}, ${bytes}, ${[1, 2]});
        SELECT * FROM rt;
        DROP TABLE rt`.fetch({ resultCollection: 'all_statements_first_row' });
      expect(row[2]).toEqual({ i: 7, b: big, f: 0.5, n: '1.10', t: 'x', ts: d, tz: d, dt: '2022-05-06', j: { k: [1] }, by: bytes, a: [1, 2] });
    });

    it('an explicit json annotation takes a string as JSON text', async () => {
      expect(await datatable(engine)`SELECT ${'{"a":1}'}::jsonb AS v`.fetchOneScalar()).toEqual({ a: 1 });
    });
  });
}

describe('embedded', () => {
  it('persists across close() and reopen', async () => {
    const sql = datatable('embedded');
    await sql`CREATE TABLE IF NOT EXISTS kept (v text); INSERT INTO kept VALUES (${'survives'})`.execute();
    await close();
    expect(await datatable('embedded')`SELECT v FROM kept`.fetch({ resultCollection: 'last_statement_all_rows_scalar' })).toEqual(['survives']);
  });

  it('schema and role behave as on the server', async () => {
    const sql = datatable('embedded');
    await sql`CREATE SCHEMA IF NOT EXISTS analytics; CREATE TABLE IF NOT EXISTS analytics.events (kind text); INSERT INTO analytics.events VALUES ('click');
      DO $$ BEGIN CREATE ROLE emb_reader; EXCEPTION WHEN duplicate_object THEN NULL; END $$;
      GRANT USAGE ON SCHEMA analytics TO emb_reader; GRANT SELECT ON analytics.events TO emb_reader`.execute();
    expect(await datatable('embedded:analytics', { role: 'emb_reader' })`SELECT current_user AS u, count(*) AS n FROM events`.fetchOne()).toEqual({ u: 'emb_reader', n: 1 });
    await expect(datatable('embedded', { role: 'nobody_here' })`SELECT 1`.fetch()).rejects.toMatchObject({ code: 'PermissionDenied' });
  });

  it('queues concurrent statements on its single connection', async () => {
    const sql = datatable('embedded');
    const got = await Promise.all(Array.from({ length: 20 }, (_, i) => sql`SELECT ${i} AS i; SELECT ${i} * 2 AS j`.fetchOneScalar()));
    expect(got).toEqual(Array.from({ length: 20 }, (_, i) => i * 2));
  });
});
