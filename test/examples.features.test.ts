/** Runs the per-feature file examples in examples/ against an fs default storage and an S3 (s3rver) secondary. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import * as wmill from '../src/index.js';
import { main as listAndStat } from '../examples/files-list-and-stat.js';
import { main as copyMoveDelete } from '../examples/files-copy-move-delete.js';
import { main as presigned } from '../examples/files-presigned-url.js';
import { main as errors } from '../examples/files-errors.js';

const bucket = 'examples-features';

beforeAll(async () => {
  const s3 = inject('s3');
  process.env.MILLRACE_HOME = mkdtempSync(join(tmpdir(), 'millrace-examples-'));
  const client = new S3Client({
    endpoint: s3.endPoint, region: s3.region, forcePathStyle: true,
    credentials: { accessKeyId: s3.accessKey, secretAccessKey: s3.secretKey },
  });
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  client.destroy();
  await wmill.configure({
    storage: { type: 'fs', root: join(process.env.MILLRACE_HOME, 'files') },
    secondaryStorage: {
      archive: { type: 's3', bucket, endPoint: s3.endPoint, region: s3.region, pathStyle: true, accessKey: s3.accessKey, secretKey: s3.secretKey },
    },
  });
});

afterAll(() => wmill.close());

describe('feature examples', () => {
  it('lists a folder and stats a missing file', async () => {
    await wmill.writeS3File({ s3: 'reports/a.txt' }, 'aa');
    await wmill.writeS3File({ s3: 'reports/b.txt' }, 'bbbb');
    await wmill.writeS3File({ s3: 'other/c.txt' }, 'c');
    expect(await listAndStat('reports/')).toEqual({
      files: [{ key: 'reports/a.txt', size: 2 }, { key: 'reports/b.txt', size: 4 }],
      missingExists: false,
    });
  });

  it('copies across storages, moves, deletes', async () => {
    const input = await wmill.writeS3File({ s3: 'in/data.bin' }, new Uint8Array([1, 2, 3]));
    const result = await copyMoveDelete(input, 'archive');
    expect(result).toEqual({
      moved: { s3: 'archive/final.bin', storage: 'archive' },
      copyStillThere: false,
      originalStillThere: false,
    });
    expect([...(await wmill.loadS3File(result.moved))]).toEqual([1, 2, 3]);
  });

  it('makes a URL plain fetch() can download', async () => {
    const report = await wmill.writeS3File({ s3: 'shared/report.txt', storage: 'archive' }, 'quarterly numbers');
    const { url, signed } = await presigned(report);
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('quarterly numbers');
    expect(signed.presigned).toMatch(/X-Amz-Signature=/);
  });

  it('branches on error codes', async () => {
    await wmill.writeS3File({ s3: 'greeting.txt' }, 'hi');
    expect(await errors('greeting.txt')).toBe('hi');
    expect(await errors('nope.txt')).toBe('(no such file)');
    expect(await errors('../etc/passwd')).toBe('(bad key)');
  });
});
