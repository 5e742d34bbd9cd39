/**
 * How the fs backend keeps every path inside its root: a path below the root must reach its
 * deepest existing folder or file without a symbolic link (its real path is itself), and a file
 * is opened without following links, then checked from its descriptor. Hard links cannot be told
 * apart from files; writes replace files (rename), so they never change a hard link's other name.
 */
import { constants, lstatSync, realpathSync } from 'node:fs';
import { type FileHandle, lstat, open, readlink, realpath } from 'node:fs/promises';
import { dirname, sep } from 'node:path';

/** Reads never follow a final link, and never block on a FIFO planted in the root. */
export const READ_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

/** What is thrown where a path below the root crosses a symbolic link. */
export function linked(): Error {
  return Object.assign(new Error('the path crosses a symbolic link'), { code: 'ELINK' });
}

export function isMissing(e: unknown): boolean {
  const c = (e as { code?: string } | null)?.code;
  return c === 'ENOENT' || c === 'ENOTDIR';
}

function below(root: string, p: string): boolean {
  return p.startsWith(root.endsWith(sep) ? root : root + sep) && p !== root;
}

/** Throws ELINK unless `path` (below `root`, both real) reaches what exists of it without a link. */
export async function assertInside(root: string, path: string): Promise<void> {
  for (let p = path; below(root, p); p = dirname(p)) {
    try {
      if ((await realpath(p)) !== p) throw linked();
      return;
    } catch (e) {
      if (!isMissing(e)) throw e;
    }
    // Missing, unless it is a dangling link (an entry made meanwhile is checked through its parent).
    if ((await lstat(p).catch(() => undefined))?.isSymbolicLink()) throw linked();
  }
}

/** `assertInside` for DuckDB, which opens the path itself, from a synchronous URL builder. */
export function assertInsideSync(root: string, path: string): void {
  for (let p = path; below(root, p); p = dirname(p)) {
    try {
      if (realpathSync.native(p) !== p) throw linked();
      return;
    } catch (e) {
      if (!isMissing(e)) throw e;
    }
    if (lstatSync(p, { throwIfNoEntry: false })?.isSymbolicLink()) throw linked();
  }
}

/**
 * Opens a file for reading and checks that what was opened is `path` itself, from the open
 * descriptor where the OS tells (Linux): a link swapped in meanwhile cannot pass.
 */
export async function openInside(path: string): Promise<FileHandle> {
  const handle = await open(path, READ_FLAGS);
  try {
    const real = await readlink(`/proc/self/fd/${handle.fd}`).catch(() => realpath(path));
    if (real !== path) throw linked();
    return handle;
  } catch (e) {
    await handle.close();
    throw e;
  }
}
