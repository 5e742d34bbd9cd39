/** DuckDB errors as typed millrace errors, without secrets or parameter values. */
import { getConfig } from '../../config.js';
import { MillraceError, SqlError, errorMessage, sanitizedCause, scrub } from '../../errors.js';
import type { BoundParam } from '../engine.js';
import { scrubParams } from '../scrub.js';

/**
 * A DuckDB error as a typed SqlError: the statement text (no values), DuckDB's error type as
 * sqlState. Secrets and the statement's parameter values (DuckDB quotes what it cannot convert)
 * are scrubbed from the message and the cause.
 */
export function toSqlError(e: unknown, sql: string, params: readonly BoundParam[] = []): MillraceError {
  if (e instanceof MillraceError) return e;
  const clean = (text: string) => scrubParams(scrub(text), params);
  const message = clean(errorMessage(e));
  const missing = /Extension "?([A-Za-z0-9_]+)"? (?:not found|is not loaded)|Failed to (?:download|install) extension "?([A-Za-z0-9_]+)/i.exec(message);
  if (missing) return extensionMissing((missing[1] ?? missing[2])!, getConfig().duckdb.extensionDirectory, e);
  const type = /^([A-Za-z ]+) Error:/.exec(message)?.[1];
  const code = /^(IO|Connection) Error:.*(connect|timeout|refused|resolve)/is.test(message) ? 'Connection' : 'Sql';
  const cause = sanitizedCause(e, clean) as Error & { code?: string };
  if (type !== undefined && cause.code === undefined) cause.code = type;
  return new SqlError(message, { sql: scrub(sql), sqlState: type, engine: 'duckdb', code, cause });
}

export function extensionMissing(name: string, dir: string | undefined, cause: unknown): MillraceError {
  const where = dir
    ? `it is not in duckdb.extensionDirectory (${dir}); run \`npx millrace-duckdb-extensions --dir ${dir}\` to provision it there`
    : 'DuckDB could not install it (no network?); run `npx millrace-duckdb-extensions`, which provisions <MILLRACE_HOME>/duckdb-extensions (used with no config)';
  return new MillraceError('ExtensionMissing', `DuckDB extension "${name}" is not available: ${where}`, { cause: sanitizedCause(cause) });
}
