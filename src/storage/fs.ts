/**
 * The `fs` backend: a local folder. Keys are paths under `root`; content type and disposition
 * live in a sidecar JSON tree under `root/.millrace-meta/`; writes go to `root/.millrace-tmp/`
 * first and are renamed into place, so a failed write leaves nothing at the key.
 */
import { randomUUID } from 'node:crypto';
import { constants, type Stats } from 'node:fs';
import { copyFile, mkdir, open, readdir, readFile, rename, rmdir, stat, unlink, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { inspect } from 'node:util';
import type { FsStorageConfig } from './config.js';
import { aborted, MillraceError } from '../errors.js';
import type { CopyOptions, DuckDBAccess, GetOptions, ListPage, ObjectMeta, PutBody, PutOptions, Storage } from './types.js';
import { checked, compareKeys, throwIfAborted } from './util.js';

const META_DIR = '.millrace-meta';
const TMP_DIR = '.millrace-tmp';
const READ_CHUNK = 1024 * 1024;

type Sidecar = { contentType?: string; contentDisposition?: string };

function sidecarOf(opts: { contentType?: string; contentDisposition?: string }): Sidecar {
  const out: Sidecar = {};
  if (opts.contentType) out.contentType = opts.contentType;
  if (opts.contentDisposition) out.contentDisposition = opts.contentDisposition;
  return out;
}

export async function create(config: FsStorageConfig, name: string): Promise<Storage> {
  const root = resolve(config.root);
  await mkdir(root, { recursive: true });
  return new FsStorage(root, name);
}

function code(e: unknown): string | undefined {
  return (e as { code?: string } | null)?.code;
}

class FsStorage implements Storage {
  constructor(
    readonly root: string,
    readonly name: string,
  ) {}

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
    return join(this.root, META_DIR, `${key}.json`);
  }

  #error(op: 'read' | 'stat' | 'write' | 'delete' | 'list', key: string, e: unknown): MillraceError {
    if (e instanceof MillraceError) return e;
    const c = code(e);
    // "a.txt/x" with a.txt a file: nothing can be read there (NotFound), nor written (AlreadyExists below).
    if (c === 'ENOENT' || (c === 'ENOTDIR' && op !== 'write')) return new MillraceError('NotFound', `No file at ${JSON.stringify(key)}`, { cause: e });
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
    let st: Stats;
    try {
      handle = await open(path, constants.O_RDONLY);
      st = await handle.stat();
      if (st.isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'ENOENT' });
    } catch (e) {
      await handle?.close();
      throw this.#error('read', key, e);
    }
    const start = Math.min(opts.range?.start ?? 0, st.size);
    const end = Math.min(opts.range?.end ?? st.size, st.size);
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
    let st: Stats;
    try {
      st = await stat(path);
    } catch (e) {
      if (code(e) === 'ENOENT' || code(e) === 'ENOTDIR') return undefined;
      throw this.#error('stat', key, e);
    }
    if (!st.isFile()) return undefined;
    return { ...this.#meta(key, st), ...(await this.#sidecar(key)) };
  }

  #meta(key: string, st: Stats): ObjectMeta {
    return { key, size: st.size, etag: `"${st.size.toString(16)}-${Math.floor(st.mtimeMs).toString(16)}"`, lastModified: st.mtime };
  }

  async #sidecar(key: string): Promise<Sidecar> {
    try {
      const { contentType, contentDisposition } = JSON.parse(await readFile(this.#metaPath(key), 'utf8')) as Sidecar;
      const out: Sidecar = {};
      if (contentType) out.contentType = contentType;
      if (contentDisposition) out.contentDisposition = contentDisposition;
      return out;
    } catch {
      return {};
    }
  }

  async put(key: string, body: PutBody, opts: PutOptions = {}): Promise<void> {
    this.#path(key);
    throwIfAborted(opts.signal);
    try {
      await this.#replace(key, sidecarOf(opts), opts.signal, async (tmp) => {
        const handle = await open(tmp, 'wx');
        try {
          let sent = 0;
          const write = async (chunk: Uint8Array) => {
            throwIfAborted(opts.signal);
            await handle.write(chunk);
            sent += chunk.byteLength;
            opts.onProgress?.(sent);
          };
          if ('bytes' in body) await write(body.bytes);
          else for await (const chunk of body.stream) await write(chunk);
          if (sent === 0) opts.onProgress?.(0);
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
   * Fills a temp file, then renames it (and its sidecar) into place: a failure leaves nothing at
   * the key. Data then metadata: a reader may see the new data with the old type for an instant,
   * never a missing file.
   */
  async #replace(key: string, sidecar: Sidecar, signal: AbortSignal | undefined, fill: (tmp: string) => Promise<void>): Promise<void> {
    const path = this.#path(key);
    const tmpDir = join(this.root, TMP_DIR);
    await mkdir(tmpDir, { recursive: true });
    const tmp = join(tmpDir, randomUUID());
    const tmpMeta = Object.keys(sidecar).length ? `${tmp}.json` : undefined;
    try {
      await fill(tmp);
      throwIfAborted(signal);
      if (tmpMeta) await writeFile(tmpMeta, JSON.stringify(sidecar));
      await mkdir(dirname(path), { recursive: true });
      await rename(tmp, path);
      await this.#placeSidecar(key, tmpMeta);
    } catch (e) {
      await unlink(tmp).catch(() => undefined);
      if (tmpMeta) await unlink(tmpMeta).catch(() => undefined);
      throw e;
    }
  }

  async #placeSidecar(key: string, tmpMeta: string | undefined): Promise<void> {
    const metaPath = this.#metaPath(key);
    if (tmpMeta) {
      await mkdir(dirname(metaPath), { recursive: true });
      await rename(tmpMeta, metaPath);
    } else {
      await unlink(metaPath).catch(() => undefined);
    }
  }

  async delete(key: string): Promise<void> {
    const path = this.#path(key);
    try {
      await unlink(path);
    } catch (e) {
      if (code(e) !== 'ENOENT' && code(e) !== 'ENOTDIR') throw this.#error('delete', key, e);
    }
    await unlink(this.#metaPath(key)).catch(() => undefined);
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
        .filter((d) => d.name.startsWith(filter) && !(dirKey === '' && (d.name === META_DIR || d.name === TMP_DIR)))
        .map((d) => ({ dir: d.isDirectory(), key: dirKey + d.name + (d.isDirectory() ? '/' : '') }))
        .sort((a, b) => compareKeys(a.key, b.key));
      for (const e of named) {
        if (e.dir) {
          if (after !== undefined && compareKeys(e.key, after) < 0 && !after.startsWith(e.key)) continue;
          if (!(await walk(e.key, ''))) return false;
        } else {
          if (after !== undefined && compareKeys(e.key, after) <= 0) continue;
          let st: Stats;
          try {
            st = await stat(join(this.root, e.key));
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
    const from = this.#path(src);
    this.#path(dst);
    throwIfAborted(opts.signal);
    const changes = sidecarOf(opts);
    if (src === dst && Object.keys(changes).length === 0) return;
    try {
      await this.#replace(dst, { ...(await this.#sidecar(src)), ...changes }, opts.signal, (tmp) =>
        copyFile(from, tmp).catch((e) => {
          throw this.#error('read', src, e);
        }),
      );
    } catch (e) {
      if (opts.signal?.aborted) throw aborted(opts.signal);
      throw this.#error('write', dst, e);
    }
  }

  async presign(): Promise<string> {
    throw new MillraceError('Unsupported', `Storage ${JSON.stringify(this.name)} is a local folder (fs backend), which cannot sign URLs: presigned URLs need an s3 or azure_blob storage`);
  }

  duckdb(): DuckDBAccess {
    return { url: (key) => this.#path(key) };
  }

  async close(): Promise<void> {}
}
