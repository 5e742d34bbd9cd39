/** Azure Blob (Azurite) through DuckDB's azure extension: S3Objects in an azure_blob storage, and a lake's data there. */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { configure, close, ducklake, listS3Files, statS3File } from '../../src/index.js';
import { ensureExtensions, freshHome } from '../helpers/ducklake.js';
import { join } from 'node:path';

const home = freshHome('dlazure');
const CONTAINER = 'ducklake-azure';

beforeAll(async () => {
  const az = inject('azure');
  const { BlobServiceClient, StorageSharedKeyCredential } = await import('@azure/storage-blob');
  const service = new BlobServiceClient(az.endpoint, new StorageSharedKeyCredential(az.accountName, az.accessKey));
  await service.getContainerClient(CONTAINER).createIfNotExists();
  await configure({
    secondaryStorage: { az: { type: 'azure_blob', accountName: az.accountName, accessKey: az.accessKey, endpoint: az.endpoint, containerName: CONTAINER } },
    ducklakes: { azlake: { catalog: { type: 'duckdb', path: join(home, 'az.ducklake') }, storage: 'az', prefix: 'lake/' } },
    duckdb: { extensionDirectory: await ensureExtensions() },
  });
});
afterAll(() => close());

describe('azure_blob storage', () => {
  it('writes and reads a Parquet S3Object in Azure', async () => {
    const file = { s3: 'exports/n.parquet', storage: 'az' };
    const sql = ducklake();
    await sql`COPY (SELECT range AS n FROM range(5)) TO ${file} (FORMAT parquet)`.execute();
    expect((await statS3File(file))?.size).toBeGreaterThan(0);
    expect(await sql`SELECT sum(n) FROM read_parquet(${file})`.fetchOneScalar()).toBe(10);
  });

  it('keeps a lake\'s data in Azure', async () => {
    const sql = ducklake('azlake');
    await sql`CREATE TABLE t (n INTEGER)`.execute();
    await sql`INSERT INTO t VALUES (${1}), (${2})`.execute();
    expect(await sql`SELECT sum(n) FROM t`.fetchOneScalar()).toBe(3);
    const keys: string[] = [];
    for await (const f of listS3Files({ storage: 'az', prefix: 'lake/' })) keys.push(f.s3);
    expect(keys.some((k) => k.startsWith('lake/main/t/') && k.endsWith('.parquet'))).toBe(true);
  });
});
