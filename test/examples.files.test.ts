/** Runs the file usage scenarios U1..U4 from examples/, default storage on fs and storage_1 on S3 and on Azure. */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as wmill from '../src/index.js';
import { main as u1 } from '../examples/u1-read-input.js';
import { main as u2 } from '../examples/u2-read-lazily.js';
import { main as u3 } from '../examples/u3-write-and-return.js';
import { main as u4 } from '../examples/u4-secondary-storage.js';
import { azureStorage, freshHome, fsStorage, s3Storage } from './helpers/storage.js';

freshHome('examples-files');
afterAll(() => wmill.close());

describe.each(['s3', 'azure'] as const)('usage scenarios with storage_1 on %s', (kind) => {
  beforeAll(async () => {
    await wmill.configure({ storage: fsStorage('u'), secondaryStorage: { storage_1: kind === 's3' ? await s3Storage('u') : await azureStorage('u') } });
  });

  it('U1 reads an input file whole, as a record or a URI, from either storage', async () => {
    await wmill.writeS3File({ s3: 'inputs/hello.txt' }, 'Hello from U1 ✓');
    await wmill.writeS3File('s3://storage_1/inputs/hello.txt', 'Hello from storage_1');
    expect(await u1({ s3: 'inputs/hello.txt' })).toBe('Hello from U1 ✓');
    expect(await u1('s3:///inputs/hello.txt')).toBe('Hello from U1 ✓');
    expect(await u1({ s3: 'inputs/hello.txt', storage: 'storage_1' })).toBe('Hello from storage_1');
    await expect(u1({ s3: 'inputs/missing.txt' })).rejects.toMatchObject({ code: 'NotFound' });
  });

  it('U2 peeks at the head and streams the rest lazily', async () => {
    const lines = ['name,score', ...Array.from({ length: 20_000 }, (_, i) => `row${i},${i % 97}`)].join('\n');
    await wmill.writeS3File({ s3: 'big.csv', storage: 'storage_1' }, lines, undefined, 'text/csv');
    const out = await u2({ s3: 'big.csv', storage: 'storage_1' });
    expect(out).toEqual({
      size: Buffer.byteLength(lines),
      type: 'text/csv',
      firstLine: 'name,score',
      sha256: createHash('sha256').update(lines).digest('hex'),
    });
  });

  it('U3 writes a string and a stream and returns S3Objects the next step reads', async () => {
    const { summary, data } = await u3('daily', 3);
    expect(summary).toEqual({ s3: 'reports/daily.txt' });
    expect(data).toEqual({ s3: 'reports/daily.csv' });
    expect(await u1(summary)).toBe('3 rows\n');
    expect(await u1(data)).toBe('id,value\n0,0\n1,1\n2,4\n');
    expect(await wmill.statS3File(data)).toMatchObject({ contentType: 'text/csv' });
  });

  it('U4 writes to and reads from storage_1, which s3://storage_1/ also names', async () => {
    expect(await u4()).toEqual({ s3: 'data.csv', storage: 'storage_1' });
    expect(await u1('s3://storage_1/data.csv')).toBe('fooo\n1');
    expect(await wmill.statS3File({ s3: 'data.csv' })).toBeUndefined(); // not in the default storage
  });
});
