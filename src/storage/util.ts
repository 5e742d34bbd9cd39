/** Small pieces every backend needs: byte-order key comparison, checked streams, safe error causes. */
import { finished, type Readable } from 'node:stream';
import { aborted, MillraceError, sanitizedCause, scrub, type ErrorCode } from '../errors.js';

/** No bytes: what a read of an empty range yields. */
export const EMPTY: AsyncIterable<Uint8Array> = { async *[Symbol.asyncIterator]() {} };

/** S3 orders keys by their UTF-8 bytes; JS string comparison (UTF-16) differs above U+FFFF. */
export function compareKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw aborted(signal);
}

type CheckOptions = {
  expected?: number;
  signal?: AbortSignal;
  describe: string;
  mapError: (e: unknown) => MillraceError;
  onClose?: () => void;
  /** Keep only these bytes of the source: what a store that ignored `Range` sent the whole object for. */
  keep?: { start: number; end: number };
};

/** What a web stream's controller offers a source that pushes into it. */
export type StreamController = Pick<ReadableStreamDefaultController<Uint8Array>, 'enqueue' | 'close' | 'error' | 'desiredSize'>;

/** A source feeding a web stream: `pull` when the stream wants more, `cancel` when its reader leaves. */
export type Feed = { pull(): void | Promise<void>; cancel(): Promise<void> };

/**
 * The chunks of a download, checked: fewer bytes than `expected` is an error (a truncated body
 * must never pass as a short file), as is an abort or a failing source. Iterate it once, or `feed`
 * it into one web stream. `return()` releases the source (`onClose`) even before the first chunk.
 */
export function checked(source: AsyncIterable<Uint8Array | string> | Readable, opts: CheckOptions): CheckedBody {
  return new CheckedBody(source, opts);
}

export class CheckedBody implements AsyncIterableIterator<Uint8Array> {
  readonly #source: AsyncIterable<Uint8Array | string> | Readable;
  readonly #opts: CheckOptions;
  #closed = false;
  #gen: AsyncGenerator<Uint8Array> | undefined;

  constructor(source: AsyncIterable<Uint8Array | string> | Readable, opts: CheckOptions) {
    this.#source = source;
    this.#opts = opts;
  }

  /** The bytes this body will deliver, when the store announced them. */
  get size(): number | undefined {
    return this.#opts.expected;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<IteratorResult<Uint8Array>> {
    this.#gen ??= this.#pulled();
    return this.#gen.next();
  }

  // A generator returned before it started never runs its `finally`: close here as well.
  async return(): Promise<IteratorResult<Uint8Array>> {
    try {
      return (await this.#gen?.return(undefined)) ?? { done: true, value: undefined };
    } finally {
      this.#close();
    }
  }

  /**
   * Feeds a web stream. A Node stream pushes its chunks as they arrive (its 'data' events, paused
   * while the web stream is full): no promise per chunk, which on a 256 MiB download was the
   * difference between the web stream and draining the Node stream directly.
   */
  feed(controller: StreamController): Feed {
    const src = this.#source;
    if (this.#gen || !isNodeReadable(src)) return pulling(this, controller);
    this.#gen = (async function* () {})(); // iterating it now would race the pushed chunks
    const count = this.#counter();
    let over = false;
    /** Stops listening and releases the source; both the end of the body and a cancel come here. */
    const detach = () => {
      over = true;
      src.off('data', onData);
      this.#opts.signal?.removeEventListener('abort', onAbort);
      this.#close();
    };
    const stop = (e?: unknown) => {
      if (over) return;
      detach();
      if (e === undefined) controller.close();
      else controller.error(this.#failure(e));
    };
    const onData = (value: Uint8Array | string) => {
      try {
        const { chunk, last } = count.take(value);
        if (chunk.byteLength > 0) controller.enqueue(chunk);
        if (last) stop(count.finish());
        else if ((controller.desiredSize ?? 0) <= 0) src.pause();
      } catch (e) {
        stop(e);
      }
    };
    const onAbort = () => stop(aborted(this.#opts.signal!));
    src.on('data', onData);
    // `finished` reports 'end', errors and a close before the end (a dropped connection) alike.
    finished(src, (e) => stop(e ?? count.finish()));
    this.#opts.signal?.addEventListener('abort', onAbort, { once: true });
    if (this.#opts.signal?.aborted) onAbort();
    else src.resume();
    return {
      pull: () => {
        if (!over) src.resume();
      },
      cancel: async () => {
        if (!over) detach();
      },
    };
  }

  async *#pulled(): AsyncGenerator<Uint8Array> {
    const count = this.#counter();
    try {
      for await (const value of this.#source as AsyncIterable<Uint8Array | string>) {
        const { chunk, last } = count.take(value);
        if (chunk.byteLength > 0) yield chunk;
        if (last) break;
      }
      const e = count.finish();
      if (e) throw e;
    } catch (e) {
      throw this.#failure(e);
    } finally {
      this.#close();
    }
  }

  /** The per-chunk checks both ways of reading share: abort, the kept range, the byte count. */
  #counter() {
    const { signal, expected, keep, describe } = this.#opts;
    let pos = 0;
    let received = 0;
    return {
      take(value: Uint8Array | string): { chunk: Uint8Array; last: boolean } {
        throwIfAborted(signal);
        let chunk = typeof value === 'string' ? Buffer.from(value) : value;
        if (keep) {
          const from = Math.max(keep.start - pos, 0);
          const to = Math.max(Math.min(keep.end - pos, chunk.byteLength), from);
          pos += chunk.byteLength;
          if (from > 0 || to < chunk.byteLength) chunk = chunk.subarray(from, to);
        }
        received += chunk.byteLength;
        return { chunk, last: keep !== undefined && pos >= keep.end };
      },
      /** The error to end with, if the body was aborted or came up short. */
      finish(): MillraceError | undefined {
        if (signal?.aborted) return aborted(signal);
        if (expected !== undefined && received !== expected) {
          return new MillraceError('Storage', `${describe}: body ended after ${received} of ${expected} bytes (truncated)`);
        }
        return undefined;
      },
    };
  }

  #failure(e: unknown): MillraceError {
    const { signal, mapError } = this.#opts;
    return e instanceof MillraceError ? e : signal?.aborted ? aborted(signal) : mapError(e);
  }

  #close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#opts.onClose?.();
  }
}

/** Feeds a web stream from any chunk source, one `next()` per pull. */
export function feed(body: AsyncIterable<Uint8Array>, controller: StreamController): Feed {
  return body instanceof CheckedBody ? body.feed(controller) : pulling(body, controller);
}

function pulling(body: AsyncIterable<Uint8Array>, controller: StreamController): Feed {
  const it = body[Symbol.asyncIterator]();
  return {
    pull: async () => {
      const { done, value } = await it.next();
      if (done) controller.close();
      else controller.enqueue(value);
    },
    cancel: async () => {
      await it.return?.();
    },
  };
}

function isNodeReadable(source: unknown): source is Readable {
  return typeof (source as Readable).on === 'function' && typeof (source as Readable).pause === 'function' && typeof (source as Readable).resume === 'function';
}

/**
 * A download's body, checked (see `checked`). When a ranged GET was answered with the whole
 * object (no 206: a store that ignores Range), only the requested bytes are kept.
 */
export function downloaded(
  body: Readable,
  response: { partial: boolean; length: number | undefined },
  opts: { range?: { start: number; end: number }; signal?: AbortSignal; describe: string; mapError: (e: unknown) => MillraceError },
): AsyncIterable<Uint8Array> {
  const { range } = opts;
  const whole = range && !response.partial ? response.length : undefined;
  return checked(body, {
    expected: whole === undefined || !range ? response.length : Math.max(0, Math.min(range.end, whole) - range.start),
    keep: whole === undefined || !range ? undefined : range,
    signal: opts.signal,
    describe: opts.describe,
    mapError: opts.mapError,
    onClose: () => body.destroy(),
  });
}

/**
 * Wraps a caller's chunk source so its own failure is remembered: SDKs sometimes replace it
 * with a later cleanup error, and the caller should hear about what actually went wrong.
 */
export function tracked(source: AsyncIterable<Uint8Array>, onChunk?: (n: number) => void): {
  iterable: AsyncIterable<Uint8Array>;
  failure: () => unknown;
  bytes: () => number;
} {
  let failure: unknown;
  let bytes = 0;
  return {
    iterable: (async function* () {
      try {
        for await (const chunk of source) {
          bytes += chunk.byteLength;
          onChunk?.(bytes);
          yield chunk;
        }
      } catch (e) {
        failure = e;
        throw e;
      }
    })(),
    failure: () => failure,
    bytes: () => bytes,
  };
}

/**
 * An SDK error reduced to what is safe to keep as `cause`: name, message (secrets scrubbed),
 * HTTP status and service code. SDK errors can carry request details and account ids.
 */
export function safeCause(e: unknown, secrets: readonly (string | undefined)[]): Error {
  if (e instanceof MillraceError) return e;
  const clean = (text: string) => scrub(text, secrets);
  const src = (e ?? {}) as { Code?: unknown; statusCode?: number; $metadata?: { httpStatusCode?: number; requestId?: string } };
  const out = sanitizedCause(e, clean) as Error & { code?: string; status?: number; requestId?: string };
  out.name = clean(out.name);
  // AWS service errors name their code `Code`.
  if (out.code === undefined && typeof src.Code === 'string') out.code = clean(src.Code);
  const status = src.$metadata?.httpStatusCode ?? src.statusCode;
  if (typeof status === 'number') out.status = status;
  if (src.$metadata?.requestId) out.requestId = src.$metadata.requestId;
  return out;
}

export function storageError(code: ErrorCode, message: string, cause: unknown, secrets: readonly (string | undefined)[]): MillraceError {
  return new MillraceError(code, scrub(message, secrets), { cause: safeCause(cause, secrets) });
}
