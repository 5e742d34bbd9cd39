/**
 * The SQL side of the security suite, against the real PostgreSQL and DuckDB: rows own exactly their
 * columns, no bound value reaches any printable form of an error, materialization names are
 * identifiers, and the statement splitter agrees with both engines. Each area counts the cases it
 * tried and the ones that held; afterAll prints them (the README's Security table quotes them).
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { close, configure, datatable, ducklake, type SqlTemplateFunction } from '../../src/index.js';
import { ensureExtensions, freshHome } from '../helpers/ducklake.js';
import { freshDatabase } from '../setup/pgdb.js';

freshHome('security-sql');

beforeAll(async () => {
  const url = await freshDatabase(inject('pgUrl'), 'millrace_security_sql');
  await configure({ datatables: { main: url }, duckdb: { extensionDirectory: await ensureExtensions() } });
});

const tally = new Map<string, { tried: number; held: number }>();
/** Counts one case of an area: `held` when the assertion inside passes. */
async function attempt(area: string, check: () => unknown): Promise<void> {
  const t = tally.get(area) ?? { tried: 0, held: 0 };
  tally.set(area, t);
  t.tried++;
  await check();
  t.held++;
}

afterAll(async () => {
  await close();
  console.log(['Security (SQL): area | cases tried | held', ...[...tally].map(([a, t]) => `${a} | ${t.tried} | ${t.held}`)].join('\n'));
});

type EngineCase = { name: string; sql: () => SqlTemplateFunction };
const ENGINES: EngineCase[] = [
  { name: 'PostgreSQL', sql: () => datatable() },
  { name: 'DuckDB', sql: () => ducklake() },
];

describe.each(ENGINES)('rows own exactly their columns ($name)', ({ name, sql: open }) => {
  const area = 'rows own their columns (`__proto__`)';
  it('a column named __proto__ is an own property, whatever its value', async () => {
    const sql = open();
    const json = name === 'DuckDB' ? sql.raw(`'{"isAdmin":true}'::JSON`) : sql.raw(`'{"isAdmin":true}'::json`);
    const values: [unknown, unknown][] = [
      [json, { isAdmin: true }],
      [sql.raw(`'text'`), 'text'],
      [sql.raw('42'), 42],
      [sql.raw('NULL'), null],
    ];
    for (const [expr, expected] of values) {
      await attempt(area, async () => {
        const rows = await sql`SELECT 1 AS a, ${expr} AS "__proto__", 2 AS b`.fetch();
        const row = rows[0]!;
        expect(Object.getPrototypeOf(row)).toBe(Object.prototype);
        expect(Object.keys(row)).toEqual(['a', '__proto__', 'b']);
        expect(Object.getOwnPropertyDescriptor(row, '__proto__')?.value).toEqual(expected);
        expect((row as { isAdmin?: unknown }).isAdmin).toBeUndefined();
        expect(JSON.parse(JSON.stringify(row))).toEqual(JSON.parse(`{"a":1,"__proto__":${JSON.stringify(expected)},"b":2}`));
      });
    }
  });

  it('JSON values keep "__proto__" keys as own properties', async () => {
    const sql = open();
    await attempt(area, async () => {
      const cast = sql.raw(name === 'DuckDB' ? 'JSON' : 'jsonb');
      const v = await sql`SELECT ${sql.raw(`'{"__proto__": {"isAdmin": true}, "x": 1}'`)}::${cast} AS j`.fetchOneScalar();
      expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
      expect((v as { isAdmin?: unknown }).isAdmin).toBeUndefined();
      expect(Object.getOwnPropertyDescriptor(v, '__proto__')?.value).toEqual({ isAdmin: true });
    });
  });

  if (name === 'DuckDB') {
    it('STRUCT fields and MAP keys named __proto__ are own properties', async () => {
      const sql = open();
      const cases: [string, unknown][] = [
        [`{'__proto__': {'isAdmin': true}, 'y': 1}`, { isAdmin: true }],
        [`{'__proto__': 'x', 'y': 1}`, 'x'],
        [`{'__proto__': NULL, 'y': 1}`, null],
        [`[{'__proto__': {'isAdmin': true}, 'y': 1}][1]`, { isAdmin: true }],
        [`MAP {'__proto__': {'isAdmin': true}, 'y': {'isAdmin': false}}`, { isAdmin: true }],
        [`MAP {'__proto__': 'x', 'y': 'z'}`, 'x'],
      ];
      for (const [expr, expected] of cases) {
        await attempt(area, async () => {
          const v = (await sql`SELECT ${sql.raw(expr)} AS s`.fetchOneScalar()) as Record<string, unknown>;
          expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
          expect(Object.keys(v)).toEqual(['__proto__', 'y']);
          expect(Object.getOwnPropertyDescriptor(v, '__proto__')?.value).toEqual(expected);
          expect(v.isAdmin).toBeUndefined();
        });
      }
    });
  }
});
