/**
 * Integrity under faults and races, on the stores that can show it: moto (a strict S3: it lists
 * multipart uploads and honours If-Match), Azurite and the fs backend.
 */
import { ListMultipartUploadsCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configure, writeS3File, type StorageConfig } from '../src/s3.js';
import { close } from '../src/lifecycle.js';
import { freshHome, motoMissing, rawS3, s3Storage } from './helpers/storage.js';

freshHome('integrity');
afterAll(() => close());

const MiB = 1024 * 1024;

describe.skipIf(Boolean(motoMissing()))('S3 on moto', () => {
  let cfg: StorageConfig & { type: 's3' };
  beforeAll(async () => {
    cfg = (await s3Storage('int', 'moto')) as StorageConfig & { type: 's3' };
    await configure({ storage: cfg });
  });

  async function unfinishedUploads(): Promise<string[]> {
    const raw = rawS3('moto');
    try {
      const r = await raw.send(new ListMultipartUploadsCommand({ Bucket: cfg.bucket }));
      return (r.Uploads ?? []).map((u) => `${u.Key} ${u.UploadId}`);
    } finally {
      raw.destroy();
    }
  }

  it('settles an aborted multipart write only once the upload is aborted on the store', async () => {
    for (let run = 0; run < 3; run++) {
      const ctrl = new AbortController();
      const body = (async function* () {
        for (let i = 0; i < 64; i++) {
          if (i === 20) ctrl.abort(new Error('caller gave up'));
          yield new Uint8Array(MiB).fill(i);
        }
      })();
      await expect(writeS3File({ s3: `abort/${run}.bin` }, body, { signal: ctrl.signal })).rejects.toMatchObject({ code: 'Aborted' });
      // Right after the rejection: a process that exits now must leave nothing on the store.
      expect(await unfinishedUploads()).toEqual([]);
    }
  });

  it('settles a multipart write whose body fails only once the upload is aborted on the store', async () => {
    const body = (async function* () {
      for (let i = 0; i < 20; i++) yield new Uint8Array(MiB).fill(i);
      throw new Error('upstream died');
    })();
    await expect(writeS3File({ s3: 'fail/halfway.bin' }, body)).rejects.toMatchObject({ code: 'Storage', message: expect.stringContaining('upstream died') });
    expect(await unfinishedUploads()).toEqual([]);
  });
});
