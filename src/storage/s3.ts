/**
 * The `s3` backend: AWS S3, Cloudflare R2, MinIO and any S3-compatible store, through
 * `@aws-sdk/client-s3`. Large and unknown-length bodies go through `@aws-sdk/lib-storage`'s
 * multipart `Upload` (bounded memory; a failed upload is aborted, leaving no parts behind).
 */
import { Readable } from 'node:stream';
import { inspect } from 'node:util';
import {
  CopyObjectCommand,
  type CopyObjectCommandInput,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { S3StorageConfig } from './config.js';
import { aborted, MillraceError } from '../errors.js';
import type { CopyOptions, DuckDBAccess, GetOptions, ListPage, ObjectMeta, PutBody, PutOptions, Storage } from './types.js';
import { copyLimits, multipartCopy } from './s3-copy.js';
import { downloaded, EMPTY, storageError, throwIfAborted, tracked } from './util.js';

/** Multipart part size and parallel parts: at most PART_SIZE * (QUEUE_SIZE + 1) bytes buffered per upload. */
const PART_SIZE = 8 * 1024 * 1024;
const QUEUE_SIZE = 4;

async function* once(bytes: Uint8Array): AsyncIterable<Uint8Array> {
  yield bytes;
}

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

/** ObjectMeta from a HeadObject answer or a listed object (which carries no content type). */
function objectMeta(
  key: string,
  size: number | undefined,
  o: { ETag?: string; LastModified?: Date; ContentType?: string; ContentDisposition?: string },
): ObjectMeta {
  const meta: ObjectMeta = { key, size: size ?? 0 };
  if (o.ETag) meta.etag = o.ETag;
  if (o.LastModified) meta.lastModified = o.LastModified;
  if (o.ContentType) meta.contentType = o.ContentType;
  if (o.ContentDisposition) meta.contentDisposition = o.ContentDisposition;
  return meta;
}

class S3Storage implements Storage {
  readonly #client: S3Client;
  readonly #config: S3StorageConfig;
  readonly #secrets: (string | undefined)[];
  readonly #endpoint: URL | undefined;
  readonly bucket: string;
  readonly name: string;
  readonly location: string;

  constructor(config: S3StorageConfig, name: string) {
    this.#config = config;
    this.#secrets = [config.accessKey, config.secretKey, config.token];
    this.#endpoint = endpointUrl(config);
    this.bucket = config.bucket;
    this.name = name;
    // Bucket names are global on AWS; elsewhere they are per endpoint.
    this.location = `s3:${this.#endpoint?.origin ?? 'aws'}/${config.bucket}`;
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
    // Only the caller's signal makes an abort: the SDKs also name a dropped connection AbortError.
    if (signal?.aborted) return aborted(signal);
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
      res = await this.#client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key, Range: range, IfMatch: opts.ifMatch }), { abortSignal: opts.signal });
    } catch (e) {
      if ((e as { name?: string }).name === 'InvalidRange') return EMPTY;
      throw this.#error('read', key, e, opts.signal);
    }
    return downloaded(res.Body as unknown as Readable, { partial: res.$metadata.httpStatusCode === 206, length: res.ContentLength }, {
      range: opts.range,
      signal: opts.signal,
      describe: `S3 read ${JSON.stringify(key)}`,
      mapError: (e) => this.#error('read', key, e, opts.signal),
    });
  }

  async head(key: string): Promise<ObjectMeta | undefined> {
    try {
      const r = await this.#client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return objectMeta(key, r.ContentLength, r);
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
    // Every multipart body is a stream we can fail: an abort fails the body, so lib-storage aborts
    // the upload itself and `done()` settles only after AbortMultipartUpload (its own `abort()`
    // rejects at once and cleans up later, leaving an unfinished upload to a process that exits).
    const source = tracked('bytes' in body ? once(body.bytes) : body.stream);
    const readable = Readable.from(source.iterable, { objectMode: false, highWaterMark: 1 });
    const upload = new Upload({
      client: this.#client,
      params: { ...params, Body: readable },
      partSize: PART_SIZE,
      queueSize: QUEUE_SIZE,
      leavePartsOnError: false,
    });
    let sent = 0;
    upload.on('httpUploadProgress', (p) => {
      if (p.loaded !== undefined && p.loaded > sent) {
        sent = p.loaded;
        opts.onProgress?.(sent);
      }
    });
    const onAbort = () => void readable.destroy(aborted(opts.signal));
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      await upload.done();
    } catch (e) {
      // lib-storage may replace a failing body with its own abort-cleanup error; report the body's.
      throw this.#error('write', key, source.failure() ?? e, opts.signal);
    } finally {
      opts.signal?.removeEventListener('abort', onAbort);
    }
    if (source.bytes() > sent) opts.onProgress?.(source.bytes());
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
      // URL-encoded keys: XML parsers turn a "\r" in a key into "\n" (line-end normalisation).
      r = await this.#client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix || undefined, StartAfter: after, MaxKeys: pageSize, EncodingType: 'url' }));
    } catch (e) {
      throw this.#error('list', prefix, e);
    }
    // Stores that ignore encoding-type (s3rver) say so by not echoing it: their keys are plain.
    const key = r.EncodingType === 'url' ? (k: string) => decodeURIComponent(k.replace(/\+/g, '%20')) : (k: string) => k;
    const items = (r.Contents ?? []).map((o) => objectMeta(key(o.Key!), o.Size, o));
    return r.IsTruncated && items.length ? { items, next: items[items.length - 1]!.key } : { items };
  }

  /**
   * Server-side copy of the version measured by a HEAD (CopySourceIfMatch): CopyObject up to
   * 5 GiB, UploadPartCopy parts above (`copyLimits`).
   */
  async copy(src: string, dst: string, opts: CopyOptions = {}): Promise<void> {
    throwIfAborted(opts.signal);
    const input: CopyObjectCommandInput = { Bucket: this.bucket, Key: dst, CopySource: `${this.bucket}/${src.split('/').map(encodeURIComponent).join('/')}` };
    try {
      const h = await this.#client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: src }), { abortSignal: opts.signal });
      input.CopySourceIfMatch = h.ETag;
      const big = (h.ContentLength ?? 0) > copyLimits.singleCopyMax;
      if (opts.contentType || opts.contentDisposition || big) {
        // REPLACE sets all metadata anew (and a multipart upload starts with none): carry the rest over.
        Object.assign(input, {
          MetadataDirective: 'REPLACE',
          ContentType: opts.contentType ?? h.ContentType,
          ContentDisposition: opts.contentDisposition ?? h.ContentDisposition,
          ContentEncoding: h.ContentEncoding,
          ContentLanguage: h.ContentLanguage,
          CacheControl: h.CacheControl,
          Expires: h.Expires,
          Metadata: h.Metadata,
        } satisfies Partial<CopyObjectCommandInput>);
      }
      if (big) await multipartCopy(this.#client, input, h.ContentLength!, h.ETag, opts.signal);
      else await this.#client.send(new CopyObjectCommand(input), { abortSignal: opts.signal });
    } catch (e) {
      throw this.#error('copy', src, e, opts.signal);
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
    const shown = () => ({ type: 's3', scope, options: { ...options, KEY_ID: options.KEY_ID && '***', SECRET: options.SECRET && '***', SESSION_TOKEN: options.SESSION_TOKEN && '***' } });
    Object.defineProperties(secret, { [inspect.custom]: { value: shown }, toJSON: { value: shown } });
    // The credential_chain provider (env, profile, instance role) lives in DuckDB's `aws` extension.
    const extensions = options.PROVIDER === 'credential_chain' ? ['httpfs', 'aws'] : ['httpfs'];
    return { url: (key) => `${scope}/${key}`, extensions, secret };
  }

  async close(): Promise<void> {
    this.#client.destroy();
  }
}
