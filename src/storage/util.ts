/** Small pieces every backend needs: byte-order key comparison, checked streams, safe error causes. */
import type { Readable } from 'node:stream';
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

/**
 * The chunks of a download, counted: fewer bytes than `expected` is an error (a truncated body
 * must never pass as a short file), as is an abort or a failing source. Plain async iteration,
 * not a web stream: callers that want one wrap it once (see StoredBlob), and whole-file reads skip it.
 * `return()` releases the source (`onClose`) even before the first chunk was asked for.
 */
export function checked(
  source: AsyncIterable<Uint8Array | string>,
  opts: { expected?: number; signal?: AbortSignal; describe: string; mapError: (e: unknown) => MillraceError; onClose?: () => void },
): AsyncIterableIterator<Uint8Array> {
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    opts.onClose?.();
  };
  const gen = (async function* () {
    let received = 0;
    try {
      for await (const value of source) {
        throwIfAborted(opts.signal);
        const chunk = typeof value === 'string' ? Buffer.from(value) : value;
        received += chunk.byteLength;
        yield chunk;
      }
      throwIfAborted(opts.signal);
      if (opts.expected !== undefined && received !== opts.expected) {
        throw new MillraceError('Storage', `${opts.describe}: body ended after ${received} of ${opts.expected} bytes (truncated)`);
      }
    } catch (e) {
      throw e instanceof MillraceError ? e : opts.signal?.aborted ? aborted(opts.signal) : opts.mapError(e);
    } finally {
      close();
    }
  })();
  return {
    [Symbol.asyncIterator]() {
      return this;
    },
    next: () => gen.next(),
    // A generator returned before it started never runs its `finally`: close here as well.
    return: async () => {
      try {
        return await gen.return(undefined);
      } finally {
        close();
      }
    },
  };
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
  return checked(whole === undefined || !range ? body : withinRange(body, range.start, range.end), {
    expected: whole === undefined || !range ? response.length : Math.max(0, Math.min(range.end, whole) - range.start),
    signal: opts.signal,
    describe: opts.describe,
    mapError: opts.mapError,
    onClose: () => body.destroy(),
  });
}

/**
 * The bytes [start, end) of a body that holds the whole object: what a store that ignores `Range`
 * sends (200 instead of 206). Stops reading once past `end`.
 */
export async function* withinRange(source: AsyncIterable<Uint8Array | string>, start: number, end: number): AsyncGenerator<Uint8Array> {
  let pos = 0;
  for await (const value of source) {
    const chunk = typeof value === 'string' ? Buffer.from(value) : value;
    const from = Math.max(start - pos, 0);
    const to = Math.min(end - pos, chunk.byteLength);
    pos += chunk.byteLength;
    if (to > from) yield from === 0 && to === chunk.byteLength ? chunk : chunk.subarray(from, to);
    if (pos >= end) return;
  }
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
