/** Each engine's dialect names windmill-client's inferred types (infer.ts) in its own terms. */
import { describe, expect, it } from 'vitest';
import type { Dialect } from '../../src/sql/engine.js';
import { inferSqlType } from '../../src/sql/infer.js';
import { duckdbDialect } from '../../src/sql/duckdb/dialect.js';
import { postgresDialect } from '../../src/sql/postgres/dialect.js';
import { ENGINES } from '../../src/sql/registry.js';

/** One row per inferred type: a value infer.ts gives it to, and its name on each engine. */
const NAMES: { value: unknown; inferred: string; postgres: string; duckdb: string }[] = [
  { value: 1, inferred: 'BIGINT', postgres: 'BIGINT', duckdb: 'BIGINT' },
  { value: 1.5, inferred: 'DOUBLE PRECISION', postgres: 'DOUBLE PRECISION', duckdb: 'DOUBLE' },
  { value: 'x', inferred: 'TEXT', postgres: 'TEXT', duckdb: 'VARCHAR' },
  { value: true, inferred: 'BOOLEAN', postgres: 'BOOLEAN', duckdb: 'BOOLEAN' },
  { value: new Date(0), inferred: 'TIMESTAMPTZ', postgres: 'TIMESTAMPTZ', duckdb: 'TIMESTAMPTZ' },
  { value: new Uint8Array([1]), inferred: 'BYTEA', postgres: 'BYTEA', duckdb: 'BLOB' },
  { value: { a: 1 }, inferred: 'JSON', postgres: 'JSON', duckdb: 'JSON' },
  { value: [1, 2], inferred: 'BIGINT[]', postgres: 'BIGINT[]', duckdb: 'BIGINT[]' },
  { value: [1, 2.5], inferred: 'DOUBLE PRECISION[]', postgres: 'DOUBLE PRECISION[]', duckdb: 'DOUBLE[]' },
  { value: ['a'], inferred: 'TEXT[]', postgres: 'TEXT[]', duckdb: 'VARCHAR[]' },
  { value: [false], inferred: 'BOOLEAN[]', postgres: 'BOOLEAN[]', duckdb: 'BOOLEAN[]' },
  { value: [new Date(0)], inferred: 'TIMESTAMPTZ[]', postgres: 'TIMESTAMPTZ[]', duckdb: 'TIMESTAMPTZ[]' },
];

const DIALECTS: [keyof typeof ENGINES, Dialect][] = [['postgres', postgresDialect], ['duckdb', duckdbDialect]];

describe.each(DIALECTS)('%s dialect: typeName', (engine, dialect) => {
  it('is the dialect the registry gives the engine', () => {
    expect(ENGINES[engine].dialect).toBe(dialect);
  });

  it.each(NAMES)('$inferred', (row) => {
    expect(inferSqlType(row.value)).toBe(row.inferred);
    expect(dialect.typeName(row.inferred)).toBe(row[engine]);
  });

  it('leaves a name it does not map unchanged', () => {
    expect(dialect.typeName('HUGEINT')).toBe('HUGEINT');
    expect(dialect.typeName('uuid[]')).toBe('uuid[]');
    expect(dialect.typeName('__proto__')).toBe('__proto__');
  });
});
