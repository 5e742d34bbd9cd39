/**
 * How the fs backend writes: a body into its temp file in few large writes, a per-key lock around
 * the two renames that publish a version (data, then its metadata), held across processes, and
 * the sweep of temp files that killed writers left behind.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { BigIntStats } from 'node:fs';
import { type FileHandle, open, readdir, readFile, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { PutBody, PutOptions } from './types.js';
import { isAlive } from '../pid.js';
import { throwIfAborted } from './util.js';

/** Small chunks are gathered into writes of this size: one write call per 1 KiB chunk cost 5x a plain write stream. */
const WRITE_BUFFER = 256 * 1024;

/** Writes a body to a temp file; `onProgress` hears of bytes once written. */
export async function writeBody(handle: FileHandle, body: PutBody, opts: Pick<PutOptions, 'signal' | 'onProgress'>): Promise<void> {
  let sent = 0;
  const write = async (chunk: Uint8Array) => {
    throwIfAborted(opts.signal);
    await handle.write(chunk);
    sent += chunk.byteLength;
    opts.onProgress?.(sent);
  };
  if ('bytes' in body) await write(body.bytes);
  else {
    const buffer = Buffer.allocUnsafe(WRITE_BUFFER);
    let used = 0;
    for await (const chunk of body.stream) {
      throwIfAborted(opts.signal);
      if (used + chunk.byteLength > WRITE_BUFFER && used > 0) {
        await write(buffer.subarray(0, used));
        used = 0;
      }
      if (chunk.byteLength >= WRITE_BUFFER / 2) await write(chunk);
      else {
        buffer.set(chunk, used);
        used += chunk.byteLength;
      }
    }
    throwIfAborted(opts.signal);
    if (used > 0) await write(buffer.subarray(0, used));
  }
  if (sent === 0) opts.onProgress?.(0);
}

/** A temp or lock file this old, whose writer's process is gone, is left over from a killed writer. */
export const STALE_AFTER_MS = 10 * 60_000;
/** A lock is held for two renames; one this old belongs to a writer that died holding it. */
const LOCK_STALE_MS = 30_000;

/** A temp file name that says which process writes it. */
export function tempName(): string {
  return `${process.pid}-${randomUUID()}`;
}

function code(e: unknown): string | undefined {
  return (e as { code?: string } | null)?.code;
}

const held = new Map<string, Promise<void>>();

/**
 * Runs `fn` holding the key's lock: one chain per key in this process, and a lock file
 * (`<tmpDir>/<hash>.lock`, created exclusively) between processes. A lock whose holder died is taken over.
 */
export async function withKeyLock<T>(tmpDir: string, key: string, fn: () => Promise<T>): Promise<T> {
  const lock = join(tmpDir, `${createHash('sha256').update(key).digest('hex').slice(0, 32)}.lock`);
  const before = held.get(lock) ?? Promise.resolve();
  let release!: () => void;
  const mine = new Promise<void>((r) => (release = r));
  const chained = before.then(() => mine);
  held.set(lock, chained);
  await before;
  try {
    await acquire(lock);
    try {
      return await fn();
    } finally {
      await unlink(lock).catch(() => undefined);
    }
  } finally {
    release();
    if (held.get(lock) === chained) held.delete(lock);
  }
}

async function acquire(lock: string): Promise<void> {
  for (let wait = 1; ; wait = Math.min(wait * 2, 8)) {
    try {
      const h = await open(lock, 'wx');
      await h.writeFile(String(process.pid)).finally(() => h.close());
      return;
    } catch (e) {
      if (code(e) !== 'EEXIST') throw e;
    }
    if (await lockIsStale(lock)) await unlink(lock).catch(() => undefined);
    else await new Promise((r) => setTimeout(r, wait));
  }
}

async function lockIsStale(lock: string): Promise<boolean> {
  try {
    const [text, st] = await Promise.all([readFile(lock, 'utf8'), stat(lock)]);
    // An empty file is a lock being written right now, unless it has been so for long.
    return (text !== '' && !isAlive(Number(text))) || Date.now() - st.mtimeMs > LOCK_STALE_MS;
  } catch {
    return false; // gone already: try again
  }
}

/** Removes temp and lock files of writers that are gone: older than STALE_AFTER_MS, their process dead. */
export async function sweepStale(tmpDir: string, now = Date.now()): Promise<number> {
  let names: string[];
  try {
    names = await readdir(tmpDir);
  } catch {
    return 0;
  }
  let removed = 0;
  for (const name of names) {
    const path = join(tmpDir, name);
    try {
      const st = await stat(path);
      if (!st.isFile() || now - st.mtimeMs < STALE_AFTER_MS) continue;
      const pid = name.endsWith('.lock') ? Number(await readFile(path, 'utf8')) : Number(/^(\d+)-/.exec(name)?.[1]);
      if (isAlive(pid)) continue;
      await unlink(path);
      removed++;
    } catch {
      // taken or removed meanwhile
    }
  }
  return removed;
}

export type Sidecar = { contentType?: string; contentDisposition?: string };
/** What a sidecar file holds: the metadata and the inode of the data file it belongs to. */
export type StoredSidecar = Sidecar & { ino?: string };

export function sidecarOf(opts: { contentType?: string; contentDisposition?: string }): Sidecar {
  const out: Sidecar = {};
  if (opts.contentType) out.contentType = opts.contentType;
  if (opts.contentDisposition) out.contentDisposition = opts.contentDisposition;
  return out;
}

/** A version of a file: every write renames a new inode into place, and size and mtime (ns) tell the rest. */
export function etagOf(st: BigIntStats): string {
  return `"${st.ino.toString(16)}-${st.size.toString(16)}-${st.mtimeNs.toString(16)}"`;
}
