/**
 * Parameters on PostgreSQL: a statement works with millrace whenever it works with raw postgres.js (the
 * server types a parameter from its context) or with windmill-client's typing (the same statement with
 * `$1::TYPE` casts), and gives the same value. A matrix of JS value kinds x column types x contexts, each
 * cell run three ways on the same server: raw postgres.js, windmill-client's typing, millrace.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { describe, it, expect, inject, beforeAll, afterAll } from 'vitest';
import { configure } from '../../src/config.js';
import { close } from '../../src/runtime.js';
import { datatable } from '../../src/sql/datatable.js';
import { inferSqlType } from '../../src/sql/infer.js';
import { freshDatabase } from '../setup/pgdb.js';

process.env.MILLRACE_HOME = mkdtempSync(join(tmpdir(), 'millrace-params-'));

const UUID = '6f1f7b8e-2c1a-4d8e-9a51-0b7c6e3f2a10';
const DATE = new Date('2024-05-06T07:08:09.000Z');

/** Column types, with a string each can read (what a script passes for it from JSON input). */
const COLUMNS: [string, string, string][] = [
  ['text', 'text', 'hello'],
  ['uuid', 'uuid', UUID],
  ['date', 'date', '2024-05-06'],
  ['timestamp', 'timestamp', '2024-05-06 07:08:09'],
  ['timestamptz', 'timestamptz', '2024-05-06T07:08:09Z'],
  ['numeric', 'numeric', '12.50'],
  ['int2', 'int2', '42'],
  ['int4', 'int4', '42'],
  ['int8', 'int8', '42'],
  ['float8', 'float8', '1.5'],
  ['bool', 'bool', 'true'],
  ['enum', 'mood', 'happy'],
  ['inet', 'inet', '10.0.0.1'],
  ['interval', 'interval', '1 day'],
  ['json', 'json', '{"a":1}'],
  ['jsonb', 'jsonb', '{"a":1}'],
  ['bytea', 'bytea', '\\x0102'],
  ['text_arr', 'text[]', '{a,b}'],
  ['uuid_arr', 'uuid[]', `{${UUID}}`],
  ['int_arr', 'int4[]', '{1,2}'],
];

type Kind = [string, (col: (typeof COLUMNS)[number]) => unknown];
const KINDS: Kind[] = [
  ['string', (c) => c[2]],
  ['int', () => 42],
  ['float', () => 1.5],
  ['bigint', () => 42n],
  ['boolean', () => true],
  ['null', () => null],
  ['undefined', () => undefined],
  ['Date', () => DATE],
  ['Uint8Array', () => new Uint8Array([1, 2])],
  ['object', () => ({ a: 1 })],
  ['string[]', () => ['a', 'b']],
  ['number[]', () => [1, 2]],
  ['uuid[]', () => [UUID]],
  ['object[]', () => [{ a: 1 }, { a: 2, b: 'x' }]],
];

/** Contexts on a column: each yields one value x, read back as its type and text. */
const COLUMN_CONTEXTS: [string, (col: string, type: string) => string][] = [
  ['INSERT', (col) => `INSERT INTO w (${col}) VALUES ($1) RETURNING ${col} AS x`],
  ['UPDATE SET', (col) => `UPDATE w SET ${col} = $1 WHERE id = 0 RETURNING ${col} AS x`],
  ['WHERE =', (col) => `SELECT count(*) AS x FROM m WHERE ${col} = $1`],
  ['= ANY', (col) => `SELECT count(*) AS x FROM m WHERE ${col} = ANY($1)`],
  ['function argument', (_col, type) => `SELECT same_${type.replace('[]', '_arr')}($1) AS x`],
  ['COALESCE', (col) => `SELECT COALESCE($1, ${col}) AS x FROM m WHERE id = 1`],
];
/** Contexts that say nothing of the type (windmill-client's inference decides) or a fixed one. */
const FREE_CONTEXTS: [string, string][] = [
  ['select list', 'SELECT $1 AS x'],
  ['IS NULL', 'SELECT $1 IS NULL AS x'],
  ['function argument (any)', `SELECT json_build_object('k', $1) AS x`],
  ['LIMIT', 'SELECT count(*) AS x FROM (SELECT id FROM m ORDER BY id LIMIT $1) l'],
  // JSON contexts: an array arrives as a JSON array, never as PostgreSQL's array text.
  ['jsonb function', 'SELECT jsonb_array_length($1) AS x'],
  ['jsonb_to_recordset', 'SELECT count(*) AS x FROM jsonb_to_recordset($1) AS p(a int)'],
  ['jsonb_to_recordset(::jsonb)', 'SELECT sum(a) AS x FROM jsonb_to_recordset($1::jsonb) AS p(a int)'],
  ['::jsonb', 'SELECT $1::jsonb AS x'],
  ['::json', 'SELECT $1::json AS x'],
  ['json_array_length(::json)', 'SELECT json_array_length($1::json) AS x'],
];

/** Each side's answer, compared on the server's own terms: the type and the text of the value. */
const wrap = (text: string) => `WITH q AS (${text}) SELECT pg_typeof(x)::text AS t, x::text AS s FROM q`;

let sql: ReturnType<typeof datatable>;
let raw: postgres.Sql;
/** Raw postgres.js sending each value as its text (what the server reads), without postgres.js's own conversions by type. */
let asText: postgres.Sql;
const text = (x: unknown): string =>
  x instanceof Date ? x.toISOString() : x instanceof Uint8Array ? '\\x' + Buffer.from(x).toString('hex') : typeof x === 'object' && x !== null && !Array.isArray(x) ? JSON.stringify(x) : '' + x;
const AS_TEXT = Object.fromEntries([0, 16, 17, 25, 114, 3802, 1082, 1114, 1184].map((oid) => [`t${oid}`, { to: oid, from: [] as number[], serialize: text, parse: (x: string) => x }]));

beforeAll(async () => {
  const url = await freshDatabase(inject('pgUrl'), 'millrace_params');
  // `fresh`: the same database through a pool that nothing has used before the test that needs it.
  await configure({ datatables: { main: url, fresh: url } });
  raw = postgres(url, { max: 2, onnotice: () => {} });
  asText = postgres(url, { max: 2, onnotice: () => {}, types: AS_TEXT as never });
  const cols = COLUMNS.map(([name, type]) => `${name} ${type}`).join(', ');
  await raw.unsafe(`CREATE TYPE mood AS ENUM ('happy', 'sad')`);
  await raw.unsafe(`CREATE TABLE m (id serial PRIMARY KEY, ${cols})`);
  await raw.unsafe(`CREATE TABLE w (id serial PRIMARY KEY, ${cols})`);
  const values = COLUMNS.map(([, type, s]) => `'${s}'::${type}`).join(', ');
  await raw.unsafe(`INSERT INTO m (${COLUMNS.map((c) => c[0]).join(', ')}) VALUES (${values})`);
  await raw.unsafe(`INSERT INTO w (id) VALUES (0)`);
  for (const [, type] of COLUMNS) {
    await raw.unsafe(`CREATE FUNCTION same_${type.replace('[]', '_arr')}(x ${type}) RETURNS ${type} LANGUAGE sql AS 'SELECT x'`);
  }
  sql = datatable();
});

afterAll(async () => {
  await raw?.end();
  await asText?.end();
  await close();
});

type Outcome = { ok: true; t: string; s: string | null } | { ok: false; error: string };

async function attempt(run: () => Promise<unknown>): Promise<Outcome> {
  try {
    const rows = (await run()) as { t: string; s: string | null }[];
    return rows.length ? { ok: true, t: rows[0]!.t, s: rows[0]!.s } : { ok: true, t: '(no row)', s: null };
  } catch (e) {
    return { ok: false, error: `${(e as { code?: string }).code ?? ''} ${(e as Error).message}` };
  }
}

/** windmill-client's typing: the value's inferred type as a cast after the parameter, the value sent as text (JSON for JSON). */
function windmillText(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  if (inferSqlType(v) === 'JSON') return JSON.stringify(v);
  if (Array.isArray(v)) return `{${v.map((x) => (x === null ? 'NULL' : `"${String(windmillText(x)).replace(/[\\"]/g, '\\$&')}"`)).join(',')}}`;
  if (v instanceof Date) return v.toISOString();
  if (v instanceof Uint8Array) return '\\x' + Buffer.from(v).toString('hex');
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

type Cell = { context: string; column: string; kind: string; raw: Outcome; asText: Outcome; windmill: Outcome; millrace: Outcome; stored: Outcome };

async function cell(context: string, column: string, kind: string, text: string, v: unknown): Promise<Cell> {
  const wrapped = wrap(text);
  return {
    context, column, kind,
    raw: await attempt(() => raw.unsafe(wrapped, [v as never], { prepare: true })),
    asText: await attempt(() => asText.unsafe(wrapped, [(v === undefined ? null : v) as never], { prepare: true })),
    // The value reaches the cast as text, as windmill-client's JSON arguments do.
    windmill: await attempt(() => raw.unsafe(wrapped.replace(/\$1\b/, `$1::${inferSqlType(v)}`), [raw.typed(windmillText(v) as never, 25)], { prepare: true })),
    millrace: await attempt(() => sql.query(wrapped, v).fetch()),
    stored: await storedText(wrapped, v),
  };
}

/**
 * Where the server says text for an object or array, the text an INSERT into a text column stores for it
 * (windmill-client's type, read as text by the server), sent as that text.
 */
async function storedText(wrapped: string, v: unknown): Promise<Outcome> {
  if (typeof v !== 'object' || v === null || v instanceof Date || v instanceof Uint8Array) return { ok: false, error: 'not an object or array' };
  const [row] = await raw.unsafe(`SELECT ($1::${inferSqlType(v)})::text AS s`, [raw.typed(windmillText(v) as never, 25)]);
  return attempt(() => raw.unsafe(wrapped, [row!.s as never], { prepare: true }));
}

const same = (a: Outcome, b: Outcome) => a.ok && b.ok && a.t === b.t && a.s === b.s;

/**
 * What millrace may give where windmill-client's typing or raw postgres.js works: one of their answers, or
 * the server's reading of the value as text where raw postgres.js converted the value itself by the type
 * the server chose. Those conversions millrace does not copy, except a string or array for json (sent as
 * JSON) and a number for a date or timestamp (milliseconds since the epoch): 'true' sent as false for a
 * boolean, a string's UTF-8 bytes for bytea, `new Date([1, 2])` for a date; there, where the value as
 * text fails too, millrace may fail.
 */
function accepted(c: Cell): Outcome[] {
  return [c.windmill, c.raw, c.raw.ok ? c.asText : c.windmill, c.raw.ok ? c.stored : c.windmill].filter((o) => o.ok);
}

function rawOnlyByConversion(c: Cell): boolean {
  return !c.windmill.ok && c.raw.ok && !c.asText.ok;
}

describe('parameters on PostgreSQL: the matrix', () => {
  it('works wherever raw postgres.js or windmill-client typing works, with the same value', async () => {
    const cells: Cell[] = [];
    for (const [context, make] of COLUMN_CONTEXTS) {
      for (const column of COLUMNS) {
        for (const [kind, value] of KINDS) cells.push(await cell(context, column[0], kind, make(column[0], column[1]), value(column)));
      }
    }
    for (const [context, text] of FREE_CONTEXTS) {
      for (const [kind, value] of KINDS) cells.push(await cell(context, '-', kind, text, value(COLUMNS[0]!)));
    }
    const failures: string[] = [];
    const totals = { cells: cells.length, raw: 0, windmill: 0, either: 0, millrace: 0, beyondBoth: 0, rawConverted: 0, onlyByConversion: 0 };
    for (const c of cells) {
      if (c.raw.ok) totals.raw++;
      if (c.windmill.ok) totals.windmill++;
      if (c.raw.ok || c.windmill.ok) totals.either++;
      if (c.millrace.ok) totals.millrace++;
      if (c.millrace.ok && !c.raw.ok && !c.windmill.ok) totals.beyondBoth++;
      if (c.raw.ok && !same(c.raw, c.asText)) totals.rawConverted++;
      if (!c.raw.ok && !c.windmill.ok) continue;
      if (!c.millrace.ok && rawOnlyByConversion(c)) {
        totals.onlyByConversion++;
        continue;
      }
      const want = accepted(c);
      if (!want.some((w) => same(w, c.millrace))) {
        failures.push(`${c.context} / ${c.column} / ${c.kind}: got ${JSON.stringify(c.millrace)}; raw ${JSON.stringify(c.raw)}, as text ${JSON.stringify(c.asText)}, windmill ${JSON.stringify(c.windmill)}`);
      }
    }
    console.log(`parameter matrix: ${totals.cells} cells; raw postgres.js works in ${totals.raw}, windmill-client typing in ${totals.windmill}, either in ${totals.either}; millrace in ${totals.millrace} (${totals.beyondBoth} where neither does); raw postgres.js converted the value itself in ${totals.rawConverted} (and only so worked, where millrace fails, in ${totals.onlyByConversion}); mismatches ${failures.length}`);
    expect(failures).toEqual([]);
    expect(totals.millrace).toBeGreaterThanOrEqual(totals.either);
  });
});

describe('parameters on PostgreSQL: what scripts write', () => {
  it('keeps windmill-client’s types where the context says nothing', async () => {
    expect(await sql`SELECT ${1} AS v`.fetchOneScalar()).toBe(1);
    expect(await sql`SELECT ${1.5} AS v`.fetchOneScalar()).toBe(1.5);
    expect(await sql`SELECT ${'a'} AS v`.fetchOneScalar()).toBe('a');
    expect(await sql`SELECT ${true} AS v`.fetchOneScalar()).toBe(true);
    expect(await sql`SELECT ${{ a: 1 }} AS v`.fetchOneScalar()).toEqual({ a: 1 });
    expect(await sql`SELECT ${[1, 2]} AS v`.fetchOneScalar()).toEqual([1, 2]);
    expect(await sql`SELECT ${DATE} AS v`.fetchOneScalar()).toEqual(DATE);
    expect(await sql`SELECT ${1} + ${2} AS v`.fetchOneScalar()).toBe(3);
    expect(await sql`SELECT ${null} IS NULL AS v`.fetchOneScalar()).toBe(true);
    expect(await sql`SELECT json_build_object('k', ${'v'}, 'n', ${2}) AS v`.fetchOneScalar()).toEqual({ k: 'v', n: 2 });
  });

  it('lets the server type a parameter from its column, function or operator', async () => {
    expect(await sql`SELECT count(*) AS n FROM m WHERE uuid = ${UUID}`.fetchOneScalar()).toBe(1);
    expect(await sql`SELECT count(*) AS n FROM m WHERE uuid = ANY(${[UUID]})`.fetchOneScalar()).toBe(1);
    expect(await sql`SELECT count(*) AS n FROM m WHERE enum = ${'happy'} AND inet = ${'10.0.0.1'} AND date = ${'2024-05-06'}`.fetchOneScalar()).toBe(1);
    const row = await sql`INSERT INTO w (int4, numeric, timestamptz, interval) VALUES (${null}, ${'3.25'}, ${'2024-05-06T07:08:09Z'}, ${'2 hours'}) RETURNING int4, numeric, timestamptz, interval`.fetchOne();
    expect(row).toEqual({ int4: null, numeric: '3.25', timestamptz: DATE, interval: '02:00:00' });
    // Where only windmill-client's typing works: 1.5 into an int column is a float8 the server rounds.
    expect(await sql`INSERT INTO w (int4) VALUES (${1.5}) RETURNING int4`.fetchOneScalar()).toBe(2);
    // One statement mixing a parameter the server cannot type with one it can: each gets its own.
    expect(await sql`SELECT json_build_object('k', ${'v'}) AS v FROM m WHERE uuid = ${UUID}`.fetchOneScalar()).toEqual({ k: 'v' });
  });

  it('keeps an explicit ::type winning', async () => {
    expect(await sql`SELECT ${'{"a":1}'}::jsonb AS v`.fetchOneScalar()).toEqual({ a: 1 });
    expect(await sql`SELECT ${'7'}::int AS v`.fetchOneScalar()).toBe(7);
    expect(await sql`SELECT CAST(${'2024-05-06'} AS date) AS v`.fetchOneScalar()).toBe('2024-05-06');
    expect(await sql`SELECT ${null}::int IS NULL AS v`.fetchOneScalar()).toBe(true);
    // Without the cast a string into json is a JSON string, as raw postgres.js sends it.
    expect(await sql`SELECT ${'{"a":1}'}::text::json AS v`.fetchOneScalar()).toEqual({ a: 1 });
    expect(await sql`INSERT INTO w (jsonb) VALUES (${'{"a":1}'}) RETURNING jsonb`.fetchOneScalar()).toBe('{"a":1}');
  });

  it('sends arrays as JSON arrays wherever JSON is wanted, arrays of objects always', async () => {
    const rows = [{ product: 'a', n: 1 }, { product: 'b', n: 2 }];
    // The demo's load step: rows fetched from one engine, handed to the other as a recordset.
    const recordset = (r: unknown) => sql`SELECT string_agg(product || n, ',' ORDER BY n) AS v FROM jsonb_to_recordset(${r}::jsonb) AS p(product text, n int)`.fetchOneScalar();
    expect(await recordset(rows)).toBe('a1,b2');
    expect(await sql`SELECT count(*) AS v FROM json_to_recordset(${rows}) AS p(product text)`.fetchOneScalar()).toBe(2);
    expect(await sql`SELECT ${[1, 2]}::jsonb AS v`.fetchOneScalar()).toEqual([1, 2]);
    expect(await sql`SELECT ${['a', null]}::json AS v`.fetchOneScalar()).toEqual(['a', null]);
    expect(await sql`SELECT jsonb_array_length(${[1, 2, 3]}) AS v`.fetchOneScalar()).toBe(3);
    expect(await sql`SELECT CAST(${rows} AS jsonb) -> 1 ->> 'product' AS v`.fetchOneScalar()).toBe('b');
    await sql`CREATE TABLE j (id int PRIMARY KEY, json json, jsonb jsonb)`.execute();
    const stored = await sql`INSERT INTO j VALUES (1, ${rows}, ${[1, 2]}) RETURNING json, jsonb`.fetchOne();
    expect(stored).toEqual({ json: rows, jsonb: [1, 2] });
    expect(await sql`UPDATE j SET jsonb = ${rows} WHERE id = 1 RETURNING jsonb`.fetchOneScalar()).toEqual(rows);
    expect(await sql`SELECT count(*) AS v FROM j WHERE jsonb = ${rows}`.fetchOneScalar()).toBe(1);
    // Into a text column an array of objects is its JSON text, as windmill-client sends it.
    expect(await sql`SELECT ${rows}::text AS v`.fetchOneScalar()).toBe(JSON.stringify(rows));
  });

  it('types one statement text again for other values, and remembers what the server could not type', async () => {
    const check = (v: unknown) => sql`SELECT ${v} IS NULL AS n, ${v} AS v`.fetchOne();
    expect(await check(null)).toEqual({ n: true, v: null });
    expect(await check(5)).toEqual({ n: false, v: 5 });
    expect(await check('x')).toEqual({ n: false, v: 'x' });
    expect(await check({ a: 1 })).toEqual({ n: false, v: { a: 1 } });
    const byName = (v: unknown) => sql`SELECT count(*) AS n FROM m WHERE text = ${v}`.fetchOneScalar();
    expect(await byName('hello')).toBe(1);
    expect(await byName(5)).toBe(0); // as raw postgres.js: the server reads '5' as text
  });

  it('types parameters inside a transaction: several statements, a schema, a table created by the same text', async () => {
    await sql`CREATE SCHEMA IF NOT EXISTS p`.execute();
    const inSchema = datatable(':p');
    const rows = await inSchema`
      CREATE TABLE t (id uuid PRIMARY KEY, n int, at timestamptz);
      INSERT INTO t VALUES (${UUID}, ${null}, ${'2024-05-06T07:08:09Z'});
      SELECT ${1} + ${2} AS sum, ${null} IS NULL AS nothing, json_build_object('k', ${'v'}) AS obj, (SELECT count(*) FROM t WHERE id = ${UUID}) AS found`.fetch({
      resultCollection: 'last_statement_first_row',
    });
    expect(rows).toEqual({ sum: 3, nothing: true, obj: { k: 'v' }, found: 1 });
    expect(await inSchema`SELECT n, at FROM t WHERE id = ${UUID}`.fetchOne()).toEqual({ n: null, at: DATE });
  });

  it('reports a statement refused while its parameters are typed as any refused statement', async () => {
    const alone = await sql`SELECT * FROM no_such WHERE n = ${5}`.fetch().catch((e: unknown) => e);
    expect(alone).toMatchObject({ code: 'Sql', sqlState: '42P01', sql: 'SELECT * FROM no_such WHERE n = $1' });
    const inText = await sql`SELECT 1; SELECT * FROM no_such_either WHERE n = ${5}`.fetch().catch((e: unknown) => e);
    expect(inText).toMatchObject({ code: 'Sql', sqlState: '42P01', sql: expect.stringContaining('no_such_either WHERE n = $1') });
    // A refusal that typing cannot help (no such function for any type) is reported, not retried forever.
    await expect(sql`SELECT no_such_function(${'x'})`.fetch()).rejects.toMatchObject({ sqlState: '42883' });
    await expect(sql`SELECT 1; SELECT no_such_function(${'x'}, ${2})`.fetch()).rejects.toMatchObject({ sqlState: '42883' });
  });

  it('types a number on a pool with no connection open yet (its first statement asks the server)', async () => {
    let timer: NodeJS.Timeout | undefined;
    const stuck = new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('the first statement is still waiting after 15 s')), 15_000)));
    try {
      expect(await Promise.race([datatable('fresh')`SELECT count(*) AS n FROM m WHERE int4 = ${42}`.fetchOneScalar(), stuck])).toBe(1);
    } finally {
      clearTimeout(timer);
    }
  });

  it('types parameters of a cancellable statement too', async () => {
    const signal = new AbortController().signal;
    expect(await sql`SELECT ${7} AS a, ${null} IS NULL AS b, count(*) AS c FROM m WHERE uuid = ${UUID} GROUP BY 1`.fetchOne({ signal })).toEqual({ a: 7, b: true, c: 1 });
  });
});

describe('parameters on PostgreSQL: a statement is never run twice to learn a type', () => {
  it('types what follows transaction control in a text with windmill-client’s types from the start', async () => {
    await sql`CREATE TABLE audit (n int)`.execute();
    const rows = await sql`INSERT INTO audit VALUES (1); COMMIT; SELECT json_build_object('v', ${5}) AS v`.fetch({ resultCollection: 'last_statement_first_row' });
    expect(rows).toEqual({ v: { v: 5 } });
    expect(await sql`SELECT count(*) AS n FROM audit`.fetchOneScalar()).toBe(1);
    // Still untypable with windmill-client's type: the server's error, the committed part run once.
    await expect(sql`INSERT INTO audit VALUES (2); COMMIT; SELECT no_such_fn(${'x'})`.fetch()).rejects.toMatchObject({ sqlState: '42883' });
    expect(await sql`SELECT count(*) AS n FROM audit WHERE n = 2`.fetchOneScalar()).toBe(1);
  });

  it('never learns from an error raised while a procedure or function runs', async () => {
    await sql`CREATE TABLE log (v text)`.execute();
    await sql`CREATE PROCEDURE p(v text) LANGUAGE plpgsql AS $$ BEGIN INSERT INTO log VALUES (v); COMMIT; PERFORM no_such_fn(); END $$`.execute();
    await expect(sql`CALL p(${'x'})`.execute()).rejects.toMatchObject({ sqlState: '42883' });
    expect(await sql`SELECT count(*) AS n FROM log`.fetchOneScalar()).toBe(1);
    // A function's body: a sequence (never rolled back) counts its runs.
    await sql`CREATE SEQUENCE calls`.execute();
    await sql`CREATE FUNCTION f(v text) RETURNS int LANGUAGE plpgsql AS $$ BEGIN PERFORM nextval('calls'); RETURN no_such_fn(v); END $$`.execute();
    await expect(sql`SELECT f(${'y'}) AS v`.execute()).rejects.toMatchObject({ sqlState: '42883' });
    expect(await sql`SELECT last_value AS n FROM calls`.fetchOneScalar()).toBe(1);
  });

  it('finds an object or array by the text an INSERT stored for it', async () => {
    await sql`CREATE TABLE named (name text)`.execute();
    for (const v of [{ a: 1 }, ['a', 'b'], ['a b', 'c"d', '', 'null'], [{ a: 1 }], [1, 2], [['x', 'y'], ['z', 'w']]]) {
      const stored = await sql`INSERT INTO named VALUES (${v}) RETURNING name`.fetchOneScalar();
      expect(await sql`SELECT count(*) AS n FROM named WHERE name = ${v}`.fetchOneScalar(), JSON.stringify(v) + ' stored as ' + String(stored)).toBe(1);
    }
  });
});
