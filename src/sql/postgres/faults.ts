/**
 * Containment for the faults postgres.js lets escape: what would otherwise surface as an uncaught
 * exception or an unhandled rejection, a statement that never settles or a statement that receives
 * another's result, is kept inside the pool and reaches the caller as a typed error on its own statement.
 *
 * Cancels. postgres.js cancels a query that is queued or pipelined behind another by marking it, and
 * that mark is what goes wrong (postgres.js 3.4.9): a query marked while its connection starts up is
 * never run and the connection never becomes free again (the pool stops serving); marked queries taken
 * off a connection's pipeline leave their results on the wire for the next query (a caller receives
 * another statement's rows); and a cancel request names a backend, not a query, so it hits whatever
 * runs there when it arrives. So a cancellable statement runs on a connection reserved for it, a cancel
 * request is sent only once that statement is running, and the connection is released only after the
 * request was handled: the request can reach no other statement.
 */
import { Socket as NetSocket, type Socket } from 'node:net';
import type { Sql, PostgresType } from 'postgres';

type Pool = Sql<Record<string, PostgresType>>;
/** The parts of a postgres.js `Query` used here (3.4: `active` once it runs, `canceller` what `cancel()` calls once). */
type RunningQuery = Promise<unknown> & { active?: boolean; canceller?: ((q: unknown) => Promise<unknown>) | null };

/** What a signal that fired before the statement started rejects with; the pool reports `Aborted`. */
export class NotStarted extends Error {}

/**
 * One statement on a connection of its own, cancelled on the server when `signal` fires. The connection
 * is held by a transaction around the statement (`sql.reserve()` of postgres.js 3.4.9 never hands a
 * connection that has to be opened first); it goes back to the pool once no cancel request can reach it.
 */
export function runAbortable(sql: Pool, text: string, params: never[], signal: AbortSignal): Promise<unknown> {
  const running: RunningQuery[] = [];
  let started = false;
  let done = false;
  let cancelling: Promise<void> | undefined;
  let notStarted: (e: Error) => void = () => undefined;
  const onAbort = () => {
    if (started) cancelling ??= cancelWhenRunning(running, () => done);
    else notStarted(new NotStarted('aborted before it started'));
  };
  signal.addEventListener('abort', onAbort, { once: true });
  const result = sql.begin(async (tx) => {
    // Aborted while waiting for a connection: the caller has its answer; nothing runs.
    if (signal.aborted) throw new NotStarted('aborted before it started');
    started = true;
    const query = tx.unsafe(text, params, { prepare: true }) as unknown as RunningQuery;
    running.push(query);
    let outcome: { ok: unknown } | { error: unknown };
    try {
      outcome = { ok: await query };
    } catch (error) {
      outcome = { error };
    }
    done = true;
    if (cancelling) await cancelling;
    if ('ok' in outcome) return outcome.ok;
    if (isConnectionLoss(outcome.error)) return connectionLost();
    throw outcome.error;
  });
  result.then(
    () => signal.removeEventListener('abort', onAbort),
    () => signal.removeEventListener('abort', onAbort),
  );
  return Promise.race([result, new Promise<never>((_, reject) => (notStarted = reject))]);
}

/**
 * Sends one cancel request for whichever of `queries` (read afresh on each look) is running, waiting for one to run; resolves when
 * the server has handled the request (or it failed: the embedded server accepts one connection, a server
 * going down refuses it; the statement then settles on its own). Never rejects.
 */
export function cancelWhenRunning(queries: Iterable<Promise<unknown>>, done: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    const attempt = () => {
      if (done()) return resolve();
      let running: RunningQuery | undefined;
      for (const q of queries as Iterable<RunningQuery>) if (q.active && typeof q.canceller === 'function') running ??= q;
      if (!running) return void setTimeout(attempt, 1);
      const canceller = running.canceller!;
      running.canceller = null;
      Promise.resolve(canceller(running)).then(() => resolve(), () => resolve());
    };
    attempt();
  });
}

/**
 * Whether a statement failed because its connection is gone (closed, reset, the server shutting down).
 * Inside `sql.begin`, postgres.js answers a failed callback with a ROLLBACK on the same connection; on a
 * closed one that write runs after its socket was dropped and throws an uncaught TypeError
 * (`Cannot read properties of null (reading 'write')`, connection.js nextWrite) that kills the process.
 */
export function isConnectionLoss(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^(CONNECTION_(CLOSED|DESTROYED|ENDED)|ECONNRESET|EPIPE|57P0[1-3]|08...)$/.test(code);
}

/**
 * What a `sql.begin` callback returns when its connection is gone: a promise that never settles, so
 * postgres.js sends nothing more on that connection (any later ROLLBACK would crash as above), and
 * `begin` rejects on its own when the connection closes (CONNECTION_CLOSED), which these errors precede.
 * Nothing refers to the promise after that: it is collected with the transaction.
 */
export function connectionLost(): Promise<never> {
  return new Promise<never>(() => undefined);
}

export function connectTimeout(): Error {
  return Object.assign(new Error(`connect timeout after 10s`), { code: 'CONNECT_TIMEOUT' });
}

export function ignore(): void {}

/**
 * A socket that fails with `e` once postgres.js listens: it then handles the failure like any refused
 * connection. It fails only after postgres.js has flushed its startup message into it (a no-op): a
 * connection that closes with a write pending never flushes a later one (postgres.js 3.4.9 clears
 * that timer without forgetting it), and the next attempt would hang until its connect timeout.
 */
export function failedSocket(e: unknown): Socket {
  const socket = new NetSocket();
  socket.on('error', ignore);
  socket.write = (() => true) as never;
  setImmediate(() => setImmediate(() => socket.destroy(e as Error)));
  return socket;
}

const replayed = new WeakSet<object>();

/**
 * A terminated backend's error, handed to a statement that never reached it. postgres.js 3.4.9 keeps
 * the FATAL ErrorResponse of a backend terminated while a query ran (57P01 by an administrator or a
 * failover, 57P02 a crash) past the connection's close: the running query rejects with
 * CONNECTION_CLOSED, and the kept error rejects the next query opened on that connection slot, at its
 * startup, before that query is sent (connection.js: `errorResponse` survives `closed()`; see
 * test/datatable-faults.test.ts). A FATAL error at startup always precedes the sending, so such a
 * statement is run again, once. Returns the context to run it with, or undefined.
 */
export function neverSent<C extends object>(e: unknown, ctx: C): C | undefined {
  const err = e as { name?: string; code?: string };
  if (err?.name !== 'PostgresError' || (err.code !== '57P01' && err.code !== '57P02') || replayed.has(ctx)) return undefined;
  const again = { ...ctx };
  replayed.add(again);
  return again;
}
