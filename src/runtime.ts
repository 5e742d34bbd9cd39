/**
 * The one lifecycle every cache follows: open a thing once per key, forget it when opening fails
 * (the next call tries again), release it on `close()` and when the config changes.
 */

/** Things opened on first use (clients, pools, the DuckDB instance), each opened once per key. */
export class Cache<T> {
  readonly #pending = new Map<string, Promise<T>>();
  /** The entries of `#pending` that have finished opening: read on hot paths without a promise. */
  readonly #ready = new Map<string, T>();

  constructor(readonly release: (value: T) => void | Promise<void> = () => undefined) {}

  /** The value for `key`, opened by `open` the first time; a failed open is not kept. */
  get(key: string, open: () => Promise<T>): Promise<T> {
    let p = this.#pending.get(key);
    if (!p) {
      p = open();
      this.#pending.set(key, p);
      const mine = p;
      mine.then(
        (v) => this.#pending.get(key) === mine && this.#ready.set(key, v),
        () => this.#pending.get(key) === mine && this.#pending.delete(key),
      );
    }
    return p;
  }

  /** The value for `key` if it has finished opening. */
  ready(key: string): T | undefined {
    return this.#ready.get(key);
  }

  /** Forgets every entry at once, then releases those that opened. */
  async clear(): Promise<void> {
    const all = [...this.#pending.values()];
    this.#pending.clear();
    this.#ready.clear();
    await Promise.allSettled(all.map(async (p) => this.release(await p)));
  }
}

const caches = new Set<Cache<unknown>>();

/** A process-wide cache, cleared by `close()` and by a config change. */
export function cache<T>(release?: (value: T) => void | Promise<void>): Cache<T> {
  const c = new Cache<T>(release);
  caches.add(c as Cache<unknown>);
  return c;
}

/** Releases every client, pool and database instance millrace opened. Safe to call more than once. */
export async function close(): Promise<void> {
  await Promise.allSettled([...caches].map((c) => c.clear()));
}
