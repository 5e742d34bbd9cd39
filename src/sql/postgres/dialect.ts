/**
 * PostgreSQL's dialect: bare `$n` placeholders. The driver types each parameter (params.ts): from its
 * context where the server can tell, else windmill-client's inference; an explicit `::type` stays in the text.
 * The inferred type names are PostgreSQL's own.
 */
import type { Dialect } from '../engine.js';
import { splitStatements } from '../lexer.js';
import { quoteIdent } from '../template.js';

export const postgresDialect: Dialect = {
  placeholder: (n) => `$${n}`,
  quoteIdent,
  split: splitStatements,
  typeName: (type) => type,
};
