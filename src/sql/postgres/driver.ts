/**
 * The PostgreSQL driver: one `postgres` (postgres.js) pool per datatable. It only executes:
 * compiled statements in, rows out, typed errors. The embedded default (PGlite) is served on a
 * private socket and reached through this same code, so both behave alike.
 */
import { connect as netConnect, type Socket } from 'node:net';
import type { Sql, TransactionSql, Options, PostgresType } from 'postgres';
type PostgresModule = typeof import('postgres');
import { aborted, MillraceError, sanitizedCause, SqlError, scrub, type ErrorCode } from '../../errors.js';
import { importBackend } from '../../lazy.js';
import type { CompiledSql, Row, RunContext, SqlDriver, StreamOptions } from '../engine.js';
import { scrubParams } from '../scrub.js';
import { quoteIdent } from '../template.js';
import { hasProtoColumn, ownColumnName, ownColumns } from './rows.js';
import { streamRows } from './stream.js';
import { ParamPlans, planKey, planKeys, RESTART } from './params.js';
import { classify, CONNECTION_CODES, hideRowValues } from './errors.js';
import { TYPES } from './types.js';
import { cancelWhenRunning, connectionLost, connectTimeout, failedSocket, ignore, isConnectionLoss, neverSent, runAbortable } from './faults.js';

export type { RunContext } from '../engine.js';

type AnySql = Sql<Record<string, PostgresType>> | TransactionSql<Record<string, PostgresType>>;

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

const CONNECT_TIMEOUT_S = 10;

/** A pool and what it needs to let the process exit when idle. */
export class PostgresPool implements SqlDriver {
  readonly #sql: Sql<Record<string, PostgresType>>;
  readonly #label: string;
  /** Open sockets: referenced while a statement runs, unreferenced when the pool is idle. */
  readonly #handles = new Set<{ socket: Socket; handle: { ref(): void; unref(): void } | undefined }>();
  readonly #plans = new ParamPlans(); // the parameter types the server told, per statement text
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
      transform: { column: { from: ownColumnName } }, // a `__proto__` column stays a column (rows.ts)
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
      const params = this.#plans.bind(this.#sql, statement, statement.text);
      if (!params) return this.#prepareThenRun(statement, ctx);
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
      return this.#again(e, statement, ctx);
    }
  }

  /**
   * A single statement that failed: run again with windmill-client's type where the server could not
   * type a parameter from its context, or once more where it never reached the server (faults.ts
   * `neverSent`); else its typed error.
   */
  #again(e: unknown, statement: CompiledSql, ctx: RunContext): Promise<Row[][]> {
    const again = this.#plans.learn(e, statement, statement.text) ? ctx : neverSent(e, ctx);
    if (again) return this.run([statement], again);
    throw this.#error(e, statement.text, ctx, [statement]);
  }

  /** A statement whose parameters need the server's types first (once per statement text). */
  async #prepareThenRun(statement: CompiledSql, ctx: RunContext): Promise<Row[][]> {
    await this.#prepare(statement, ctx);
    return this.run([statement], ctx);
  }

  async #prepare(statement: CompiledSql, ctx: RunContext): Promise<never[]> {
    this.#enter();
    try {
      await this.#plans.prepare(this.#sql, statement, statement.text, false);
      return this.#plans.bind(this.#sql, statement, statement.text)!;
    } catch (e) {
      throw this.#error(e, statement.text, ctx, [statement]);
    } finally {
      this.#leave();
    }
  }

  /** One statement with an abort signal: cancelled on the server when the signal fires (see faults.ts). */
  async #runCancellable(statement: CompiledSql, ctx: RunContext, signal: AbortSignal): Promise<Row[][]> {
    if (signal.aborted) throw aborted(signal, `${this.#label}: the statement`);
    let params = this.#plans.bind(this.#sql, statement, statement.text);
    if (!params) params = await this.#prepare(statement, ctx);
    this.#enter();
    try {
      return [rowsOf(await runAbortable(this.#sql, statement.text, params, signal))];
    } catch (e) {
      if (signal.aborted) throw this.#error(e, statement.text, ctx, [statement]);
      return await this.#again(e, statement, ctx);
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
      for (let attempt = 0; ; attempt++) {
        try {
          return (await this.#sql.begin((tx) => this.#transaction(tx, statements, ctx, pending, () => (settled = true), () => cancelling))) as Row[][];
        } catch (e) {
          // Rolled back whole: what a refused parameter type taught is kept, and the statements run again.
          // Or its BEGIN met a terminated backend's kept error, never sent (faults.ts `neverSent`): once more.
          if (e === RESTART ? attempt > 2 * statements.reduce((n, s) => n + s.params.length, 2) : attempt > 0 || !neverSent(e, ctx)) throw e;
          settled = false;
        }
      }
    } catch (e) {
      throw e instanceof MillraceError ? e : this.#error(e, statements.map((s) => s.text).join(';\n'), ctx, statements);
    } finally {
      settled = true;
      this.#leave();
      signal?.removeEventListener('abort', onAbort);
    }
  }

  /** Inside the transaction: the prelude (role, schema), then the statements, pipelined unless one needs the server's parameter types first. */
  async #transaction(tx: TransactionSql<Record<string, PostgresType>>, statements: CompiledSql[], ctx: RunContext, pending: Set<Promise<unknown>>, done: () => void, cancelling: () => Promise<void> | undefined): Promise<Row[][]> {
    const prelude: string[] = [];
    if (ctx.role) prelude.push(`SET LOCAL ROLE ${quoteIdent(ctx.role)}`);
    if (ctx.schema) prelude.push(`SET LOCAL search_path TO ${quoteIdent(ctx.schema)}`);
    // Issued together, they are pipelined on the transaction's connection and run in order.
    const queries: Promise<unknown>[] = prelude.map((t) => tx.unsafe(t));
    queries.forEach((q) => pending.add(q));
    const keys = planKeys(statements, ctx.schema);
    for (const [i, s] of statements.entries()) {
      const key = keys[i]!;
      let params = this.#plans.bind(tx, s, key);
      if (!params) {
        // Its parameters are typed once the statements before it have run (they may create its table).
        if ((await Promise.allSettled(queries)).some((r) => r.status === 'rejected')) break;
        await this.#plans.prepare(tx, s, key, true).catch((e) => Promise.reject(e === RESTART || isConnectionLoss(e) ? e : this.#error(e, s.text, ctx, statements)));
        params = this.#plans.bind(tx, s, key)!;
      }
      const query = tx.unsafe(s.text, params, PREPARED);
      pending.add(query);
      queries.push(query);
    }
    const results = await Promise.allSettled(queries);
    done();
    // The connection goes back to the pool only once no cancel request can reach it any more.
    const c = cancelling();
    if (c) await c;
    const failed = results.findIndex((r) => r.status === 'rejected');
    if (failed !== -1) {
      const reason = (results[failed] as PromiseRejectedResult).reason;
      if (isConnectionLoss(reason)) return connectionLost();
      const statement = statements[failed - prelude.length];
      if (statement && this.#plans.learn(reason, statement, keys[failed - prelude.length]!)) throw RESTART;
      throw this.#error(reason, statement ? statement.text : prelude[failed]!, ctx, statements, !statement);
    }
    return results.slice(prelude.length).map((r) => rowsOf((r as PromiseFulfilledResult<unknown>).value));
  }

  /** One statement's rows from a cursor, on a connection of this pool (see stream.ts). */
  stream(statement: CompiledSql, ctx: RunContext, options: StreamOptions): AsyncGenerator<Row[]> {
    const key = planKey(statement.text, ctx.schema);
    const bind = async (on: AnySql, inTransaction: boolean) => {
      const params = this.#plans.bind(on, statement, key);
      if (params) return params;
      await this.#plans.prepare(on, statement, key, inTransaction);
      return this.#plans.bind(on, statement, key)!;
    };
    const hooks = { enter: () => this.#enter(), leave: () => this.#leave(), bind, learn: (e: unknown) => this.#plans.learn(e, statement, key), error: (e: unknown, text: string, inPrelude: boolean) => this.#error(e, text, ctx, [statement], inPrelude) };
    return streamRows(this.#sql, statement, ctx, options, hooks);
  }

  async close(): Promise<void> {
    await this.#sql.end({ timeout: 5 });
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
      // Each piece is cleaned on its own: the server echoes input at the end of a message or detail.
      let message = `${this.#label}: ${clean(err.message ?? 'error')}`;
      if (inPrelude && ctx.role && sql.includes('ROLE')) {
        code = 'PermissionDenied';
        message = `${this.#label}: cannot run as role ${JSON.stringify(ctx.role)}: ${clean(err.message ?? '')}`;
      }
      if (err.detail) message += ` (${clean(hideRowValues(err.detail, sqlState))})`;
      if (err.hint) message += ` Hint: ${clean(err.hint)}`;
      return new SqlError(message, { sql, sqlState, engine: 'postgres', code, cause });
    }
    const connCode = typeof err?.code === 'string' && CONNECTION_CODES.test(err.code) ? err.code : undefined;
    if (connCode) {
      return new MillraceError('Connection', `${this.#label}: cannot connect (${connCode}): ${clean(err.message ?? '')}`, { cause });
    }
    // Driver-side errors (postgres.js attaches the parameters to them): keep only the message.
    return new SqlError(`${this.#label}: ${clean(err?.message ?? String(e))}`, { sql, engine: 'postgres', cause });
  }
}

type SocketOptions = { host: string[]; port: number[]; path?: string | false };

const PREPARED = { prepare: true } as const;

function rowsOf(result: unknown): Row[] {
  // postgres.js returns an Array subclass with metadata; users get plain arrays of plain objects.
  if (!Array.isArray(result)) return [];
  const columns = (result as { columns?: { name: string }[] | null }).columns;
  if (hasProtoColumn(columns)) return ownColumns(result, columns);
  const rows: Row[] = new Array(result.length);
  for (let i = 0; i < rows.length; i++) rows[i] = result[i] as Row;
  return rows;
}
