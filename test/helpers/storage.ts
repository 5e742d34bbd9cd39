/** Shared by the file tests: fresh homes, buckets and containers on the test servers, deterministic data. */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { BlobServiceClient, StorageSharedKeyCredential } from '@azure/storage-blob';
import { inject } from 'vitest';
import type { AzureBlobStorageConfig, FsStorageConfig, S3StorageConfig, StorageConfig } from '../../src/config.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

/** Points MILLRACE_HOME at a fresh temp folder; call at the top of each test file. */
export function freshHome(tag: string): string {
  const home = mkdtempSync(join(tmpdir(), `millrace-${tag}-`));
  process.env.MILLRACE_HOME = home;
  return home;
}

export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(5).toString('hex')}`.toLowerCase().slice(0, 63);
}

/** The S3 servers of the test setup: s3rver (lax) and moto (checks signatures, lists multipart uploads, honours If-Match). */
export type S3Server = 's3' | 'moto';

function s3Server(server: S3Server): { endPoint: string; accessKey: string; secretKey: string; region: string } {
  if (server === 's3') return inject('s3');
  const moto = inject('moto');
  if (!moto.available) throw new Error(`moto is not available: ${moto.reason}`);
  return moto;
}

/** Why moto's rows are skipped, or undefined when it runs. */
export function motoMissing(): string | undefined {
  const moto = inject('moto');
  return moto.available ? undefined : moto.reason;
}

export function rawS3(server: S3Server = 's3'): S3Client {
  const s3 = s3Server(server);
  return new S3Client({
    endpoint: s3.endPoint,
    region: s3.region,
    forcePathStyle: true,
    credentials: { accessKeyId: s3.accessKey, secretAccessKey: s3.secretKey },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

export function rawAzure(): BlobServiceClient {
  const az = inject('azure');
  return new BlobServiceClient(az.endpoint, new StorageSharedKeyCredential(az.accountName, az.accessKey));
}

/** A new bucket on the test s3rver (or moto) and the millrace config that reaches it. */
export async function s3Storage(tag = 'b', server: S3Server = 's3'): Promise<S3StorageConfig> {
  const s3 = s3Server(server);
  const bucket = uniqueName(`mr-${tag}`);
  const client = rawS3(server);
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  client.destroy();
  return { type: 's3', bucket, endPoint: s3.endPoint, region: s3.region, accessKey: s3.accessKey, secretKey: s3.secretKey, pathStyle: true };
}

/** A new container on the test Azurite and the millrace config that reaches it. */
export async function azureStorage(tag = 'c'): Promise<AzureBlobStorageConfig> {
  const az = inject('azure');
  const containerName = uniqueName(`mr-${tag}`);
  await rawAzure().getContainerClient(containerName).create();
  return { type: 'azure_blob', accountName: az.accountName, accessKey: az.accessKey, endpoint: az.endpoint, containerName };
}

export function fsStorage(tag = 'f'): FsStorageConfig {
  return { type: 'fs', root: mkdtempSync(join(tmpdir(), `millrace-fs-${tag}-`)) };
}

/** `s3` is s3rver, `moto` is moto's S3: two S3 implementations, the second strict. */
export type BackendKind = 'fs' | 's3' | 'moto' | 'azure';
export const BACKENDS: BackendKind[] = ['fs', 's3', 'moto', 'azure'];

/** The backends this run can reach (moto needs python3; see test/setup/moto.ts). */
export function reachableBackends(): BackendKind[] {
  return BACKENDS.filter((k) => k !== 'moto' || !motoMissing());
}

export function newStorage(kind: BackendKind, tag?: string): Promise<StorageConfig> | StorageConfig {
  return kind === 's3' || kind === 'moto' ? s3Storage(tag, kind) : kind === 'azure' ? azureStorage(tag) : fsStorage(tag);
}

/** Deterministic pseudo-random bytes (xorshift), generated chunk by chunk, so big bodies need no memory. */
export function* pattern(total: number, seed = 1, chunk = 1024 * 1024): Generator<Uint8Array> {
  let x = seed >>> 0 || 1;
  for (let off = 0; off < total; off += chunk) {
    const n = Math.min(chunk, total - off);
    const buf = new Uint8Array(n);
    const words = new Uint32Array(buf.buffer, 0, n >>> 2);
    for (let i = 0; i < words.length; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      words[i] = x >>> 0;
    }
    for (let i = words.length * 4; i < n; i++) buf[i] = i & 0xff;
    yield buf;
  }
}

export async function* asyncPattern(total: number, seed = 1, chunk = 1024 * 1024): AsyncGenerator<Uint8Array> {
  for (const c of pattern(total, seed, chunk)) yield c;
}

export function sha256Of(chunks: Iterable<Uint8Array>): string {
  const h = createHash('sha256');
  for (const c of chunks) h.update(c);
  return h.digest('hex');
}

export async function sha256Stream(stream: AsyncIterable<Uint8Array> | ReadableStream<Uint8Array>): Promise<{ hash: string; size: number }> {
  const h = createHash('sha256');
  let size = 0;
  for await (const c of stream as AsyncIterable<Uint8Array>) {
    h.update(c);
    size += c.byteLength;
  }
  return { hash: h.digest('hex'), size };
}

/** Messages, causes' messages and util.inspect output of an error, for secret scans. */
export function everythingSaidBy(e: unknown, inspectFn: (x: unknown) => string): string {
  const parts: string[] = [];
  let cur: unknown = e;
  for (let i = 0; cur && i < 10; i++) {
    parts.push(String((cur as Error).message), String((cur as Error).stack));
    cur = (cur as Error).cause;
  }
  parts.push(inspectFn(e));
  return parts.join('\n');
}
