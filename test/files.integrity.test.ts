/**
 * Integrity under faults and races, on the stores that can show it: moto (a strict S3: it lists
 * multipart uploads and honours If-Match), Azurite and the fs backend.
 */
import { ListMultipartUploadsCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configure, copyS3File, listS3Files, loadS3File, statS3File, writeS3File, type StorageConfig } from '../src/s3.js';
import { copyLimits } from '../src/storage/s3-copy.js';
import { close } from '../src/lifecycle.js';
import { asyncPattern, freshHome, motoMissing, pattern, rawS3, s3Storage, sha256Of } from './helpers/storage.js';

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

  it('copies an object above the single-copy limit part by part (UploadPartCopy), keeping its bytes and headers', async () => {
    const saved = { ...copyLimits };
    Object.assign(copyLimits, { singleCopyMax: 6 * MiB, partSize: 5 * MiB });
    try {
      const size = 12 * MiB + 3;
      await writeS3File({ s3: 'bigcopy/src.bin' }, asyncPattern(size, 9), { contentType: 'application/x-big', contentDisposition: 'attachment' });
      await copyS3File({ s3: 'bigcopy/src.bin' }, { s3: 'bigcopy/dst.bin' });
      await copyS3File({ s3: 'bigcopy/src.bin' }, { s3: 'bigcopy/typed.bin' }, { contentType: 'application/x-other' });
      const expected = sha256Of(pattern(size, 9));
      for (const [key, type] of [['bigcopy/dst.bin', 'application/x-big'], ['bigcopy/typed.bin', 'application/x-other']] as const) {
        expect(sha256Of([await loadS3File({ s3: key })])).toBe(expected);
        const info = await statS3File({ s3: key });
        expect(info).toMatchObject({ size, contentType: type, contentDisposition: 'attachment' });
        expect(info?.etag).toMatch(/-3"$/); // a multipart object of 3 parts: 5 + 5 + 2 MiB
      }
      // An aborted big copy leaves neither an object nor an unfinished upload.
      const ctrl = new AbortController();
      setTimeout(() => ctrl.abort(), 5);
      await expect(copyS3File({ s3: 'bigcopy/src.bin' }, { s3: 'bigcopy/aborted.bin' }, { signal: ctrl.signal })).rejects.toMatchObject({ code: 'Aborted' });
      expect(await statS3File({ s3: 'bigcopy/aborted.bin' })).toBeUndefined();
      expect(await unfinishedUploads()).toEqual([]);
    } finally {
      Object.assign(copyLimits, saved);
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

describe.each(['moto', 's3'] as const)('S3 listing on %s', (server) => {
  it.skipIf(server === 'moto' && Boolean(motoMissing()))('lists keys with \\r, tabs, spaces, % and + exactly as written', async () => {
    await configure({ storage: await s3Storage('keys', server) });
    const keys = ['odd/a b', 'odd/a+b', 'odd/100%25', 'odd/tab\there', 'odd/ sp ', 'odd/é😀', 'odd/x&y<z>"\''];
    // s3rver ignores encoding-type and its XML normalises "\r" to "\n"; moto's router refuses "\n" in a key.
    if (server === 'moto') keys.push('odd/a\rb', 'odd/a\r', 'odd/\r\r');
    for (const k of keys) await writeS3File({ s3: k }, k);
    const listed: string[] = [];
    for await (const f of listS3Files({ prefix: 'odd/', pageSize: 3 })) listed.push(f.s3);
    expect(listed).toEqual([...keys].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))));
    for (const k of listed) expect(new TextDecoder().decode(await loadS3File({ s3: k }))).toBe(k);
  });
});
