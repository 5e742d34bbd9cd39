/** DuckDB's dialect: plain `$n` placeholders (parameters are bound with explicit DuckDB types, see codec.ts). */
import type { Dialect } from '../engine.js';
import { splitStatements } from '../lexer.js';
import { quoteIdent } from '../template.js';

export const duckdbDialect: Dialect = {
  placeholder: (n) => `$${n}`,
  quoteIdent,
  split: splitStatements,
};
