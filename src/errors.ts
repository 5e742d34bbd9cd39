/**
 * One error type for the whole library. Branch on `code`, never on the message.
 * The original error, when there is one, is kept as `cause`.
 */
export type ErrorCode =
  | 'NotFound'
  | 'AlreadyExists'
  | 'InvalidS3Object'
  | 'InvalidArgument'
  | 'StorageNotConfigured'
  | 'Config'
  | 'PermissionDenied'
  | 'PreconditionFailed'
  | 'TooLarge'
  | 'Unsupported'
  | 'Aborted'
  | 'Connection'
  | 'ExtensionMissing'
  | 'Sql'
  | 'Storage';

export class MillraceError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'MillraceError';
    this.code = code;
  }
}

/** A database error: `sql` is the statement text (never its parameter values), `sqlState` the engine's code. */
export class SqlError extends MillraceError {
  readonly sql: string;
  readonly sqlState: string | undefined;
  readonly engine: 'postgres' | 'duckdb';

  constructor(
    message: string,
    details: { sql: string; sqlState?: string; engine: 'postgres' | 'duckdb'; code?: ErrorCode; cause?: unknown },
  ) {
    super(details.code ?? 'Sql', message, { cause: details.cause });
    this.name = 'SqlError';
    this.sql = details.sql;
    this.sqlState = details.sqlState;
    this.engine = details.engine;
  }
}

export function isMillraceError(e: unknown, code?: ErrorCode): e is MillraceError {
  return e instanceof MillraceError && (code === undefined || e.code === code);
}

export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * The one string scrubber: replaces the given secrets (4+ characters) with `***`, as well as
 * passwords inside URLs and `password=`/`token=`-style pairs (what drivers echo from connection
 * strings and DuckDB secrets).
 */
export function scrub(text: string, secrets: readonly unknown[] = []): string {
  let out = text;
  for (const s of secrets) if (typeof s === 'string' && s.length >= 4) out = out.split(s).join('***');
  return out
    .replace(/(\/\/[^:/@\s]*:)[^@/\s]*@/g, '$1***@')
    .replace(/\b(password|passwd|pwd|secret|key_id|session_token|account_key|sas_token|token)(\s*[=:]\s*)('[^']*'|"[^"]*"|\S+)/gi, '$1$2***')
    .replace(/(AccountKey|SharedAccessSignature|sig)=[^;&\s'"]+/gi, '$1=***');
}

/** The error of an aborted operation; the signal's reason is the cause. */
export function aborted(signal?: AbortSignal, what = 'The operation'): MillraceError {
  return new MillraceError('Aborted', `${what} was aborted`, signal?.reason === undefined ? undefined : { cause: signal.reason });
}

/**
 * A driver error reduced to what is safe to keep as `cause`: its name, code and message, with
 * `clean` applied (secrets, parameter values). Drivers attach queries, parameters and
 * connection options to their errors; none of that is kept.
 */
export function sanitizedCause(e: unknown, clean: (text: string) => string = (t) => scrub(t)): Error {
  const src = (e ?? {}) as { name?: unknown; message?: unknown; code?: unknown };
  const out = new Error(clean(typeof src.message === 'string' ? src.message : String(e))) as Error & { code?: string };
  out.name = typeof src.name === 'string' ? src.name : 'Error';
  if (typeof src.code === 'string' || typeof src.code === 'number') out.code = clean(String(src.code));
  return out;
}
