/** PostgreSQL's dialect: `$n::type` placeholders (the server types each parameter from the cast). */
import type { Dialect } from '../engine.js';
import { splitStatements } from '../lexer.js';
import { quoteIdent } from '../template.js';

export const postgresDialect: Dialect = {
  placeholder: (n, p) => (p.explicit ? `$${n}` : `$${n}::${p.type}`),
  quoteIdent,
  split: splitStatements,
};
