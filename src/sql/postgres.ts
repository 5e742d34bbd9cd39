/**
 * The PostgreSQL driver: one `postgres` (postgres.js) pool per datatable. It only executes:
 * compiled statements in, rows out, typed errors. The embedded default (PGlite) is served on a
 * private socket and reached through this same code, so both behave alike.
 */
import { connect as netConnect, Socket as NetSocket, type Socket } from 'node:net';
import type { Sql, TransactionSql, Options, PostgresType } from 'postgres';
type PostgresModule = typeof import('postgres');
import type { PostgresConfig } from '../config.js';
import { aborted, MillraceError, sanitizedCause, SqlError, scrub, type ErrorCode } from '../errors.js';
import { importBackend } from '../lazy.js';
import { cancelWhenRunning, connectionLost, isConnectionLoss, runAbortable } from './postgres-faults.js';
import { quoteIdent, scrubParams, type CompiledSql } from './template.js';
import type { Row } from './statement.js';

/** Where and how to connect: a parsed config, with nothing secret in `label`. */
export type PostgresTarget = {
  /** `datatable "main"`: how messages name this database. */
  label: string;
  url?: string;
  options: Options<Record<string, PostgresType>>;
  /** Connections in the pool (1 for the embedded PGlite, which serves one at a time). */
  max: number;
  /** Opens the socket itself, ready for the startup message (the embedded database finds or becomes its server). */
  connect?: () => Promise<Socket>;
  /** Seconds before an idle connection closes; by default never (idle connections do not hold the process). */
  idleTimeout?: number;
};

export type RunContext = { schema?: string; role?: string; signal?: AbortSignal };

const CONNECT_TIMEOUT_S = 10;

/** A pool and what it needs to let the process exit when idle. */
export class PostgresPool {
  readonly #sql: Sql<Record<string, PostgresType>>;
  readonly #label: string;
  /** Open sockets: referenced while a statement runs, unreferenced when the pool is idle. */
  readonly #handles = new Set<{ socket: Socket; handle: { ref(): void; unref(): void } | undefined }>();
  #busy = 0;
  /** Whether the open sockets currently hold the event loop. */
  #referenced = true;

  private constructor(postgres: PostgresModule, target: PostgresTarget) {
    this.#label = target.label;
    const options = {
      ...target.options,
      max: target.max,
      types: TYPES,
      fetch_types: false,
      prepare: true,
      // Timers of postgres.js would keep a finished script alive; idle sockets are unreferenced instead.
      idle_timeout: target.idleTimeout ?? 0,
      max_lifetime: 0,
      connect_timeout: CONNECT_TIMEOUT_S,
      onnotice: () => {},
      socket: (o: unknown) => (target.connect ? target.connect().then((s) => this.#track(s), failedSocket) : this.#connect(o as SocketOptions)),
      connection: { application_name: 'millrace', TimeZone: 'UTC', ...target.options.connection },
    } as Options<Record<string, PostgresType>>;
    this.#sql = target.url ? postgres(target.url, options) : postgres(options);
  }

  static async open(target: PostgresTarget): Promise<PostgresPool> {
    const mod = await importBackend<{ default: PostgresModule }>('postgres');
    return new PostgresPool(mod.default, target);
  }

  /** Runs the statements in order; several (or a schema or a role) share one transaction on one connection. */
  run(statements: CompiledSql[], ctx: RunContext = {}): Promise<Row[][]> {
    if (statements.length === 1 && !ctx.schema && !ctx.role) {
      if (ctx.signal) return this.#runCancellable(statements[0]!, ctx, ctx.signal);
      const statement = statements[0]!;
      const params = typedParams(this.#sql, statement);
      this.#enter();
      return this.#runOne(statement, params, ctx);
    }
    return this.#runMany(statements, ctx);
  }

  /**
   * The common case: one statement, no transaction; the caller has bound the parameters and entered.
   * `started` receives the query (to cancel it).
   *
   * Kept small on purpose, with binding and entering left to the two callers: V8 then inlines postgres.js's
   * `Query` constructor here. When it did not (this function doing more, or chaining `.then` on the
   * query instead of awaiting it), the young generation promoted every finished query's objects
   * until the next full collection: about 20 % more time per sequential select and full collections
   * every few seconds (bench/results/datatable.md has the measurements). The callers repeat their two
   * lines instead of sharing a helper: one in between was measured to bring the promotion back.
   */
  async #runOne(statement: CompiledSql, params: never[], ctx: RunContext, started?: (query: { cancel(): unknown }) => void): Promise<Row[][]> {
    try {
      const query = this.#sql.unsafe(statement.text, params, PREPARED);
      if (started) started(query);
      const rows = rowsOf(await query);
      this.#leave();
      return [rows];
    } catch (e) {
      this.#leave();
      throw this.#error(e, statement.text, ctx, [statement]);
    }
  }

  /** One statement with an abort signal: cancelled on the server when the signal fires (see postgres-faults.ts). */
  async #runCancellable(statement: CompiledSql, ctx: RunContext, signal: AbortSignal): Promise<Row[][]> {
    if (signal.aborted) throw aborted(signal, `${this.#label}: the statement`);
    const params = typedParams(this.#sql, statement);
    this.#enter();
    try {
      return [rowsOf(await runAbortable(this.#sql, statement.text, params, signal))];
    } catch (e) {
      throw this.#error(e, statement.text, ctx, [statement]);
    } finally {
      this.#leave();
    }
  }

  async #runMany(statements: CompiledSql[], ctx: RunContext): Promise<Row[][]> {
    const { signal } = ctx;
    if (signal?.aborted) throw aborted(signal, `${this.#label}: the statement`);
    const pending = new Set<Promise<unknown>>();
    let settled = false;
    let cancelling: Promise<void> | undefined;
    // One cancel request, to the statement running when it arrives: it fails the whole transaction.
    const onAbort = () => (cancelling ??= cancelWhenRunning(pending, () => settled));
    signal?.addEventListener('abort', onAbort, { once: true });
    this.#enter();
    try {
      return (await this.#sql.begin(async (tx) => {
        const prelude: string[] = [];
        if (ctx.role) prelude.push(`SET LOCAL ROLE ${quoteIdent(ctx.role)}`);
        if (ctx.schema) prelude.push(`SET LOCAL search_path TO ${quoteIdent(ctx.schema)}`);
        // Issued together, they are pipelined on the transaction's connection and run in order.
        const queries = [...prelude.map((t) => tx.unsafe(t)), ...statements.map((s) => this.#query(tx, s))];
        queries.forEach((q) => pending.add(q));
        const results = await Promise.allSettled(queries);
        settled = true;
        // The connection goes back to the pool only once no cancel request can reach it any more.
        if (cancelling) await cancelling;
        const failed = results.findIndex((r) => r.status === 'rejected');
        if (failed !== -1) {
          const reason = (results[failed] as PromiseRejectedResult).reason;
          if (isConnectionLoss(reason)) return connectionLost();
          const text = failed < prelude.length ? prelude[failed]! : statements[failed - prelude.length]!.text;
          throw this.#error(reason, text, ctx, statements, failed < prelude.length);
        }
        return results.slice(prelude.length).map((r) => rowsOf((r as PromiseFulfilledResult<unknown>).value));
      })) as Row[][];
    } catch (e) {
      throw e instanceof MillraceError ? e : this.#error(e, statements.map((s) => s.text).join(';\n'), ctx, statements);
    } finally {
      settled = true;
      this.#leave();
      signal?.removeEventListener('abort', onAbort);
    }
  }

  async close(): Promise<void> {
    await this.#sql.end({ timeout: 5 });
  }

  #query(sql: Sql<Record<string, PostgresType>> | TransactionSql<Record<string, PostgresType>>, s: CompiledSql) {
    return sql.unsafe(s.text, typedParams(sql, s), PREPARED);
  }

  #enter(): void {
    this.#busy++;
    if (this.#referenced) return;
    this.#referenced = true;
    for (const h of this.#handles) h.handle?.ref();
  }

  #leave(): void {
    if (--this.#busy > 0) return;
    // Right away rather than deferred with setImmediate: ref()/unref() only flip a flag on the libuv
    // handle, which costs less than an Immediate per statement.
    this.#referenced = false;
    for (const h of this.#handles) {
      if (h.socket.destroyed) this.#handles.delete(h);
      else h.handle?.unref();
    }
  }

  /**
   * postgres.js's socket hook: we connect, so we hold the handle and can let an idle pool not keep the process alive.
   * The socket is handed over while it connects: postgres.js then sees its `error` and `close` like its own
   * socket's, and queued statements move on to the next attempt (a rejected hook left them waiting forever).
   */
  #connect(o: SocketOptions): Socket {
    const host = o.host[0] ?? 'localhost';
    const port = o.port[0] ?? 5432;
    const socket = o.path ? netConnect(o.path) : netConnect(port, host);
    // postgres.js reads `host` for TLS server-name checks.
    Object.assign(socket, { host });
    const timer = setTimeout(() => socket.destroy(connectTimeout()), CONNECT_TIMEOUT_S * 1000);
    // postgres.js listens too; this one only keeps an early error from being an uncaught 'error' event.
    socket.on('error', ignore);
    socket.once('connect', () => clearTimeout(timer));
    socket.once('close', () => clearTimeout(timer));
    return this.#track(socket);
  }

  /** Holds the socket's handle, to unreference it while the pool is idle. */
  #track(socket: Socket): Socket {
    const entry = { socket, handle: (socket as unknown as { _handle?: { ref(): void; unref(): void } })._handle };
    this.#handles.add(entry);
    socket.once('close', () => this.#handles.delete(entry));
    if (!this.#referenced) entry.handle?.unref();
    return socket;
  }

  #error(e: unknown, sql: string, ctx: RunContext, statements: CompiledSql[], inPrelude = false): MillraceError {
    if (e instanceof MillraceError) return e;
    const err = e as { name?: string; code?: string; message?: string; detail?: string; hint?: string };
    if (ctx.signal?.aborted) return aborted(ctx.signal, `${this.#label}: the statement`);
    const params = statements.length === 1 ? statements[0]!.params : statements.flatMap((s) => s.params);
    const clean = (text: string) => scrubParams(scrub(text), params);
    const cause = sanitizedCause(e, clean);
    if (err?.name === 'PostgresError' && typeof err.code === 'string') {
      const sqlState = err.code;
      let code: ErrorCode = classify(sqlState);
      let message = `${this.#label}: ${err.message ?? 'error'}`;
      if (inPrelude && ctx.role && sql.includes('ROLE')) {
        code = 'PermissionDenied';
        message = `${this.#label}: cannot run as role ${JSON.stringify(ctx.role)}: ${err.message}`;
      }
      if (err.detail) message += ` (${hideRowValues(err.detail, sqlState)})`;
      if (err.hint) message += ` Hint: ${err.hint}`;
      return new SqlError(clean(message), { sql, sqlState, engine: 'postgres', code, cause });
    }
    const connCode = typeof err?.code === 'string' && CONNECTION_CODES.test(err.code) ? err.code : undefined;
    if (connCode) {
      return new MillraceError('Connection', `${this.#label}: cannot connect (${connCode}): ${clean(err.message ?? '')}`, { cause });
    }
    // Driver-side errors (postgres.js attaches the parameters to them): keep only the message.
    return new SqlError(`${this.#label}: ${clean(err?.message ?? String(e))}`, { sql, engine: 'postgres', cause });
  }
}

/**
 * Data (22) and integrity (23) errors echo the row or key: `Failing row contains (1, ab, null)`,
 * `Key (a, b)=(1, xy) already exists`. The values become `***`; column names and the rest stay.
 */
function hideRowValues(detail: string, sqlState: string): string {
  const cls = sqlState.slice(0, 2);
  if (cls !== '22' && cls !== '23') return detail;
  return detail
    .replace(/Failing row contains \(.*\)(\.?)$/s, 'Failing row contains (***)$1')
    .replace(/\)=\(.*?\)(?= already exists| is not present| is still referenced| conflicts with|\.?$)/gs, ')=(***)');
}

const CONNECTION_CODES = /^(E(CONNREFUSED|CONNRESET|HOSTUNREACH|NETUNREACH|ADDRNOTAVAIL|PIPE|TIMEDOUT|NOENT|ACCES)|ENOTFOUND|EAI_AGAIN|CONNECT_TIMEOUT|CONNECTION_(CLOSED|ENDED|DESTROYED)|SASL_SIGNATURE_MISMATCH|AUTH_TYPE_NOT_IMPLEMENTED)$/;

/**
 * SQLSTATE classes users branch on: 08 connection, 57P01-57P03 server shutdown or restart, 3D unknown database; 28 (rejected credentials:
 * 28P01 bad password, 28000 unknown role or no pg_hba entry) and 42501 (privilege) are
 * PermissionDenied, like a storage's rejected keys.
 */
function classify(sqlState: string): ErrorCode {
  if (sqlState === '42501') return 'PermissionDenied';
  if (sqlState === '57014') return 'Aborted';
  const cls = sqlState.slice(0, 2);
  if (cls === '28') return 'PermissionDenied';
  // 57P01-57P03: the server is shutting down, restarting or not yet up (57014 above is a cancel).
  if (cls === '08' || cls === '3D' || /^57P0[1-3]$/.test(sqlState)) return 'Connection';
  return 'Sql';
}

type SocketOptions = { host: string[]; port: number[]; path?: string | false };

function connectTimeout(): Error {
  return Object.assign(new Error(`connect timeout after ${CONNECT_TIMEOUT_S}s`), { code: 'CONNECT_TIMEOUT' });
}

function ignore(): void {}

/**
 * A socket that fails with `e` once postgres.js listens: it then handles the failure like any refused
 * connection. It fails only after postgres.js has flushed its startup message into it (a no-op): a
 * connection that closes with a write pending never flushes a later one (postgres.js 3.4.9 clears
 * that timer without forgetting it), and the next attempt would hang until its connect timeout.
 */
function failedSocket(e: unknown): Socket {
  const socket = new NetSocket();
  socket.on('error', ignore);
  socket.write = (() => true) as never;
  setImmediate(() => setImmediate(() => socket.destroy(e as Error)));
  return socket;
}

/**
 * undefined binds as NULL, also inside arrays (postgres.js refuses undefined); an integer beyond
 * 2^53 binds as the bigint it exactly is (its JS text, `1152921504606847000` for 2**60, is another number).
 */
function bindable(v: unknown): unknown {
  if (v === undefined) return null;
  if (typeof v === 'number') return v > Number.MAX_SAFE_INTEGER || v < -Number.MAX_SAFE_INTEGER ? exactInteger(v) : v;
  if (Array.isArray(v) && v.some(needsBinding)) return v.map(bindable);
  return v;
}

function needsBinding(v: unknown): boolean {
  return v === undefined || (typeof v === 'number' && (v > Number.MAX_SAFE_INTEGER || v < -Number.MAX_SAFE_INTEGER));
}

function exactInteger(v: number): number | bigint {
  return Number.isInteger(v) ? BigInt(v) : v;
}

const PREPARED = { prepare: true } as const;

/** Type 0 lets the server type each parameter from its `::type` cast in the text. */
function typedParams(sql: Sql<Record<string, PostgresType>> | TransactionSql<Record<string, PostgresType>>, s: CompiledSql): never[] {
  const params = new Array(s.params.length);
  for (let i = 0; i < params.length; i++) params[i] = sql.typed(bindable(s.params[i]!.value) as never, 0);
  return params as never[];
}

function rowsOf(result: unknown): Row[] {
  // postgres.js returns an Array subclass with metadata; users get plain arrays of plain objects.
  if (!Array.isArray(result)) return [];
  const rows: Row[] = new Array(result.length);
  for (let i = 0; i < rows.length; i++) rows[i] = result[i] as Row;
  return rows;
}

/** Postgres config (URL or Windmill's `postgresql` resource fields) to postgres.js options. */
export function postgresTarget(label: string, config: PostgresConfig): PostgresTarget {
  if (typeof config === 'string') return { label, url: config, options: {}, max: 10 };
  const ssl = sslOption(label, config.sslmode ?? "prefer", config.root_certificate_pem);
  return {
    label,
    max: 10,
    options: {
      host: config.host,
      port: config.port ?? 5432,
      user: config.user,
      password: config.password ?? '',
      database: config.dbname,
      ssl: ssl as Options<Record<string, PostgresType>>['ssl'],
    },
  };
}

/** libpq's sslmode semantics; with a root certificate, `require` verifies the chain like `verify-ca`. */
function sslOption(label: string, mode: string, ca: string | undefined): unknown {
  switch (mode) {
    case 'disable':
      return false;
    case 'allow':
    case 'prefer':
      return 'prefer';
    case 'require':
      return ca ? { ca, rejectUnauthorized: true, checkServerIdentity: () => undefined } : 'require';
    case 'verify-ca':
      return { ...(ca ? { ca } : {}), rejectUnauthorized: true, checkServerIdentity: () => undefined };
    case 'verify-full':
      return { ...(ca ? { ca } : {}), rejectUnauthorized: true };
    default:
      throw new MillraceError('Config', `${label}: sslmode: unknown value ${JSON.stringify(mode)} (expected disable, allow, prefer, require, verify-ca or verify-full)`);
  }
}

// ---- Type mapping (see the README table): exact where JS can be, strings where it cannot. ----

/** int8: a number while exact (|n| < 2^53), a bigint beyond, never silently rounded. */
export function parseInt8(x: string): number | bigint {
  const n = Number(x);
  return Number.isSafeInteger(n) ? n : BigInt(x);
}

function parseBytea(x: string): Uint8Array {
  const out = new Uint8Array((x.length - 2) >> 1);
  Buffer.from(out.buffer).write(x.slice(2), 'hex');
  return out;
}

function serializeBytea(x: unknown): string {
  if (x instanceof Uint8Array) return '\\x' + Buffer.from(x.buffer, x.byteOffset, x.byteLength).toString('hex');
  return String(x);
}

const TIMESTAMP = /^(\d{4,})-(\d\d)-(\d\d)[ T](\d\d):(\d\d):(\d\d)(\.\d+)?(?:([+-])(\d\d)(?::?(\d\d))?(?::?(\d\d))?)?( BC)?$/;

/** timestamp (no zone) is read as UTC; timestamptz uses its offset. `infinity` stays a string. */
export function parseTimestamp(x: string): Date | string {
  const m = TIMESTAMP.exec(x);
  if (!m) return x;
  let year = Number(m[1]);
  if (m[12]) year = 1 - year; // 1 BC is year 0
  const ms = m[7] ? Math.floor(Number(m[7]) * 1000) : 0;
  const d = new Date(0);
  d.setUTCFullYear(year, Number(m[2]) - 1, Number(m[3]));
  d.setUTCHours(Number(m[4]), Number(m[5]), Number(m[6]), ms);
  if (m[8]) {
    const offset = (Number(m[9]) * 3600 + Number(m[10] ?? 0) * 60 + Number(m[11] ?? 0)) * 1000;
    d.setTime(d.getTime() - (m[8] === '-' ? -offset : offset));
  }
  return d;
}

function serializeTimestamp(x: unknown): string {
  return x instanceof Date ? x.toISOString() : String(x);
}

function serializeText(x: unknown): string {
  if (typeof x === 'string') return x;
  if (x instanceof Date) return x.toISOString();
  if (typeof x === 'object' && x !== null && !(x instanceof Uint8Array)) return JSON.stringify(x);
  return String(x);
}

/** Element types by oid: [array oid, parse, serialize]. Types not listed come back as text. */
const ELEMENTS: Record<number, [number, (x: string) => unknown, (x: unknown) => string]> = {
  16: [1000, (x) => x === 't', (x) => (x === true || x === 't' ? 't' : x === false || x === 'f' ? 'f' : String(x))],
  17: [1001, parseBytea, serializeBytea],
  20: [1016, parseInt8, String],
  21: [1005, Number, String],
  23: [1007, Number, String],
  26: [1028, Number, String],
  700: [1021, Number, String],
  701: [1022, Number, String],
  // numeric stays a string: JS numbers cannot hold its precision.
  1700: [1231, (x) => x, String],
  25: [1009, (x) => x, serializeText],
  1043: [1015, (x) => x, serializeText],
  1042: [1014, (x) => x, serializeText],
  19: [1003, (x) => x, serializeText],
  2950: [2951, (x) => x, String],
  // A string bound as json is taken as JSON text (like a literal); anything else is stringified.
  114: [199, (x) => JSON.parse(x), serializeJson],
  3802: [3807, (x) => JSON.parse(x), serializeJson],
  // A date has no time zone: 'YYYY-MM-DD' keeps it exact (a Date would shift with the local zone).
  1082: [1182, (x) => x, serializeTimestamp],
  1083: [1183, (x) => x, String],
  1266: [1270, (x) => x, String],
  1114: [1115, parseTimestamp, serializeTimestamp],
  1184: [1185, parseTimestamp, serializeTimestamp],
  1186: [1187, (x) => x, String],
};

function serializeJson(x: unknown): string {
  return typeof x === 'string' ? x : JSON.stringify(x);
}

/** PostgreSQL's array text format, NULLs included (`{1,NULL,"a\"b"}`, `[0:1]={...}`). */
export function parseArray(x: string, parse: (s: string) => unknown): unknown[] {
  let i = x.charCodeAt(0) === 91 /* [ */ ? x.indexOf('=') + 1 : 0;
  const level = (): unknown[] => {
    i++; // {
    const out: unknown[] = [];
    if (x[i] === '}') {
      i++;
      return out;
    }
    for (;;) {
      const c = x[i];
      if (c === '{') out.push(level());
      else if (c === '"') {
        let s = '';
        let from = ++i;
        while (x[i] !== '"') {
          if (x[i] === '\\') {
            s += x.slice(from, i);
            from = ++i;
          }
          i++;
        }
        out.push(parse(s + x.slice(from, i++)));
      } else {
        let j = i;
        while (x[j] !== ',' && x[j] !== '}') j++;
        const s = x.slice(i, j);
        i = j;
        out.push(s === 'NULL' ? null : parse(s));
      }
      if (x[i++] === '}') return out;
    }
  };
  return level();
}

function serializeArray(xs: unknown, serialize: (x: unknown) => string): string {
  if (!Array.isArray(xs)) return serialize(xs);
  return '{' + xs.map((x) => (x === null || x === undefined ? 'NULL' : Array.isArray(x) ? serializeArray(x, serialize) : '"' + serialize(x).replace(/[\\"]/g, '\\$&') + '"')).join(',') + '}';
}

/** postgres.js type handlers: each element type and its array; nothing is fetched from the server at connect. */
const TYPES = Object.fromEntries(
  Object.entries(ELEMENTS).flatMap(([oid, [arrayOid, parse, serialize]]) => [
    [`t${oid}`, { to: Number(oid), from: [Number(oid)], parse, serialize }],
    [`t${arrayOid}`, { to: arrayOid, from: [arrayOid], parse: (x: string) => parseArray(x, parse), serialize: (x: unknown) => serializeArray(x, serialize) }],
  ]),
) as unknown as Record<string, PostgresType>;
