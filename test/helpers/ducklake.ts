/** Shared setup for the ducklake tests: a fresh home, the provisioned extensions, buckets and databases. */
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, expect } from 'vitest';
import { close, configure, MillraceError, type MillraceConfig } from '../../src/index.js';

/** The extensions `npm run extensions` (the pretest step) provisioned into the repo's millrace home. */
export const EXTENSION_DIR = process.env.MILLRACE_TEST_EXTENSION_DIR ?? resolve(__dirname, '..', '..', '.millrace', 'duckdb-extensions');

export async function ensureExtensions(): Promise<string> {
  const version = join(EXTENSION_DIR, 'v1.5.5');
  // aws (the credential chain) came later than the others: a folder provisioned before lacks it.
  const complete = existsSync(version) && readdirSync(version).some((p) => existsSync(join(version, p, 'aws.duckdb_extension')));
  if (!complete) {
    const { provision } = (await import('../../scripts/duckdb-extensions.mjs' as string)) as { provision(o: { dir: string }): Promise<unknown> };
    await provision({ dir: EXTENSION_DIR });
  }
  return EXTENSION_DIR;
}

export function freshHome(tag: string): string {
  const home = mkdtempSync(join(tmpdir(), `millrace-${tag}-`));
  process.env.MILLRACE_HOME = home;
  return home;
}

/**
 * A test file's embedded lake: a fresh home now, then the provisioned extensions configured (with what
 * `more` adds, e.g. datatables) before its tests and close() after them. Returns the home.
 */
export function embeddedLake(tag: string, more: () => Promise<MillraceConfig> | MillraceConfig = () => ({})): string {
  const home = freshHome(tag);
  beforeAll(async () => {
    const extensionDirectory = await ensureExtensions();
    await configure({ ...(await more()), duckdb: { extensionDirectory } });
  });
  afterAll(() => close());
  return home;
}

/** The MillraceError `p` rejects (or throws) with, failing the test when it resolves or fails with anything else. */
export async function caught(p: Promise<unknown> | (() => unknown)): Promise<MillraceError> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    expect(e).toBeInstanceOf(MillraceError);
    return e as MillraceError;
  }
  throw new Error('expected an error');
}

export type S3Info = { endPoint: string; accessKey: string; secretKey: string; region: string };

export async function createBucket(s3: S3Info, bucket: string): Promise<void> {
  const client = new S3Client({
    endpoint: s3.endPoint, region: s3.region, forcePathStyle: true,
    credentials: { accessKeyId: s3.accessKey, secretAccessKey: s3.secretKey },
  });
  try {
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
  } finally {
    client.destroy();
  }
}

/** A DuckDB-readable PostgreSQL catalog config from a URL, in the field form (host, port, user, dbname). */
export function pgCatalog(url: string) {
  const u = new URL(url);
  return {
    type: 'postgresql' as const, host: u.hostname, port: Number(u.port), user: decodeURIComponent(u.username),
    dbname: u.pathname.slice(1), ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
  };
}
