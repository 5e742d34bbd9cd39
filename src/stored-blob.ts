/** What loadS3File and loadS3FileStream read with: a whole object, or a Blob that reads lazily. */
import { feed, type Feed, type Storage, type StreamController } from './storage/index.js';

/** Reads a stream of chunks whole, reporting progress. */
export async function readAll(stream: AsyncIterable<Uint8Array>, onProgress?: (n: number) => void): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of stream) {
    chunks.push(chunk);
    total += chunk.byteLength;
    onProgress?.(total);
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

/**
 * A Blob over a stored object that reads lazily: `.stream()` streams from storage,
 * `.slice(a, b)` becomes a range read, nothing is buffered before the caller reads.
 */
export class StoredBlob extends Blob {
  readonly #storage: Storage;
  readonly #key: string;
  readonly #start: number;
  readonly #end: number;
  readonly #type: string;
  readonly #signal: AbortSignal | undefined;

  constructor(storage: Storage, key: string, start: number, end: number, type: string, signal?: AbortSignal) {
    super([]);
    this.#storage = storage;
    this.#key = key;
    this.#start = start;
    this.#end = end;
    this.#type = type;
    this.#signal = signal;
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
    return new StoredBlob(this.#storage, this.#key, this.#start + a, this.#start + b, contentType ?? '', this.#signal);
  }

  override stream(): ReadableStream<Uint8Array<ArrayBuffer>> {
    if (this.size === 0) return new ReadableStream({ start: (c) => c.close() });
    const range = { start: this.#start, end: this.#end };
    let source: Feed | undefined;
    // The only web-stream layer between storage and the caller: the GET starts on the first pull.
    return new ReadableStream<Uint8Array<ArrayBuffer>>({
      pull: async (controller) => {
        if (source) return source.pull();
        source = feed(await this.#storage.get(this.#key, { range, signal: this.#signal }), controller as StreamController);
        return source.pull();
      },
      cancel: async () => {
        await source?.cancel();
      },
    }, READ_AHEAD);
  }

  override async bytes(): Promise<Uint8Array<ArrayBuffer>> {
    if (this.size === 0) return new Uint8Array(0);
    const range = { start: this.#start, end: this.#end };
    return (await readAll(await this.#storage.get(this.#key, { range, signal: this.#signal }))) as Uint8Array<ArrayBuffer>;
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
