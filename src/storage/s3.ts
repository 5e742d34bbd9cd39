/**
 * The `s3` backend: AWS S3, Cloudflare R2, MinIO and any S3-compatible store, through
 * `@aws-sdk/client-s3`. Large and unknown-length bodies are multipart uploads cut here (see `#putParts`:
 * bounded memory, no garbage per part; a failed upload is aborted, leaving no parts behind).
 */
import { Readable } from 'node:stream';
import { inspect } from 'node:util';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
  type CompletedPart,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { S3StorageConfig } from '../config.js';
import { MillraceError } from '../errors.js';
import type { DuckDBAccess, GetOptions, ListPage, ObjectMeta, PutBody, PutOptions, Storage } from './types.js';
import { aborted, checked, storageError, throwIfAborted } from './util.js';

const EMPTY: AsyncIterable<Uint8Array> = { async *[Symbol.asyncIterator]() {} };

/**
 * Multipart part size and parts in flight. A streamed upload holds QUEUE_SIZE part buffers (32 MiB),
 * allocated once and refilled: S3's minimum part is 5 MiB, and 8 MiB parts keep requests per GiB low.
 */
const PART_SIZE = 8 * 1024 * 1024;
const QUEUE_SIZE = 4;
const MAX_PARTS = 10_000;

type Part = { number: number; data: Uint8Array; buffer?: Uint8Array };

export async function create(config: S3StorageConfig, name: string): Promise<Storage> {
  return new S3Storage(config, name);
}

/** Windmill's s3 resource fields to an SDK endpoint URL: `endPoint` may be a host or a full URL. */
export function endpointUrl(c: S3StorageConfig): URL | undefined {
  if (!c.endPoint) return undefined;
  const scheme = c.useSSL === false ? 'http' : 'https';
  const url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(c.endPoint) ? c.endPoint : `${scheme}://${c.endPoint}`);
  if (c.port) url.port = String(c.port);
  return url;
}

function defaultRegion(c: S3StorageConfig): string {
  if (c.region) return c.region;
  return c.endPoint?.includes('r2.cloudflarestorage.com') ? 'auto' : 'us-east-1';
}

class S3Storage implements Storage {
  readonly #client: S3Client;
  readonly #config: S3StorageConfig;
  readonly #secrets: (string | undefined)[];
  readonly #endpoint: URL | undefined;
  readonly bucket: string;
  readonly name: string;

  constructor(config: S3StorageConfig, name: string) {
    this.#config = config;
    this.#secrets = [config.accessKey, config.secretKey, config.token];
    this.#endpoint = endpointUrl(config);
    this.bucket = config.bucket;
    this.name = name;
    const options: S3ClientConfig = {
      region: defaultRegion(config),
      forcePathStyle: config.pathStyle ?? Boolean(config.endPoint),
      // S3-compatible stores (MinIO, R2, older gateways) reject the default CRC32 trailers; send checksums only when required.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      maxAttempts: 4,
    };
    if (this.#endpoint) options.endpoint = this.#endpoint.href.replace(/\/$/, '');
    if (config.accessKey && config.secretKey) {
      options.credentials = { accessKeyId: config.accessKey, secretAccessKey: config.secretKey, sessionToken: config.token };
    }
    this.#client = new S3Client(options);
  }

  [inspect.custom](): string {
    return `S3Storage { name: ${JSON.stringify(this.name)}, bucket: ${JSON.stringify(this.bucket)}, endpoint: ${JSON.stringify(this.#endpoint?.href ?? 'aws')} }`;
  }

  #error(op: string, key: string, e: unknown, signal?: AbortSignal): MillraceError {
    if (e instanceof MillraceError) return e;
    if (signal?.aborted || (e as Error)?.name === 'AbortError') return aborted(signal);
    const err = e as { name?: string; Code?: string; $metadata?: { httpStatusCode?: number } };
    const status = err.$metadata?.httpStatusCode;
    const where = `${JSON.stringify(key)} in bucket ${JSON.stringify(this.bucket)}`;
    if (err.name === 'NoSuchKey' || err.name === 'NotFound' || status === 404) {
      if (err.name === 'NoSuchBucket') return storageError('StorageNotConfigured', `S3 bucket ${JSON.stringify(this.bucket)} does not exist`, e, this.#secrets);
      return storageError('NotFound', `No file at ${where}`, e, this.#secrets);
    }
    if (status === 403 || err.name === 'AccessDenied' || err.name === 'InvalidAccessKeyId' || err.name === 'SignatureDoesNotMatch') {
      return storageError('PermissionDenied', `S3 ${op} ${where}: permission denied (${err.name})`, e, this.#secrets);
    }
    if (status === 412) return storageError('PreconditionFailed', `S3 ${op} ${where}: precondition failed`, e, this.#secrets);
    return storageError('Storage', `S3 ${op} ${where} failed: ${err.name ?? 'Error'}: ${(e as Error)?.message ?? String(e)}`, e, this.#secrets);
  }

  async get(key: string, opts: GetOptions = {}): Promise<AsyncIterable<Uint8Array>> {
    throwIfAborted(opts.signal);
    const range = opts.range ? `bytes=${opts.range.start}-${opts.range.end - 1}` : undefined;
    let res;
    try {
      res = await this.#client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key, Range: range }), { abortSignal: opts.signal });
    } catch (e) {
      if ((e as { name?: string }).name === 'InvalidRange') return EMPTY;
      throw this.#error('read', key, e, opts.signal);
    }
    const body = res.Body as unknown as Readable;
    return checked(body, {
      expected: res.ContentLength,
      signal: opts.signal,
      describe: `S3 read ${JSON.stringify(key)}`,
      mapError: (e) => this.#error('read', key, e, opts.signal),
      onClose: () => body.destroy(),
    });
  }

  async head(key: string): Promise<ObjectMeta | undefined> {
    try {
      const r = await this.#client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      const meta: ObjectMeta = { key, size: r.ContentLength ?? 0 };
      if (r.ETag) meta.etag = r.ETag;
      if (r.LastModified) meta.lastModified = r.LastModified;
      if (r.ContentType) meta.contentType = r.ContentType;
      if (r.ContentDisposition) meta.contentDisposition = r.ContentDisposition;
      return meta;
    } catch (e) {
      const err = e as { name?: string; $metadata?: { httpStatusCode?: number } };
      if (err.name === 'NotFound' || err.name === 'NoSuchKey' || err.$metadata?.httpStatusCode === 404) return undefined;
      throw this.#error('stat', key, e);
    }
  }

  async put(key: string, body: PutBody, opts: PutOptions = {}): Promise<void> {
    throwIfAborted(opts.signal);
    const params = {
      Bucket: this.bucket,
      Key: key,
      ContentType: opts.contentType,
      ContentDisposition: opts.contentDisposition,
    };
    if ('bytes' in body && body.bytes.byteLength <= PART_SIZE) {
      try {
        await this.#client.send(new PutObjectCommand({ ...params, Body: body.bytes, ContentLength: body.bytes.byteLength }), { abortSignal: opts.signal });
      } catch (e) {
        throw this.#error('write', key, e, opts.signal);
      }
      opts.onProgress?.(body.bytes.byteLength);
      return;
    }
    await this.#putParts(params, body, opts);
  }

  /**
   * A multipart upload from whole bytes (cut into views, no copy) or a chunk stream. A stream is copied
   * once into at most QUEUE_SIZE part buffers, each refilled after its part is sent, so memory stays
   * at QUEUE_SIZE * PART_SIZE and no garbage is made per part (lib-storage's `Upload` concatenates every
   * part into a new buffer). A body that fits one part is one PutObject; on failure the upload is aborted.
   */
  async #putParts(params: { Bucket: string; Key: string; ContentType?: string; ContentDisposition?: string }, body: PutBody, opts: PutOptions): Promise<void> {
    const { signal } = opts;
    const source = 'bytes' in body ? undefined : body.stream[Symbol.asyncIterator]();
    const free: Uint8Array[] = [];
    let rest: Uint8Array | undefined; // what is left of a source chunk that overflowed the last part
    let offset = 0; // into whole bytes
    let number = 0;
    let ended = false;
    const cut = async (): Promise<Part | undefined> => {
      if (ended) return undefined;
      if (!source) {
        const bytes = (body as { bytes: Uint8Array }).bytes;
        const data = bytes.subarray(offset, offset + PART_SIZE);
        offset += data.byteLength;
        ended = offset >= bytes.byteLength;
        return { number: ++number, data };
      }
      const buffer = free.pop() ?? new Uint8Array(PART_SIZE);
      let filled = 0;
      while (filled < PART_SIZE) {
        if (!rest) {
          const r = await source.next();
          if (r.done) {
            ended = true;
            break;
          }
          rest = r.value;
        }
        const n = Math.min(rest.byteLength, PART_SIZE - filled);
        buffer.set(n === rest.byteLength ? rest : rest.subarray(0, n), filled);
        filled += n;
        rest = n < rest.byteLength ? rest.subarray(n) : undefined;
      }
      if (filled === 0 && number > 0) return undefined;
      return { number: ++number, data: buffer.subarray(0, filled), buffer };
    };
    // Parts are cut one at a time, in order, whichever sender asks.
    let queue: Promise<Part | undefined> = Promise.resolve(undefined);
    const next = () => (queue = queue.then(cut));

    let sent = 0;
    let uploadId: string | undefined;
    let failure: { error: unknown } | undefined;
    try {
      const first = (await next())!;
      if (ended && first.number === 1) {
        throwIfAborted(signal);
        await this.#client.send(new PutObjectCommand({ ...params, Body: first.data, ContentLength: first.data.byteLength }), { abortSignal: signal });
        opts.onProgress?.(first.data.byteLength);
        return;
      }
      throwIfAborted(signal);
      uploadId = (await this.#client.send(new CreateMultipartUploadCommand(params), { abortSignal: signal })).UploadId;
      const done: CompletedPart[] = [];
      const sender = async (part: Part | undefined) => {
        while (!failure && (part ??= await next())) {
          if (part.number > MAX_PARTS) throw new Error(`more than ${MAX_PARTS} parts of ${PART_SIZE} bytes`);
          const r = await this.#client.send(
            new UploadPartCommand({ Bucket: params.Bucket, Key: params.Key, UploadId: uploadId, PartNumber: part.number, Body: part.data, ContentLength: part.data.byteLength }),
            { abortSignal: signal },
          );
          if (!r.ETag) throw new Error(`part ${part.number} came back without an ETag`);
          done.push({ PartNumber: part.number, ETag: r.ETag });
          sent += part.data.byteLength;
          opts.onProgress?.(sent);
          if (part.buffer) free.push(part.buffer);
          part = undefined;
        }
      };
      const senders = Array.from({ length: QUEUE_SIZE }, (_, i) => sender(i === 0 ? first : undefined).catch((e) => void (failure ??= { error: e })));
      // A stalled body must not hold an aborted write: the abort ends the wait.
      let onAbort = () => {};
      await Promise.race([Promise.all(senders), new Promise<void>((resolve) => signal?.addEventListener('abort', (onAbort = () => resolve()), { once: true }))]);
      signal?.removeEventListener('abort', onAbort);
      throwIfAborted(signal);
      if (failure) throw failure.error;
      done.sort((a, b) => a.PartNumber! - b.PartNumber!);
      await this.#client.send(new CompleteMultipartUploadCommand({ Bucket: params.Bucket, Key: params.Key, UploadId: uploadId, MultipartUpload: { Parts: done } }), { abortSignal: signal });
      uploadId = undefined;
    } catch (e) {
      failure ??= { error: e };
      throw this.#error('write', params.Key, failure.error, signal);
    } finally {
      if (failure) void source?.return?.()?.catch(() => undefined);
      if (uploadId) await this.#client.send(new AbortMultipartUploadCommand({ Bucket: params.Bucket, Key: params.Key, UploadId: uploadId })).catch(() => undefined);
    }
  }

  async delete(key: string): Promise<void> {
    try {
      await this.#client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
    } catch (e) {
      const err = this.#error('delete', key, e);
      if (err.code !== 'NotFound') throw err;
    }
  }

  async list(prefix: string, after: string | undefined, pageSize: number): Promise<ListPage> {
    let r;
    try {
      r = await this.#client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix || undefined, StartAfter: after, MaxKeys: pageSize }));
    } catch (e) {
      throw this.#error('list', prefix, e);
    }
    const items: ObjectMeta[] = (r.Contents ?? []).map((o) => {
      const meta: ObjectMeta = { key: o.Key!, size: o.Size ?? 0 };
      if (o.ETag) meta.etag = o.ETag;
      if (o.LastModified) meta.lastModified = o.LastModified;
      return meta;
    });
    return r.IsTruncated && items.length ? { items, next: items[items.length - 1]!.key } : { items };
  }

  /** Server-side copy (CopyObject, so up to 5 GiB per object; larger needs UploadPartCopy, not done here). */
  async copy(src: string, dst: string): Promise<void> {
    const source = `${this.bucket}/${src.split('/').map(encodeURIComponent).join('/')}`;
    try {
      await this.#client.send(new CopyObjectCommand({ Bucket: this.bucket, Key: dst, CopySource: source }));
    } catch (e) {
      throw this.#error('copy', src, e);
    }
  }

  async presign(key: string, expirySecs: number): Promise<string> {
    try {
      // The presigner is published on its own release train; its client type differs only nominally.
      return await getSignedUrl(this.#client as never, new GetObjectCommand({ Bucket: this.bucket, Key: key }) as never, { expiresIn: expirySecs });
    } catch (e) {
      throw this.#error('sign', key, e);
    }
  }

  duckdb(): DuckDBAccess {
    const c = this.#config;
    const scope = `s3://${this.bucket}`;
    const options: Record<string, string | boolean> = { REGION: defaultRegion(c) };
    if (c.accessKey && c.secretKey) {
      options.KEY_ID = c.accessKey;
      options.SECRET = c.secretKey;
      if (c.token) options.SESSION_TOKEN = c.token;
    } else {
      options.PROVIDER = 'credential_chain';
    }
    if (this.#endpoint) {
      options.ENDPOINT = this.#endpoint.host;
      options.USE_SSL = this.#endpoint.protocol === 'https:';
    }
    options.URL_STYLE = (c.pathStyle ?? Boolean(c.endPoint)) ? 'path' : 'vhost';
    const secret = { type: 's3', scope, options };
    Object.defineProperty(secret, inspect.custom, { value: () => ({ type: 's3', scope, options: { ...options, KEY_ID: options.KEY_ID && '***', SECRET: options.SECRET && '***', SESSION_TOKEN: options.SESSION_TOKEN && '***' } }) });
    return { url: (key) => `${scope}/${key}`, secret };
  }

  async close(): Promise<void> {
    this.#client.destroy();
  }
}
