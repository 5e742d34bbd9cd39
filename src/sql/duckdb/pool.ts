/**
 * A small pool of sessions (DuckDB connections set up for one lake and schema): concurrent
 * statements each get their own, so they run at the same time; sequential ones reuse the one
 * used last. A session left inside a transaction (`BEGIN` run, no `COMMIT` yet) takes every
 * statement until it ends, as a single connection would.
 */

/** Statements of one lake and schema in flight at once; more wait for a free session. */
export const POOL_SIZE = 4;

export interface Session {
  /** True while a transaction the SQL opened (`BEGIN`) is still open on this connection. */
  readonly inTransaction: boolean;
  close(): void;
}

export class SessionPool<S extends Session> {
  readonly #idle: S[] = [];
  readonly #waiting: ((s: S) => void)[] = [];
  #opened = 0;
  #pinned: S | undefined;

  constructor(
    readonly open: () => Promise<S>,
    readonly size = POOL_SIZE,
  ) {}

  /** Runs `work` on a session of its own (or on the session holding an open transaction). */
  async use<T>(work: (s: S) => Promise<T>): Promise<T> {
    const pinned = this.#pinned;
    if (pinned) {
      // The transaction's session serializes its statements itself (see Connection.serial).
      try {
        return await work(pinned);
      } finally {
        if (this.#pinned === pinned && !pinned.inTransaction) {
          this.#pinned = undefined;
          this.release(pinned);
        }
      }
    }
    const s = this.#idle.pop() ?? (await this.acquire());
    let kept = false;
    try {
      return await work(s);
    } finally {
      if (s.inTransaction && !this.#pinned) {
        this.#pinned = s;
        kept = true;
      }
      if (!kept) this.release(s);
    }
  }

  /** A session for the caller alone (a stream); give it back with `release`. */
  acquire(): Promise<S> {
    const idle = this.#idle.pop();
    if (idle) return Promise.resolve(idle);
    if (this.#opened < this.size) {
      this.#opened++;
      return this.open().catch((e) => {
        this.#opened--;
        throw e;
      });
    }
    return new Promise<S>((resolve) => this.#waiting.push(resolve));
  }

  release(s: S): void {
    const next = this.#waiting.shift();
    if (next) next(s);
    // Last in, first out: sequential statements keep using one warm connection.
    else this.#idle.push(s);
  }

  close(): void {
    for (const s of this.#idle.splice(0)) s.close();
  }
}
