/**
 * The `azure_blob` backend, through `@azure/storage-blob` (imported on first use).
 * Credentials: `connectionString`, or `accountName` + `accessKey` (shared key, which can also sign
 * SAS URLs), or a `sasToken`; none means anonymous access to a public container.
 * Uploads stage blocks and commit them last, so a failed upload leaves no blob at the key.
 */
import { Readable } from 'node:stream';
import { inspect } from 'node:util';
import type * as AzureBlob from '@azure/storage-blob';
import type { AzureBlobStorageConfig } from './config.js';
import { aborted, MillraceError } from '../errors.js';
import { importBackend } from '../lazy.js';
import type { CopyOptions, DuckDBAccess, GetOptions, ListPage, ObjectMeta, PutBody, PutOptions, Storage } from './types.js';
import { compareKeys, downloaded, EMPTY, storageError, throwIfAborted, tracked } from './util.js';

const BLOCK_SIZE = 8 * 1024 * 1024;
const CONCURRENCY = 4;
/** Bodies up to this size go up in one Put Blob request. */
const SINGLE_PUT_MAX = 32 * 1024 * 1024;

export async function create(config: AzureBlobStorageConfig, name: string): Promise<Storage> {
  const sdk = await importBackend<typeof AzureBlob>('@azure/storage-blob');
  return new AzureStorage(sdk, config, name);
}

function parseConnectionString(cs: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of cs.split(';')) {
    const i = part.indexOf('=');
    if (i > 0) out[part.slice(0, i).trim()] = part.slice(i + 1).trim();
  }
  return out;
}

/** ObjectMeta from blob properties: getProperties() and listed blobs name them alike. */
function objectMeta(
  key: string,
  p: { contentLength?: number; etag?: string; lastModified?: Date; contentType?: string; contentDisposition?: string },
): ObjectMeta {
  const meta: ObjectMeta = { key, size: p.contentLength ?? 0 };
  if (p.etag) meta.etag = p.etag;
  if (p.lastModified) meta.lastModified = p.lastModified;
  if (p.contentType) meta.contentType = p.contentType;
  if (p.contentDisposition) meta.contentDisposition = p.contentDisposition;
  return meta;
}

class AzureStorage implements Storage {
  readonly #sdk: typeof AzureBlob;
  readonly #container: AzureBlob.ContainerClient;
  readonly #credential: AzureBlob.StorageSharedKeyCredential | undefined;
  readonly #config: AzureBlobStorageConfig;
  readonly #secrets: (string | undefined)[];
  readonly #accountUrl: string;
  /** Continuation markers by the last key of the page they follow: Azure has no "start after key". */
  readonly #markers = new Map<string, string>();
  readonly containerName: string;
  readonly name: string;
  readonly location: string;

  constructor(sdk: typeof AzureBlob, config: AzureBlobStorageConfig, name: string) {
    this.#sdk = sdk;
    this.#config = config;
    this.name = name;
    this.containerName = config.containerName;
    const cs = config.connectionString ? parseConnectionString(config.connectionString) : undefined;
    this.#secrets = [config.accessKey, config.connectionString, config.sasToken, cs?.AccountKey, cs?.SharedAccessSignature];
    const scheme = config.useSSL === false ? 'http' : 'https';
    this.#accountUrl = (config.endpoint ?? cs?.BlobEndpoint ?? `${scheme}://${cs?.AccountName ?? config.accountName}.blob.${cs?.EndpointSuffix ?? 'core.windows.net'}`).replace(/\/$/, '');
    const accountName = cs?.AccountName ?? config.accountName;
    const accountKey = config.accessKey ?? cs?.AccountKey;
    this.#credential = accountKey ? new sdk.StorageSharedKeyCredential(accountName, accountKey) : undefined;
    let service: AzureBlob.BlobServiceClient;
    if (config.connectionString && !config.endpoint) {
      service = sdk.BlobServiceClient.fromConnectionString(config.connectionString);
      // A SAS connection string puts the token in the URL's query: keep it out of what we show.
      this.#accountUrl = service.url.split('?', 1)[0]!.replace(/\/$/, '');
    } else if (this.#credential) {
      service = new sdk.BlobServiceClient(this.#accountUrl, this.#credential);
    } else {
      const sas = config.sasToken ?? cs?.SharedAccessSignature;
      service = new sdk.BlobServiceClient(sas ? `${this.#accountUrl}?${sas.replace(/^\?/, '')}` : this.#accountUrl, new sdk.AnonymousCredential());
    }
    this.#container = service.getContainerClient(config.containerName);
    const account = new URL(this.#accountUrl);
    this.location = `azure:${account.origin}${account.pathname.replace(/\/$/, '')}/${config.containerName}`;
  }

  [inspect.custom](): string {
    return `AzureStorage { name: ${JSON.stringify(this.name)}, account: ${JSON.stringify(this.#accountUrl)}, container: ${JSON.stringify(this.containerName)} }`;
  }

  #error(op: string, key: string, e: unknown, signal?: AbortSignal): MillraceError {
    if (e instanceof MillraceError) return e;
    // Only the caller's signal makes an abort: the SDKs also name a dropped connection AbortError.
    if (signal?.aborted) return aborted(signal);
    const err = e as { name?: string; code?: string; statusCode?: number; message?: string };
    const where = `${JSON.stringify(key)} in container ${JSON.stringify(this.containerName)}`;
    if (err.code === 'ContainerNotFound') return storageError('StorageNotConfigured', `Azure container ${JSON.stringify(this.containerName)} does not exist`, e, this.#secrets);
    if (err.statusCode === 404 || err.code === 'BlobNotFound') return storageError('NotFound', `No file at ${where}`, e, this.#secrets);
    if (err.statusCode === 403 || err.statusCode === 401) return storageError('PermissionDenied', `Azure ${op} ${where}: permission denied (${err.code ?? err.statusCode})`, e, this.#secrets);
    if (err.statusCode === 412) return storageError('PreconditionFailed', `Azure ${op} ${where}: precondition failed`, e, this.#secrets);
    // The SDK's messages quote whole response bodies; keep the first line.
    const first = (err.message ?? String(e)).split('\n', 1)[0];
    return storageError('Storage', `Azure ${op} ${where} failed: ${err.code ?? err.name ?? 'Error'}: ${first}`, e, this.#secrets);
  }

  #blob(key: string): AzureBlob.BlockBlobClient {
    return this.#container.getBlockBlobClient(key);
  }

  async get(key: string, opts: GetOptions = {}): Promise<AsyncIterable<Uint8Array>> {
    throwIfAborted(opts.signal);
    const offset = opts.range?.start ?? 0;
    const count = opts.range ? opts.range.end - opts.range.start : undefined;
    if (count === 0) return EMPTY;
    let res;
    try {
      res = await this.#blob(key).download(offset, count, { abortSignal: opts.signal, maxRetryRequests: 3, conditions: opts.ifMatch ? { ifMatch: opts.ifMatch } : undefined });
    } catch (e) {
      if ((e as { statusCode?: number }).statusCode === 416) return EMPTY;
      throw this.#error('read', key, e, opts.signal);
    }
    const body = res.readableStreamBody as Readable | undefined;
    if (!body) return EMPTY;
    return downloaded(body, { partial: res._response.status === 206, length: res.contentLength }, {
      range: opts.range,
      signal: opts.signal,
      describe: `Azure read ${JSON.stringify(key)}`,
      mapError: (e) => this.#error('read', key, e, opts.signal),
    });
  }

  async head(key: string): Promise<ObjectMeta | undefined> {
    try {
      return objectMeta(key, await this.#blob(key).getProperties());
    } catch (e) {
      if ((e as { statusCode?: number }).statusCode === 404 && (e as { code?: string }).code !== 'ContainerNotFound') return undefined;
      throw this.#error('stat', key, e);
    }
  }

  async put(key: string, body: PutBody, opts: PutOptions = {}): Promise<void> {
    throwIfAborted(opts.signal);
    const headers: AzureBlob.BlobHTTPHeaders = {};
    if (opts.contentType) headers.blobContentType = opts.contentType;
    if (opts.contentDisposition) headers.blobContentDisposition = opts.contentDisposition;
    const blob = this.#blob(key);
    let sent = 0;
    const onProgress = (p: { loadedBytes: number }) => {
      if (p.loadedBytes > sent) {
        sent = p.loadedBytes;
        opts.onProgress?.(sent);
      }
    };
    if ('bytes' in body) {
      const bytes = body.bytes;
      try {
        await blob.uploadData(bytes, {
          blobHTTPHeaders: headers,
          abortSignal: opts.signal,
          onProgress,
          blockSize: BLOCK_SIZE,
          maxSingleShotSize: SINGLE_PUT_MAX,
          concurrency: CONCURRENCY,
        });
      } catch (e) {
        throw this.#error('write', key, e, opts.signal);
      }
      if (bytes.byteLength > sent || bytes.byteLength === 0) opts.onProgress?.(bytes.byteLength);
      return;
    }
    const source = tracked(body.stream);
    try {
      await blob.uploadStream(Readable.from(source.iterable, { objectMode: false, highWaterMark: 1 }), BLOCK_SIZE, CONCURRENCY, {
        blobHTTPHeaders: headers,
        abortSignal: opts.signal,
        onProgress,
      });
    } catch (e) {
      throw this.#error('write', key, source.failure() ?? e, opts.signal);
    }
    if (source.bytes() > sent || source.bytes() === 0) opts.onProgress?.(source.bytes());
  }

  async delete(key: string): Promise<void> {
    try {
      await this.#blob(key).deleteIfExists();
    } catch (e) {
      throw this.#error('delete', key, e);
    }
  }

  /**
   * Azure pages by opaque markers, not by key. Pages we handed out remember their marker, so
   * `listS3Files` paging costs one request per page; a cursor from elsewhere is found by scanning.
   */
  async list(prefix: string, after: string | undefined, pageSize: number): Promise<ListPage> {
    const cached = after === undefined ? undefined : this.#markers.get(`${prefix}\0${after}`);
    const pages = this.#container
      .listBlobsFlat({ prefix: prefix || undefined })
      .byPage({ maxPageSize: after === undefined || cached ? pageSize : 5000, continuationToken: cached });
    try {
      for await (const page of pages) {
        const blobs = page.segment.blobItems.filter((b) => after === undefined || compareKeys(b.name, after) > 0);
        const items = blobs.slice(0, pageSize).map((b) => objectMeta(b.name, b.properties));
        if (items.length === 0 && page.continuationToken) continue;
        const last = items[items.length - 1]?.key;
        const more = blobs.length > pageSize || Boolean(page.continuationToken);
        if (last && blobs.length <= pageSize && page.continuationToken) {
          if (this.#markers.size > 10_000) this.#markers.clear();
          this.#markers.set(`${prefix}\0${last}`, page.continuationToken);
        }
        return more && last ? { items, next: last } : { items };
      }
    } catch (e) {
      throw this.#error('list', prefix, e);
    }
    return { items: [] };
  }

  /**
   * Copy Blob takes no HTTP headers, so a new type or disposition is set once the copy landed,
   * merged with the copied headers (Set Blob Properties replaces them all).
   */
  async copy(src: string, dst: string, opts: CopyOptions = {}): Promise<void> {
    throwIfAborted(opts.signal);
    const abortSignal = opts.signal;
    const to = this.#blob(dst);
    try {
      const from = this.#blob(src);
      const poller = await to.beginCopyFromURL(this.#credential ? from.url : await this.#readUrl(src, 3600), { abortSignal });
      await poller.pollUntilDone();
    } catch (e) {
      throw this.#error('copy', src, e, opts.signal);
    }
    if (!opts.contentType && !opts.contentDisposition) return;
    try {
      throwIfAborted(opts.signal);
      const p = await to.getProperties({ abortSignal });
      await to.setHTTPHeaders(
        {
          blobContentType: opts.contentType ?? p.contentType,
          blobContentDisposition: opts.contentDisposition ?? p.contentDisposition,
          blobContentEncoding: p.contentEncoding,
          blobContentLanguage: p.contentLanguage,
          blobCacheControl: p.cacheControl,
          blobContentMD5: p.contentMD5,
        },
        { conditions: { ifMatch: p.etag }, abortSignal },
      );
    } catch (e) {
      throw this.#error('copy', dst, e, opts.signal);
    }
  }

  /** A SAS URL, when we hold a key to sign with; otherwise the client's own URL (which carries any configured SAS). */
  async #readUrl(key: string, expirySecs: number): Promise<string> {
    if (!this.#credential) return this.#blob(key).url;
    return this.presign(key, expirySecs);
  }

  async presign(key: string, expirySecs: number): Promise<string> {
    if (!this.#credential) {
      throw new MillraceError('Unsupported', `Azure storage ${JSON.stringify(this.name)} has no account key (accessKey, or AccountKey in connectionString), so it cannot sign SAS URLs`);
    }
    const sdk = this.#sdk;
    const now = Date.now();
    const sas = sdk.generateBlobSASQueryParameters(
      {
        containerName: this.containerName,
        blobName: key,
        permissions: sdk.BlobSASPermissions.parse('r'),
        startsOn: new Date(now - 5 * 60_000), // tolerate clock skew
        expiresOn: new Date(now + expirySecs * 1000),
      },
      this.#credential,
    ).toString();
    return `${this.#blob(key).url}?${sas}`;
  }

  duckdb(): DuckDBAccess {
    const scope = `az://${this.containerName}`;
    const c = this.#config;
    let connectionString = c.connectionString;
    if (!connectionString || c.endpoint) {
      const url = new URL(this.#accountUrl);
      const parts = [`DefaultEndpointsProtocol=${url.protocol.replace(':', '')}`, `AccountName=${c.accountName}`];
      if (c.accessKey) parts.push(`AccountKey=${c.accessKey}`);
      if (c.sasToken) parts.push(`SharedAccessSignature=${c.sasToken.replace(/^\?/, '')}`);
      parts.push(`BlobEndpoint=${this.#accountUrl}`);
      connectionString = parts.join(';');
    }
    const secret = { type: 'azure', scope, options: { CONNECTION_STRING: connectionString } as Record<string, string | boolean> };
    const shown = () => ({ type: 'azure', scope, options: { CONNECTION_STRING: '***' } });
    Object.defineProperties(secret, { [inspect.custom]: { value: shown }, toJSON: { value: shown } });
    return { url: (key) => `${scope}/${key}`, extensions: ['azure'], secret };
  }

  async close(): Promise<void> {}
}
