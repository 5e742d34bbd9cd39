import { constants as bufferConstants } from 'node:buffer';
import { randomUUID } from 'node:crypto';
import { aborted, MillraceError } from './errors.js';
import { parseS3Object, validatePrefix, type S3Object, type S3ObjectRecord } from './s3object.js';
import { getStorage, storageConfig, type ObjectMeta, type PutBody, type Storage, type StorageSelector } from './storage/index.js';
import { readAll, StoredBlob } from './stored-blob.js';

/** Options accepted in place of the positional tail of every file function. */
export type FileOptions = {
  /** Picks a named entry of `resources` (`$res:` and `res://` prefixes are stripped). */
  s3ResourcePath?: string;
  /** Accepted for windmill-client compatibility; millrace has no workspaces. */
  workspace?: string;
  signal?: AbortSignal;
  /** Called with the bytes moved so far. */
  onProgress?: (bytes: number) => void;
};
export type WriteOptions = FileOptions & { contentType?: string; contentDisposition?: string };
/** `maxBytes`: the largest file `loadS3File` reads into memory (default `LOAD_MAX_BYTES`, 2 GiB); larger is `TooLarge`. */
export type LoadOptions = FileOptions & { maxBytes?: number };

/** loadS3File's default limit: 2 GiB, below the largest Uint8Array V8 allows, and more than a script should hold. */
export const LOAD_MAX_BYTES = Math.min(2 * 1024 ** 3, bufferConstants.MAX_LENGTH);

export type FileContent =
  | string
  | Blob
  | Uint8Array
  | ArrayBuffer
  | ReadableStream<Uint8Array>
  | NodeJS.ReadableStream
  | AsyncIterable<Uint8Array>;

export type S3FileInfo = S3ObjectRecord & Omit<ObjectMeta, 'key'>;

/** Bodies up to this size known in advance are sent in one request. */
const SINGLE_REQUEST_MAX = 8 * 1024 * 1024;

function options<T extends FileOptions>(arg: string | T | undefined): T {
  if (arg === undefined || arg === null) return {} as T;
  if (typeof arg === 'string') return { s3ResourcePath: arg } as T;
  return arg;
}

function selector(record: S3ObjectRecord, opts: FileOptions): StorageSelector {
  return { storage: record.storage, resource: opts.s3ResourcePath || undefined };
}

async function target(obj: S3Object, opts: FileOptions): Promise<{ record: S3ObjectRecord; storage: Storage }> {
  const record = parseS3Object(obj);
  return { record, storage: await getStorage(selector(record, opts)) };
}

/**
 * Reads a whole file. Throws `NotFound` when it does not exist.
 * @example const bytes = await loadS3File({ s3: 'inputs/report.csv' });
 */
export async function loadS3File(obj: S3Object, s3ResourcePath?: string | LoadOptions, workspace?: string): Promise<Uint8Array> {
  void workspace;
  const opts = options<LoadOptions>(s3ResourcePath);
  const { record, storage } = await target(obj, opts);
  const max = opts.maxBytes ?? LOAD_MAX_BYTES;
  const tooLarge = (size: number | undefined) => new MillraceError('TooLarge', `${JSON.stringify(record.s3)} is ${size === undefined ? `over ${max} bytes` : `${size} bytes`}, more than loadS3File reads into memory (maxBytes: ${max}); read it with loadS3FileStream, which streams, or pass a larger maxBytes`);
  return readAll(await storage.get(record.s3, { signal: opts.signal }), opts.onProgress, max, tooLarge);
}

/**
 * A file as a lazily-read Blob. Throws `NotFound` when it does not exist.
 * @example const head = await (await loadS3FileStream(input)).slice(0, 1024).text();
 */
export async function loadS3FileStream(obj: S3Object, s3ResourcePath?: string | FileOptions, workspace?: string): Promise<Blob> {
  void workspace;
  const opts = options(s3ResourcePath);
  const { record, storage } = await target(obj, opts);
  const meta = await storage.head(record.s3);
  if (!meta) throw notFound(record);
  return new StoredBlob({ storage, key: record.s3, etag: meta.etag, signal: opts.signal }, 0, meta.size, meta.contentType ?? '');
}

export function notFound(record: S3ObjectRecord, cause?: unknown): MillraceError {
  const where = record.storage ? ` in storage ${JSON.stringify(record.storage)}` : '';
  return new MillraceError('NotFound', `No file at ${JSON.stringify(record.s3)}${where}`, { cause });
}

/**
 * Writes a file and returns its S3Object. With `obj` undefined a fresh unique key is chosen.
 * Large and unknown-length bodies are streamed (multipart), so memory stays bounded.
 * @example const out = await writeS3File({ s3: 'out/hello.txt' }, 'Hello!');
 */
export async function writeS3File(
  obj: S3Object | undefined,
  content: FileContent,
  s3ResourcePath?: string | WriteOptions,
  contentType?: string,
  contentDisposition?: string,
  workspace?: string,
): Promise<S3ObjectRecord> {
  void workspace;
  const opts: WriteOptions = { contentType, contentDisposition, ...options<WriteOptions>(s3ResourcePath) };
  const record: S3ObjectRecord = obj === undefined ? { s3: `millrace_uploads/${randomUUID()}` } : parseS3Object(obj);
  const storage = await getStorage(selector(record, opts));
  await storage.put(record.s3, await toPutBody(content), {
    contentType: opts.contentType,
    contentDisposition: opts.contentDisposition,
    signal: opts.signal,
    onProgress: opts.onProgress,
  });
  const out: S3ObjectRecord = { s3: record.s3 };
  if (record.storage) out.storage = record.storage;
  return out;
}

/**
 * Normalizes every accepted content kind to whole bytes or a chunk stream. A Blob small enough for
 * one request is read whole, so it goes up as one PutObject / Put Blob rather than a multipart upload.
 */
export async function toPutBody(content: FileContent): Promise<PutBody> {
  if (typeof content === 'string') return { bytes: new TextEncoder().encode(content) };
  if (content instanceof Uint8Array) return { bytes: content };
  if (content instanceof ArrayBuffer) return { bytes: new Uint8Array(content) };
  if (ArrayBuffer.isView(content)) {
    const v = content as ArrayBufferView;
    return { bytes: new Uint8Array(v.buffer, v.byteOffset, v.byteLength) };
  }
  if (typeof Blob !== 'undefined' && content instanceof Blob) {
    if (content.size <= SINGLE_REQUEST_MAX) return { bytes: new Uint8Array(await content.arrayBuffer()) };
    return { stream: chunks(content.stream()) };
  }
  if (content && typeof (content as ReadableStream).getReader === 'function') {
    return { stream: chunks(content as ReadableStream<Uint8Array>) };
  }
  if (content && typeof (content as AsyncIterable<Uint8Array>)[Symbol.asyncIterator] === 'function') {
    return { stream: chunks(content as AsyncIterable<Uint8Array>) };
  }
  throw new MillraceError('InvalidArgument', `Unsupported file content: ${Object.prototype.toString.call(content)}; expected a string, Blob, Uint8Array, ArrayBuffer, ReadableStream, Node Readable or async iterable of Uint8Array`);
}

/** Chunks as Uint8Array, whatever the source yields (Node streams may yield Buffers or strings). */
async function* chunks(source: ReadableStream<Uint8Array> | AsyncIterable<Uint8Array | string>): AsyncIterable<Uint8Array> {
  const iterable = (typeof (source as ReadableStream).getReader === 'function' && !(Symbol.asyncIterator in source)
    ? readerIterable(source as ReadableStream<Uint8Array>)
    : source) as AsyncIterable<Uint8Array | string>;
  for await (const chunk of iterable) {
    if (typeof chunk === 'string') yield new TextEncoder().encode(chunk);
    else if (chunk instanceof Uint8Array) yield chunk;
    else if (ArrayBuffer.isView(chunk)) yield new Uint8Array((chunk as ArrayBufferView).buffer, (chunk as ArrayBufferView).byteOffset, (chunk as ArrayBufferView).byteLength);
    else throw new MillraceError('InvalidArgument', `Stream chunk is not bytes: ${Object.prototype.toString.call(chunk)}`);
  }
}

async function* readerIterable(stream: ReadableStream<Uint8Array>): AsyncIterable<Uint8Array> {
  const reader = stream.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      yield value;
    }
  } finally {
    reader.releaseLock();
  }
}

/**
 * Deletes a file; deleting a missing file is not an error. As in windmill-client, a string second
 * argument is the workspace (ignored); pass `{ s3ResourcePath }` to pick a resource.
 */
export async function deleteS3File(obj: S3Object, workspaceOrOptions?: string | FileOptions): Promise<void> {
  const opts: FileOptions = typeof workspaceOrOptions === 'string' ? {} : (workspaceOrOptions ?? {});
  const { record, storage } = await target(obj, opts);
  await storage.delete(record.s3);
}

/** Size, etag, lastModified and contentType of a file, or undefined when it does not exist. */
export async function statS3File(obj: S3Object, s3ResourcePath?: string | FileOptions): Promise<S3FileInfo | undefined> {
  const opts = options(s3ResourcePath);
  const { record, storage } = await target(obj, opts);
  const meta = await storage.head(record.s3);
  return meta && info(record.storage, meta);
}

function info(storage: string | undefined, meta: ObjectMeta): S3FileInfo {
  const { key, ...rest } = meta;
  const out: S3FileInfo = { s3: key, ...rest };
  if (storage) out.storage = storage;
  return out;
}

export type ListOptions = {
  storage?: string;
  s3ResourcePath?: string;
  prefix?: string;
  /** At most this many files in all. */
  limit?: number;
  /** Start after this key: pass the `s3` of the last file you saw to resume. */
  cursor?: string;
  /** Keys fetched per request (default 1000). */
  pageSize?: number;
};

/**
 * Every file under a prefix, in key order, paging transparently.
 * @example for await (const f of listS3Files({ prefix: 'logs/' })) console.log(f.s3, f.size);
 */
export async function* listS3Files(opts: ListOptions = {}): AsyncIterable<S3FileInfo> {
  const prefix = validatePrefix(opts.prefix ?? '');
  if (opts.cursor !== undefined && typeof opts.cursor !== 'string') throw new MillraceError('InvalidArgument', 'listS3Files: cursor must be a string');
  const storage = await getStorage({ storage: opts.storage, resource: opts.s3ResourcePath });
  const pageSize = Math.max(1, Math.min(opts.pageSize ?? 1000, 1000));
  let remaining = opts.limit ?? Infinity;
  let after = opts.cursor;
  while (remaining > 0) {
    const page = await storage.list(prefix, after, Math.min(pageSize, remaining));
    for (const meta of page.items) {
      if (remaining-- <= 0) return;
      yield info(opts.storage, meta);
    }
    if (!page.next || page.items.length === 0) return;
    after = page.next;
  }
}

/**
 * Copies a file, server-side within one storage, streaming across storages. `contentType` and
 * `contentDisposition` replace the source's; `onProgress` gets the size once copied. Returns the destination.
 */
export async function copyS3File(src: S3Object, dst: S3Object, opts: WriteOptions = {}): Promise<S3ObjectRecord> {
  // Both keys and both storage names are checked before any client is made.
  const [srcRecord, dstRecord] = [parseS3Object(src), parseS3Object(dst)];
  const [srcSel, dstSel] = [selector(srcRecord, {}), selector(dstRecord, opts)];
  storageConfig(dstSel);
  const from = { record: srcRecord, storage: await getStorage(srcSel) };
  const to = { record: dstRecord, storage: await getStorage(dstSel) };
  if (opts.signal?.aborted) throw aborted(opts.signal);
  const meta = await from.storage.head(from.record.s3);
  if (!meta) throw notFound(from.record);
  if (sameObject(from, to)) {
    // One object under two names (aliased storages): copying it onto itself changes at most its headers.
    if (opts.contentType || opts.contentDisposition) await to.storage.copy(to.record.s3, to.record.s3, { contentType: opts.contentType, contentDisposition: opts.contentDisposition, signal: opts.signal });
    opts.onProgress?.(meta.size);
  } else if (from.storage === to.storage) {
    await from.storage.copy(from.record.s3, to.record.s3, { contentType: opts.contentType, contentDisposition: opts.contentDisposition, signal: opts.signal });
    opts.onProgress?.(meta.size);
  } else {
    const source = (await from.storage.get(from.record.s3, { signal: opts.signal }))[Symbol.asyncIterator]();
    try {
      await to.storage.put(to.record.s3, { stream: chunks({ [Symbol.asyncIterator]: () => source }) }, {
        contentType: opts.contentType ?? meta.contentType,
        contentDisposition: opts.contentDisposition ?? meta.contentDisposition,
        signal: opts.signal,
        onProgress: opts.onProgress,
      });
    } finally {
      // A put that failed before pulling (abort, refused key) or stopped early must still release the GET.
      await source.return?.();
    }
  }
  const { presigned: _drop, ...record } = to.record;
  return record;
}

/** Copies then deletes the source. Returns the destination. */
/** Same key in the same physical place: two storage names on one folder, bucket or container are aliases. */
function sameObject(a: { record: S3ObjectRecord; storage: Storage }, b: { record: S3ObjectRecord; storage: Storage }): boolean {
  return a.record.s3 === b.record.s3 && a.storage.location === b.storage.location;
}

/** Copies then deletes the source, unless both name the same object (then it is left as it is). Returns the destination. */
export async function moveS3File(src: S3Object, dst: S3Object, opts: WriteOptions = {}): Promise<S3ObjectRecord> {
  const out = await copyS3File(src, dst, opts);
  const from = await target(src, {});
  if (!sameObject(from, { record: out, storage: await getStorage(selector(out, opts)) })) await from.storage.delete(from.record.s3);
  return out;
}

export type SignOptions = { expirySecs?: number; s3ResourcePath?: string; baseUrl?: string };

/** Seconds a signed URL lives: default 12 hours (also for NaN or a non-number), clamped to 60..604800. */
function expiry(secs: unknown): number {
  const n = typeof secs === 'number' && !Number.isNaN(secs) ? secs : 43200;
  return Math.min(604800, Math.max(60, Math.floor(n)));
}

/** Signs an S3Object: the result carries `presigned`, the query string of a public GET URL. */
export async function signS3Object(obj: S3Object, opts: SignOptions = {}): Promise<S3ObjectRecord> {
  const { record, storage } = await target(obj, opts);
  const url = new URL(await storage.presign(record.s3, expiry(opts.expirySecs)));
  return { ...record, presigned: url.search.slice(1) };
}

/** One bad key or storage name fails a batch before any storage is reached. */
function preflight(objs: S3Object[], opts: FileOptions): void {
  for (const o of objs) storageConfig(selector(parseS3Object(o), opts));
}

export async function signS3Objects(objs: S3Object[], opts: SignOptions = {}): Promise<S3ObjectRecord[]> {
  preflight(objs, opts);
  return Promise.all(objs.map((o) => signS3Object(o, opts)));
}

/**
 * A URL anyone can download the file from for `expirySecs` (default 12 hours):
 * a presigned GET on S3, a SAS URL on Azure. `baseUrl` is accepted for compatibility and unused:
 * the URL points at the storage itself.
 */
export async function getPresignedS3PublicUrl(obj: S3Object, opts: SignOptions = {}): Promise<string> {
  const { record, storage } = await target(obj, opts);
  return storage.presign(record.s3, expiry(opts.expirySecs));
}

export async function getPresignedS3PublicUrls(objs: S3Object[], opts: SignOptions = {}): Promise<string[]> {
  preflight(objs, opts);
  return Promise.all(objs.map((o) => getPresignedS3PublicUrl(o, opts)));
}
