/** DuckDB's dialect: plain `$n` placeholders (parameters are bound with explicit DuckDB types, see codec.ts). */
import type { Dialect, InferredScalar } from '../engine.js';
import { splitStatements } from '../lexer.js';
import { quoteIdent } from '../template.js';

/** windmill-client's type names (infer.ts) as DuckDB names them; JSON is DuckDB's json extension type. */
const NAMES: Record<InferredScalar, string> = {
  BIGINT: 'BIGINT',
  'DOUBLE PRECISION': 'DOUBLE',
  TEXT: 'VARCHAR',
  BOOLEAN: 'BOOLEAN',
  TIMESTAMPTZ: 'TIMESTAMPTZ',
  BYTEA: 'BLOB',
  JSON: 'JSON',
};

function typeName(type: string): string {
  if (type.endsWith('[]')) return `${typeName(type.slice(0, -2))}[]`;
  return Object.hasOwn(NAMES, type) ? NAMES[type as InferredScalar] : type;
}

export const duckdbDialect: Dialect = {
  placeholder: (n) => `$${n}`,
  quoteIdent,
  split: splitStatements,
  typeName,
};
