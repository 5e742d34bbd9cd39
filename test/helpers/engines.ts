/**
 * Every SQL engine, for the conformance suites (test/sql/conformance.*.test.ts, injection.test.ts):
 * each engine's sql tag and the column type names its SQL uses. A new engine joins every suite
 * with one entry in ENGINES below (and its configuration in useEngines).
 */
import { inject } from 'vitest';
import { datatable, ducklake, type DatatableSqlTemplateFunction } from '../../src/index.js';
import type { Dialect } from '../../src/sql/engine.js';
import { ENGINES as REGISTRY } from '../../src/sql/registry.js';
import { freshDatabase } from '../setup/pgdb.js';
import { caught, embeddedLake } from './ducklake.js';

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
  embeddedLake(tag, async () => ({ datatables: { main: await freshDatabase(inject('pgUrl'), `millrace_${tag}`) } }));
}

export { caught };
