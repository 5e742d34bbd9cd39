/**
 * Every SQL engine, for the conformance suites (test/sql/conformance.*.test.ts, injection.test.ts):
 * each engine's sql tag and the column type names its SQL uses. A new engine joins every suite
 * with one entry in ENGINES below (and its configuration in useEngines).
 */
import { afterAll, beforeAll, expect, inject } from 'vitest';
import { close, configure, datatable, ducklake, MillraceError, type DatatableSqlTemplateFunction } from '../../src/index.js';
import type { Dialect } from '../../src/sql/engine.js';
import { ENGINES as REGISTRY } from '../../src/sql/registry.js';
import { freshDatabase } from '../setup/pgdb.js';
import { ensureExtensions, freshHome } from './ducklake.js';

/** Column types, as this engine's DDL writes them. */
export type ColumnTypes = {
  int: string;
  bigint: string;
  float: string;
  text: string;
  bool: string;
  timestamptz: string;
  bytes: string;
  json: string;
  /** A list (array) column of `element`. */
  list(element: string): string;
};

export type EngineCase = {
  /** For test names: `datatable (PostgreSQL)`. */
  name: string;
  /** The engine's name in src/sql/registry.ts. */
  engine: keyof typeof REGISTRY;
  sql: () => DatatableSqlTemplateFunction;
  dialect: Dialect;
  types: ColumnTypes;
  /** Whether a text value may hold NUL (PostgreSQL's text cannot: a typed class-22 error). */
  storesNul: boolean;
};

export const ENGINES: EngineCase[] = [
  {
    name: 'datatable (PostgreSQL)', engine: 'postgres', sql: () => datatable(), dialect: REGISTRY.postgres.dialect,
    types: { int: 'int', bigint: 'bigint', float: 'double precision', text: 'text', bool: 'boolean', timestamptz: 'timestamptz', bytes: 'bytea', json: 'jsonb', list: (t) => `${t}[]` },
    storesNul: false,
  },
  {
    name: 'ducklake (DuckDB)', engine: 'duckdb', sql: () => ducklake(), dialect: REGISTRY.duckdb.dialect,
    types: { int: 'INTEGER', bigint: 'BIGINT', float: 'DOUBLE', text: 'VARCHAR', bool: 'BOOLEAN', timestamptz: 'TIMESTAMPTZ', bytes: 'BLOB', json: 'JSON', list: (t) => `${t}[]` },
    storesNul: true,
  },
];

/**
 * Configures every engine for one test file: a fresh MILLRACE_HOME (the embedded ducklake `main`
 * lives there, its data in the default fs storage), a fresh database `millrace_<tag>` in the
 * suite's PostgreSQL as datatable `main`, and DuckDB with the provisioned extensions. Call it at
 * the top of the file; everything is closed after the file.
 */
export function useEngines(tag: string): void {
  freshHome(tag);
  beforeAll(async () => {
    const url = await freshDatabase(inject('pgUrl'), `millrace_${tag}`);
    await configure({ datatables: { main: url }, duckdb: { extensionDirectory: await ensureExtensions() } });
    // A fresh datatable pool whose first statement must describe its parameters (a number, an
    // array) hangs (src/sql/postgres/params.ts, being fixed on its own): open each pool first.
    for (const e of ENGINES) expect(await e.sql()`SELECT 1 AS one`.fetchOneScalar()).toBe(1);
  });
  afterAll(() => close());
}

/** The MillraceError a promise rejects with (fails the test when it resolves or throws something else). */
export async function caught(p: Promise<unknown> | (() => unknown)): Promise<MillraceError> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    if (!(e instanceof MillraceError)) throw new Error(`expected a MillraceError, got ${String(e)}`, { cause: e });
    return e;
  }
  throw new Error('expected an error');
}
