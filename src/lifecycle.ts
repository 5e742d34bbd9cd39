/** Modules that hold clients, pools or database instances register here, so `close()` reaches them all. */
const closers = new Set<() => Promise<void>>();

export function onClose(closer: () => Promise<void>): void {
  closers.add(closer);
}

/** Releases every client, pool and database instance millrace opened. Safe to call more than once. */
export async function close(): Promise<void> {
  await Promise.allSettled([...closers].map((c) => c()));
}
