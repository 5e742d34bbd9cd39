/**
 * The lazy Blob of `loadS3FileStream`: `.stream()` streams from storage, `.slice(a, b)` becomes a
 * range read. Every read is pinned to the version the Blob was made from (its etag): a file
 * changed since fails with `PreconditionFailed` rather than mixing versions or ending short.
 */
import { feed, type Feed, type ObjectBody, type Storage, type StreamController } from './storage/index.js';

/** All of a body in one array; `tooLarge` is thrown past `max` bytes (before any, when the size is announced). */
export async function readAll(stream: ObjectBody, onProgress?: (n: number) => void, max = Infinity, tooLarge?: (size: number | undefined) => Error): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  const it = stream[Symbol.asyncIterator]();
  try {
    if (stream.size !== undefined && stream.size > max) throw tooLarge!(stream.size);
    for (let r = await it.next(); !r.done; r = await it.next()) {
      total += r.value.byteLength;
      if (total > max) throw tooLarge!(undefined);
      chunks.push(r.value);
      onProgress?.(total);
    }
  } catch (e) {
    await it.return?.();
    throw e;
  }
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(total);
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.byteLength;
  }
  return out;
}

/** How far a Blob's web stream reads ahead of its reader: a few socket chunks, so the source is not paused after each one. */
const READ_AHEAD: QueuingStrategy<Uint8Array> = { highWaterMark: 256 * 1024, size: (chunk) => chunk.byteLength };

/** What a Blob reads: one version of one object, and the signal that ends its reads. */
type Source = { storage: Storage; key: string; etag: string | undefined; signal: AbortSignal | undefined };

/**
 * A Blob over a stored object that reads lazily: `.stream()` streams from storage,
 * `.slice(a, b)` becomes a range read, nothing is buffered before the caller reads.
 */
export class StoredBlob extends Blob {
  readonly #source: Source;
  readonly #start: number;
  readonly #end: number;
  readonly #type: string;

  constructor(source: Source, start: number, end: number, type: string) {
    super([]);
    this.#source = source;
    this.#start = start;
    this.#end = end;
    this.#type = type;
  }

  override get size(): number {
    return this.#end - this.#start;
  }

  override get type(): string {
    return this.#type;
  }

  override slice(start?: number, end?: number, contentType?: string): Blob {
    const size = this.size;
    const rel = (n: number | undefined, dflt: number) =>
      n === undefined ? dflt : n < 0 ? Math.max(size + n, 0) : Math.min(n, size);
    const a = rel(start, 0);
    const b = Math.max(rel(end, size), a);
    return new StoredBlob(this.#source, this.#start + a, this.#start + b, contentType ?? '');
  }

  /** A ranged read of the Blob's version; `PreconditionFailed` when the object changed since. */
  #get(): Promise<AsyncIterable<Uint8Array>> {
    const { storage, key, etag, signal } = this.#source;
    return storage.get(key, { range: { start: this.#start, end: this.#end }, ifMatch: etag, signal });
  }

  override stream(): ReadableStream<Uint8Array<ArrayBuffer>> {
    if (this.size === 0) return new ReadableStream({ start: (c) => c.close() });
    let source: Feed | undefined;
    // The only web-stream layer between storage and the caller: the GET starts on the first pull.
    return new ReadableStream<Uint8Array<ArrayBuffer>>({
      pull: async (controller) => {
        if (source) return source.pull();
        source = feed(await this.#get(), controller as StreamController);
        return source.pull();
      },
      cancel: async () => {
        await source?.cancel();
      },
    }, READ_AHEAD);
  }

  override async bytes(): Promise<Uint8Array<ArrayBuffer>> {
    if (this.size === 0) return new Uint8Array(0);
    return (await readAll(await this.#get())) as Uint8Array<ArrayBuffer>;
  }

  override async arrayBuffer(): Promise<ArrayBuffer> {
    const b = await this.bytes();
    // Uint8Array.prototype.slice copies; Buffer's own slice would share a pooled buffer.
    return b.byteOffset === 0 && b.byteLength === b.buffer.byteLength ? b.buffer : Uint8Array.prototype.slice.call(b).buffer;
  }

  override async text(): Promise<string> {
    return new TextDecoder().decode(await this.bytes());
  }
}
