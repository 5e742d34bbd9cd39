/**
 * The `fs` backend: a local folder. Keys are paths under `root`; content type and disposition live
 * in sidecars under `root/.millrace-meta/` tied to their data's inode; writes go to `.millrace-tmp/`
 * and are renamed into place under a per-key lock (data and metadata are one version, a failed write
 * leaves nothing). No path leaves the root: a link below it is never followed (`PermissionDenied`).
 */
import type { BigIntStats } from 'node:fs';
import { lstat, mkdir, open, readdir, readFile, realpath, rename, rmdir, stat, unlink, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { inspect } from 'node:util';
import type { FsStorageConfig } from './config.js';
import { aborted, MillraceError } from '../errors.js';
import type { CopyOptions, DuckDBAccess, GetOptions, ListPage, ObjectMeta, PutBody, PutOptions, Storage } from './types.js';
import { assertInside, assertInsideSync, isMissing as missing, openInside, READ_FLAGS } from './fs-links.js';
import { etagOf, sidecarOf, sweepStale, STALE_AFTER_MS, tempName, withKeyLock, writeBody, type Sidecar, type StoredSidecar } from './fs-atomic.js';
import { checked, compareKeys, throwIfAborted } from './util.js';

const META_DIR = '.millrace-meta';
const TMP_DIR = '.millrace-tmp';
const READ_CHUNK = 1024 * 1024;

export async function create(config: FsStorageConfig, name: string): Promise<Storage> {
  await mkdir(resolve(config.root), { recursive: true });
  // The configured root is trusted, links and all; below it nothing is followed.
  const storage = new FsStorage(await realpath(resolve(config.root)), name);
  await storage.sweep();
  return storage;
}

function code(e: unknown): string | undefined {
  return (e as { code?: string } | null)?.code;
}

class FsStorage implements Storage {
  readonly location: string;
  #swept = 0;

  constructor(
    readonly root: string,
    readonly name: string,
  ) {
    this.location = `fs:${root}`;
  }

  [inspect.custom](): string {
    return `FsStorage { name: ${JSON.stringify(this.name)}, root: ${JSON.stringify(this.root)} }`;
  }

  /** The file of a key (validated: no empty, "." or ".." segment); our own folders are refused. */
  #path(key: string): string {
    const top = key.split('/', 1)[0];
    if (top === META_DIR || top === TMP_DIR) throw new MillraceError('InvalidS3Object', `S3 key ${JSON.stringify(key)} is inside a folder reserved by the fs backend`);
    return join(this.root, key);
  }

  #metaPath(key: string): string {
    return join(this.root, META_DIR, key);
  }

  /** Removes temp files of killed writers; on open, then at most every STALE_AFTER_MS while writing. */
  async sweep(): Promise<void> {
    this.#swept = Date.now();
    await sweepStale(join(this.root, TMP_DIR), this.#swept);
  }

  #inside(path: string): Promise<void> {
    return assertInside(this.root, path);
  }

  #error(op: 'read' | 'stat' | 'write' | 'delete' | 'list', key: string, e: unknown): MillraceError {
    if (e instanceof MillraceError) return e;
    const c = code(e);
    // "a.txt/x" with a.txt a file: nothing can be read there (NotFound), nor written (AlreadyExists below).
    if (c === 'ENOENT' || (c === 'ENOTDIR' && op !== 'write')) return new MillraceError('NotFound', `No file at ${JSON.stringify(key)}`, { cause: e });
    if (c === 'ELINK' || c === 'ELOOP') {
      return new MillraceError('PermissionDenied', `fs ${op} ${JSON.stringify(key)}: the path crosses a symbolic link, which the fs backend never follows`, { cause: e });
    }
    if (c === 'EACCES' || c === 'EPERM') return new MillraceError('PermissionDenied', `fs ${op} ${JSON.stringify(key)}: permission denied`, { cause: e });
    if (c === 'ENOTDIR' || c === 'EISDIR' || c === 'EEXIST') {
      return new MillraceError('AlreadyExists', `fs ${op} ${JSON.stringify(key)}: a local folder cannot hold both "a" and "a/..." as keys`, { cause: e });
    }
    return new MillraceError('Storage', `fs ${op} ${JSON.stringify(key)} failed: ${(e as Error)?.message ?? String(e)}`, { cause: e });
  }

  async get(key: string, opts: GetOptions = {}): Promise<AsyncIterable<Uint8Array>> {
    const path = this.#path(key);
    throwIfAborted(opts.signal);
    let handle;
    let size: number;
    try {
      handle = await openInside(path);
      const st = await handle.stat({ bigint: true });
      if (!st.isFile()) throw Object.assign(new Error('not a regular file'), { code: 'ENOENT' });
      // The open handle reads this inode to the end, whatever is renamed over the key meanwhile.
      if (opts.ifMatch !== undefined && etagOf(st) !== opts.ifMatch) {
        throw new MillraceError('PreconditionFailed', `fs read ${JSON.stringify(key)}: the file changed since its etag ${opts.ifMatch} was read`);
      }
      size = Number(st.size);
    } catch (e) {
      await handle?.close();
      throw this.#error('read', key, e);
    }
    const start = Math.min(opts.range?.start ?? 0, size);
    const end = Math.min(opts.range?.end ?? size, size);
    const h = handle;
    async function* chunks(): AsyncIterable<Uint8Array> {
      let pos = start;
      while (pos < end) {
        const buf = Buffer.allocUnsafeSlow(Math.min(READ_CHUNK, end - pos));
        const { bytesRead } = await h.read(buf, 0, buf.byteLength, pos);
        if (bytesRead === 0) return; // the file shrank under us: checked reports the truncation
        pos += bytesRead;
        yield bytesRead === buf.byteLength ? buf : buf.subarray(0, bytesRead);
      }
    }
    return checked(chunks(), {
      expected: end - start,
      signal: opts.signal,
      describe: `fs read ${JSON.stringify(key)}`,
      mapError: (e) => this.#error('read', key, e),
      onClose: () => void h.close().catch(() => undefined),
    });
  }

  async head(key: string): Promise<ObjectMeta | undefined> {
    const path = this.#path(key);
    let st: BigIntStats;
    try {
      await this.#inside(path);
      st = await lstat(path, { bigint: true });
    } catch (e) {
      if (code(e) !== 'ELINK' && missing(e)) return undefined;
      throw this.#error('stat', key, e);
    }
    if (!st.isFile()) return undefined;
    // A sidecar of another inode is mid-switch (a writer between its two renames): look again.
    for (let tries = 0; ; tries++) {
      const sidecar = await this.#sidecar(key, st.ino);
      if (sidecar || tries === 5) return { ...this.#meta(key, st), ...sidecar };
      await new Promise((r) => setTimeout(r, 1 << tries));
      const again = await lstat(path, { bigint: true }).catch(() => undefined);
      if (!again?.isFile()) return undefined;
      st = again;
    }
  }

  #meta(key: string, st: BigIntStats): ObjectMeta {
    return { key, size: Number(st.size), etag: etagOf(st), lastModified: st.mtime };
  }

  /** The metadata of the data file with inode `ino`; undefined when the sidecar is another version's. */
  async #sidecar(key: string, ino: bigint): Promise<Sidecar | undefined> {
    let stored: StoredSidecar;
    try {
      await this.#inside(this.#metaPath(key));
      stored = JSON.parse(await readFile(this.#metaPath(key), { encoding: 'utf8', flag: READ_FLAGS })) as StoredSidecar;
    } catch {
      return {}; // none: the data has no content type
    }
    if (stored.ino !== String(ino)) return undefined;
    return sidecarOf(stored);
  }

  async put(key: string, body: PutBody, opts: PutOptions = {}): Promise<void> {
    this.#path(key);
    throwIfAborted(opts.signal);
    try {
      await this.#replace(key, sidecarOf(opts), opts.signal, async (tmp) => {
        const handle = await open(tmp, 'wx');
        try {
          await writeBody(handle, body, opts);
        } finally {
          await handle.close();
        }
      });
    } catch (e) {
      if (opts.signal?.aborted) throw aborted(opts.signal);
      throw this.#error('write', key, e);
    }
  }

  /**
   * Fills a temp file, then renames it and its sidecar into place under the key's lock: a failure
   * leaves nothing at the key, and concurrent writers publish data and metadata pairwise. A reader
   * that catches the instant between the two renames sees an inode mismatch and looks again.
   */
  async #replace(key: string, sidecar: Sidecar, signal: AbortSignal | undefined, fill: (tmp: string) => Promise<void>): Promise<void> {
    const path = this.#path(key);
    const tmpDir = join(this.root, TMP_DIR);
    await mkdir(tmpDir, { recursive: true });
    await this.#inside(tmpDir);
    if (Date.now() - this.#swept > STALE_AFTER_MS) await this.sweep();
    const tmp = join(tmpDir, tempName());
    const tmpMeta = Object.keys(sidecar).length ? `${tmp}.meta` : undefined;
    try {
      await fill(tmp);
      throwIfAborted(signal);
      if (tmpMeta) await writeFile(tmpMeta, JSON.stringify({ ...sidecar, ino: String((await stat(tmp, { bigint: true })).ino) }));
      // Both folders (never through a link) before any rename: a key that cannot be placed replaces nothing.
      await this.#inside(path);
      await mkdir(dirname(path), { recursive: true });
      if (tmpMeta) {
        await this.#inside(this.#metaPath(key));
        await mkdir(dirname(this.#metaPath(key)), { recursive: true });
      }
      await withKeyLock(tmpDir, key, async () => {
        throwIfAborted(signal);
        // Again just before the rename: a link swapped in meanwhile has the least time to matter.
        await this.#inside(path);
        await rename(tmp, path);
        await this.#placeSidecar(key, tmpMeta);
      });
    } catch (e) {
      await unlink(tmp).catch(() => undefined);
      if (tmpMeta) await unlink(tmpMeta).catch(() => undefined);
      throw e;
    }
  }

  async #placeSidecar(key: string, tmpMeta: string | undefined): Promise<void> {
    const metaPath = this.#metaPath(key);
    await this.#inside(metaPath);
    if (tmpMeta) await rename(tmpMeta, metaPath);
    else await unlink(metaPath).catch(() => undefined);
  }

  async delete(key: string): Promise<void> {
    const path = this.#path(key);
    const tmpDir = join(this.root, TMP_DIR);
    await mkdir(tmpDir, { recursive: true });
    await this.#inside(tmpDir);
    await withKeyLock(tmpDir, key, async () => {
      try {
        await this.#inside(path);
        await unlink(path);
      } catch (e) {
        if (code(e) === 'ELINK' || !missing(e)) throw this.#error('delete', key, e);
      }
      await this.#inside(this.#metaPath(key)).then(() => unlink(this.#metaPath(key))).catch(() => undefined);
    });
    // Drop folders the key left empty, so a later key "a" is not blocked by an empty folder "a/".
    await this.#pruneEmpty(dirname(path), this.root);
    await this.#pruneEmpty(dirname(this.#metaPath(key)), join(this.root, META_DIR));
  }

  async #pruneEmpty(dir: string, stop: string): Promise<void> {
    while (dir.startsWith(stop + '/') && dir !== stop) {
      try {
        await rmdir(dir);
      } catch {
        return;
      }
      dir = dirname(dir);
    }
  }

  /**
   * In key order without reading the whole tree: a folder sorts as its name plus "/", which is
   * exactly where its keys fall among its siblings, and folders wholly before `after` are skipped.
   */
  async list(prefix: string, after: string | undefined, pageSize: number): Promise<ListPage> {
    const cut = prefix.lastIndexOf('/') + 1;
    const base = prefix.slice(0, cut);
    const rest = prefix.slice(cut);
    const top = base.split('/', 1)[0];
    if (base && (top === META_DIR || top === TMP_DIR)) throw new MillraceError('InvalidS3Object', `Prefix ${JSON.stringify(prefix)} is inside a folder reserved by the fs backend`);
    try {
      await this.#inside(resolve(this.root, base));
    } catch (e) {
      throw this.#error('list', prefix, e);
    }
    const items: ObjectMeta[] = [];
    const walk = async (dirKey: string, filter: string): Promise<boolean> => {
      let entries;
      try {
        entries = await readdir(join(this.root, dirKey), { withFileTypes: true });
      } catch (e) {
        if (code(e) === 'ENOENT' || code(e) === 'ENOTDIR') return true;
        throw this.#error('list', dirKey, e);
      }
      const named = entries
        // Links are not objects: never listed, never walked into.
        .filter((d) => d.name.startsWith(filter) && !d.isSymbolicLink() && !(dirKey === '' && (d.name === META_DIR || d.name === TMP_DIR)))
        .map((d) => ({ dir: d.isDirectory(), key: dirKey + d.name + (d.isDirectory() ? '/' : '') }))
        .sort((a, b) => compareKeys(a.key, b.key));
      for (const e of named) {
        if (e.dir) {
          if (after !== undefined && compareKeys(e.key, after) < 0 && !after.startsWith(e.key)) continue;
          if (!(await walk(e.key, ''))) return false;
        } else {
          if (after !== undefined && compareKeys(e.key, after) <= 0) continue;
          let st: BigIntStats;
          try {
            st = await lstat(join(this.root, e.key), { bigint: true });
          } catch {
            continue; // deleted while listing
          }
          if (!st.isFile()) continue;
          items.push(this.#meta(e.key, st));
          if (items.length > pageSize) return false;
        }
      }
      return true;
    };
    await walk(base, rest);
    if (items.length > pageSize) {
      items.length = pageSize;
      return { items, next: items[items.length - 1]!.key };
    }
    return { items };
  }

  async copy(src: string, dst: string, opts: CopyOptions = {}): Promise<void> {
    this.#path(src);
    this.#path(dst);
    throwIfAborted(opts.signal);
    const changes = sidecarOf(opts);
    if (src === dst && Object.keys(changes).length === 0) return;
    // Through our own checked read, so the source is opened without following links, pinned to the
    // version whose metadata is copied with it.
    const meta = await this.head(src);
    if (!meta) throw this.#error('read', src, Object.assign(new Error('no such key'), { code: 'ENOENT' }));
    const body = (await this.get(src, { signal: opts.signal, ifMatch: meta.etag }))[Symbol.asyncIterator]();
    try {
      await this.put(dst, { stream: { [Symbol.asyncIterator]: () => body } }, { ...sidecarOf(meta), ...changes, signal: opts.signal });
    } finally {
      await body.return?.();
    }
  }

  async presign(): Promise<string> {
    throw new MillraceError('Unsupported', `Storage ${JSON.stringify(this.name)} is a local folder (fs backend), which cannot sign URLs: presigned URLs need an s3 or azure_blob storage`);
  }

  duckdb(): DuckDBAccess {
    return {
      url: (key) => {
        const path = this.#path(key);
        try {
          assertInsideSync(this.root, path);
        } catch (e) {
          throw this.#error('read', key, e);
        }
        return path;
      },
    };
  }

  async close(): Promise<void> {}
}
