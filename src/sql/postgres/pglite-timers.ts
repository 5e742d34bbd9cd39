/**
 * The PostgreSQL inside PGlite arms timers (its 10 s idle statistics flush, statement timeouts)
 * through setitimer, which Emscripten maps to the global setTimeout, and re-arms them from their
 * own callbacks. Referenced, one of them keeps a finished script alive, and a chain of them keeps it
 * alive forever. Every timer PGlite arms is unreferenced instead: it still fires in a process that
 * keeps running, but never keeps a finished script alive.
 *
 * The global is swapped only while PGlite runs: synchronously around each message it executes and
 * around its timers' callbacks, and while `PGlite.create()` opens a data folder (asynchronous, so
 * there only timers armed from PGlite's own code are touched, recognised by their stack).
 */
let depth = 0;
let saved: typeof setTimeout = globalThis.setTimeout;

/** Runs `fn` (synchronous) with every timer it arms unreferenced. */
export function withUnrefTimers<T>(fn: () => T): T {
  if (depth++ === 0) {
    saved = globalThis.setTimeout;
    globalThis.setTimeout = unrefSetTimeout as typeof setTimeout;
  }
  try {
    return fn();
  } finally {
    if (--depth === 0) globalThis.setTimeout = saved;
  }
}

/** Awaits `open()` (PGlite.create) with the timers PGlite's code arms meanwhile unreferenced; other code's timers are left alone. */
export async function openWithUnrefTimers<T>(open: () => Promise<T>): Promise<T> {
  const original = globalThis.setTimeout;
  const swapped = ((fn: (...a: unknown[]) => void, ms?: number, ...rest: unknown[]) =>
    FROM_PGLITE.test(new Error().stack ?? '') ? unrefTimeout(original, fn, ms, rest) : original(fn, ms, ...rest)) as typeof setTimeout;
  globalThis.setTimeout = swapped;
  try {
    return await open();
  } finally {
    // Someone else may have swapped it meanwhile; only our own swap is undone.
    if (globalThis.setTimeout === swapped) globalThis.setTimeout = original;
  }
}

/** Emscripten's setitimer shim, or any frame of the PGlite package. */
const FROM_PGLITE = /__setitimer_js|[\\/]@electric-sql[\\/]pglite[\\/]/;

function unrefSetTimeout(fn: (...a: unknown[]) => void, ms?: number, ...rest: unknown[]): NodeJS.Timeout {
  return unrefTimeout(saved, fn, ms, rest);
}

function unrefTimeout(set: typeof setTimeout, fn: (...a: unknown[]) => void, ms: number | undefined, rest: unknown[]): NodeJS.Timeout {
  // The callback re-arms through setitimer: it runs with the swap in place too.
  const timer = set((...a: unknown[]) => withUnrefTimers(() => fn(...a)), ms, ...rest) as unknown as NodeJS.Timeout;
  timer.unref?.();
  return timer;
}
