/**
 * Types conformance over every SQL engine (test/helpers/engines.ts): each JS value kind bound
 * through `${}` is read back from the select list (`SELECT ${v} AS v`) and from a column of the
 * matching type (INSERT, then SELECT). One table of expectations; where the engines differ on
 * purpose, the row says so per engine, and the README (DuckLake: Parameters) documents it:
 *
 * - A plain object (or a mixed array) in a DuckDB select list is JSON text: DuckDB binds it as
 *   JSON text, and `SELECT $1` gives a VARCHAR; stored in a JSON column it reads back parsed, as on
 *   PostgreSQL, where the server types `SELECT $1` as json.
 * - An S3Object is a storage URL on DuckDB (so `read_parquet(${file})` works); PostgreSQL has no
 *   storage: a record is a JSON object and a URI a string, as any other value.
 * - An integer outside BIGINT's range is refused before anything is sent on DuckDB
 *   (`InvalidArgument`), by the server on PostgreSQL (`Sql`, SQLSTATE 22003).
 */
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { inferSqlType } from '../../src/sql/infer.js';
import { caught, ENGINES, useEngines, type ColumnTypes, type EngineCase } from '../helpers/engines.js';

useEngines('conformance_types');

type PerEngine<T> = T | { postgres: T; duckdb: T };
type Case = {
  kind: string;
  value: unknown;
  /** The column the value is stored in. */
  column: (t: ColumnTypes) => string;
  /** What `SELECT ${value}` gives (default: the value itself). */
  selected?: PerEngine<unknown>;
  /** What the column gives back (default: as selected). */
  stored?: PerEngine<unknown>;
};

const at = new Date('2026-11-21T10:11:12.345Z');
/** The fs default storage's folder (MILLRACE_HOME/storage): what an S3Object's DuckDB URL names. */
const storageUrl = (key: string) => join(process.env.MILLRACE_HOME!, 'storage', key);

const CASES: Case[] = [
  { kind: 'string', value: 'hello', column: (t) => t.text },
  { kind: 'unicode and emoji', value: 'ünïcödé 🎉 日本語 \u202e', column: (t) => t.text },
  { kind: 'empty string', value: '', column: (t) => t.text },
  { kind: 'integer', value: 42, column: (t) => t.bigint },
  { kind: 'integer into a 32-bit column', value: 42, column: (t) => t.int },
  { kind: 'negative integer', value: -7, column: (t) => t.bigint },
  { kind: 'float', value: 1.5, column: (t) => t.float },
  { kind: 'negative float', value: -0.25, column: (t) => t.float },
  { kind: 'NaN', value: NaN, column: (t) => t.float },
  { kind: 'Infinity', value: Infinity, column: (t) => t.float },
  { kind: '-Infinity', value: -Infinity, column: (t) => t.float },
  { kind: 'integer number beyond 2^53', value: 2 ** 60, column: (t) => t.bigint, selected: 2n ** 60n },
  { kind: 'bigint beyond 2^53', value: 2n ** 60n + 1n, column: (t) => t.bigint },
  { kind: 'negative bigint beyond 2^53', value: -(2n ** 60n) - 1n, column: (t) => t.bigint },
  { kind: 'bigint within 2^53', value: 12n, column: (t) => t.bigint, selected: 12 },
  { kind: 'true', value: true, column: (t) => t.bool },
  { kind: 'false', value: false, column: (t) => t.bool },
  { kind: 'null', value: null, column: (t) => t.int },
  { kind: 'undefined', value: undefined, column: (t) => t.text, selected: null },
  { kind: 'Date', value: at, column: (t) => t.timestamptz },
  { kind: 'Uint8Array', value: new Uint8Array([0, 1, 127, 128, 255]), column: (t) => t.bytes },
  { kind: 'empty Uint8Array', value: new Uint8Array(0), column: (t) => t.bytes },
  {
    kind: 'plain object', value: { a: 1, b: 'x' }, column: (t) => t.json,
    selected: { postgres: { a: 1, b: 'x' }, duckdb: '{"a":1,"b":"x"}' }, stored: { a: 1, b: 'x' },
  },
  {
    kind: 'nested object', value: { a: { b: [1, 2] }, c: null, d: 'ü' }, column: (t) => t.json,
    selected: { postgres: { a: { b: [1, 2] }, c: null, d: 'ü' }, duckdb: '{"a":{"b":[1,2]},"c":null,"d":"ü"}' },
    stored: { a: { b: [1, 2] }, c: null, d: 'ü' },
  },
  { kind: 'array of integers', value: [1, 2, 3], column: (t) => t.list(t.bigint) },
  { kind: 'array of numbers', value: [1, 2.5, -3], column: (t) => t.list(t.float) },
  { kind: 'array of strings', value: ['a', 'b c', ''], column: (t) => t.list(t.text) },
  { kind: 'array of booleans', value: [true, false], column: (t) => t.list(t.bool) },
  { kind: 'array with a null', value: [1, null], column: (t) => t.list(t.bigint) },
  { kind: 'array of Dates', value: [at, new Date(0)], column: (t) => t.list(t.timestamptz) },
  {
    kind: 'mixed array', value: [1, 'a'], column: (t) => t.json,
    selected: { postgres: [1, 'a'], duckdb: '[1,"a"]' }, stored: [1, 'a'],
  },
  {
    kind: 'S3Object record', value: { s3: 'folder/file.csv' }, column: (t) => t.text,
    selected: { postgres: { s3: 'folder/file.csv' }, duckdb: storageUrl('folder/file.csv') },
    stored: { postgres: '{"s3":"folder/file.csv"}', duckdb: storageUrl('folder/file.csv') },
  },
  {
    kind: 'S3Object URI', value: 's3:///folder/file.csv', column: (t) => t.text,
    selected: { postgres: 's3:///folder/file.csv', duckdb: storageUrl('folder/file.csv') },
  },
];

function pick<T>(v: PerEngine<T> | undefined, engine: EngineCase['engine']): T | undefined {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && 'postgres' in v && 'duckdb' in v ? v[engine] : (v as T | undefined);
}

/** Bytes compare as bytes: PostgreSQL gives a plain Uint8Array, DuckDB a Buffer (a Uint8Array too). */
function expectSame(actual: unknown, expected: unknown): void {
  if (expected instanceof Uint8Array) {
    expect(actual).toBeInstanceOf(Uint8Array);
    expect(Array.from(actual as Uint8Array)).toEqual(Array.from(expected));
  } else if (typeof expected === 'number' && Number.isNaN(expected)) {
    expect(actual).toBeNaN();
  } else {
    expect(actual).toStrictEqual(expected);
  }
}

describe.each(ENGINES)('$name', (engine) => {
  const sql = () => engine.sql();

  it.each(CASES)('$kind: SELECT ${v} gives it back', async (c) => {
    const expected = pick(c.selected, engine.engine) ?? (c.value === undefined ? null : c.value);
    const rows = await sql()`SELECT ${c.value} AS v`.fetch();
    expect(rows).toHaveLength(1);
    expect(Object.keys(rows[0])).toEqual(['v']);
    expectSame(rows[0].v, expected);
  });

  it.each(CASES.map((c, i) => ({ ...c, i })))('$kind: stored in its column and read back', async (c) => {
    const s = sql();
    const table = s.ident(`t_${c.i}`);
    const expected = pick(c.stored, engine.engine) ?? pick(c.selected, engine.engine) ?? (c.value === undefined ? null : c.value);
    await s`CREATE TABLE ${table} (id ${s.raw(engine.types.int)}, v ${s.raw(c.column(engine.types))})`.execute();
    await s`INSERT INTO ${table} VALUES (${1}, ${c.value})`.execute();
    expectSame(await s`SELECT v FROM ${table} WHERE id = ${1}`.fetchOneScalar(), expected);
    expect(await s`SELECT count(*) FROM ${table} WHERE v IS NULL`.fetchOneScalar()).toBe(expected === null ? 1 : 0);
  });

  it('an integer outside BIGINT is refused, typed', async () => {
    const err = await caught(sql()`SELECT ${2n ** 70n} AS v`.fetch());
    if (engine.engine === 'postgres') {
      expect(err.code).toBe('Sql');
      expect((err as { sqlState?: string }).sqlState).toBe('22003');
    } else {
      expect(err.code).toBe('InvalidArgument');
    }
    expect(err.message).not.toContain(String(2n ** 70n));
  });

  it('an explicit ::type wins over the inferred one, on both engines', async () => {
    const s = sql();
    const row = await s`SELECT ${'42'}::${s.raw(engine.types.int)} AS n, ${'2026-11-21T10:11:12.345Z'}::${s.raw(engine.types.timestamptz)} AS at, ${'{"a":[1]}'}::${s.raw(engine.types.json)} AS j`.fetchOne();
    expect(row).toStrictEqual({ n: 42, at, j: { a: [1] } });
  });

  it("each value is bound with its dialect's name for windmill-client's inferred type", async () => {
    const s = sql();
    const values = [42, 1.5, 'x', true, at, new Uint8Array([1]), [1, 2], [1.5], ['a'], [true], [at]];
    for (const v of values) {
      const name = engine.dialect.typeName(inferSqlType(v));
      const typeOf = s.raw(engine.engine === 'postgres' ? 'pg_typeof' : 'typeof');
      const same = await s`SELECT ${typeOf}(${v}) = ${typeOf}(CAST(NULL AS ${s.raw(name)})) AS same`.fetchOneScalar();
      expect(same, `${String(v)} as ${name}`).toBe(true);
    }
  });
});
