/**
 * Containment for the faults postgres.js lets escape: what would otherwise surface as an uncaught
 * exception or an unhandled rejection, or leave a statement that never settles, is kept inside the
 * pool and reaches the caller as a typed error on its own statement.
 */

type Cancellable = { cancel(): unknown };

/**
 * Asks the server to cancel a running query. The request goes over a new connection, which can fail
 * (the embedded server accepts one connection; a server that just went down refuses it): the statement
 * then settles on its own, and the failed request is not the caller's error.
 *
 * postgres.js's `query.cancel()` drops the promise of that request, so its failure became an unhandled
 * rejection (an EPIPE that killed the process). Its canceller (postgres.js 3.4's `Query#canceller`,
 * what `cancel()` calls once) returns that promise: it is called here and the failure is caught.
 */
export function cancelQuietly(query: Cancellable | undefined): void {
  const q = query as (Cancellable & { canceller?: ((q: unknown) => Promise<unknown>) | null }) | undefined;
  if (!q) return;
  const canceller = q.canceller;
  if (typeof canceller !== 'function') {
    q.cancel();
    return;
  }
  q.canceller = null;
  canceller(q)?.catch?.(() => undefined);
}
