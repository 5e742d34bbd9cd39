/**
 * Integrity under faults and races, on the stores that can show it: moto (a strict S3: it lists
 * multipart uploads and honours If-Match), Azurite and the fs backend.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, ftruncateSync, openSync, readdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ListMultipartUploadsCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configure, copyS3File, deleteS3File, listS3Files, loadS3File, loadS3FileStream, statS3File, writeS3File, type StorageConfig } from '../src/entries/s3.js';
import { LOAD_MAX_BYTES } from '../src/files.js';
import { getStorage } from '../src/storage/index.js';
import { STALE_AFTER_MS } from '../src/storage/fs-atomic.js';
import { copyLimits } from '../src/storage/s3-copy.js';
import { close } from '../src/runtime.js';
import { asyncPattern, freshHome, fsStorage, motoMissing, newStorage, pattern, rawS3, s3Storage, sha256Of } from './helpers/storage.js';

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

  it('is a strict S3: a request signed with a wrong secret is refused (PermissionDenied)', async () => {
    await writeS3File({ s3: 'signed.txt' }, 'x');
    await configure({ storage: { ...cfg, secretKey: `${cfg.secretKey}x` } });
    try {
      await expect(loadS3File({ s3: 'signed.txt' })).rejects.toMatchObject({ code: 'PermissionDenied' });
    } finally {
      await configure({ storage: cfg });
    }
  });

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

describe.each(['moto', 'azure', 'fs'] as const)('a lazy Blob on %s reads one version', (kind) => {
  beforeAll(async () => {
    if (kind === 'moto' && motoMissing()) return;
    await configure({ storage: await newStorage(kind, 'pin') });
  });

  async function expectChanged(read: Promise<unknown>) {
    await expect(read).rejects.toMatchObject({ name: 'MillraceError', code: 'PreconditionFailed' });
  }

  it.skipIf(kind === 'moto' && Boolean(motoMissing()))('fails with PreconditionFailed once the file was overwritten at the same size, or shrank', async () => {
    const a = new Uint8Array(64 * 1024).fill(1);
    await writeS3File({ s3: 'pin/same.bin' }, a);
    const blob = await loadS3FileStream({ s3: 'pin/same.bin' });
    expect([...await blob.slice(0, 4).bytes()]).toEqual([1, 1, 1, 1]); // unchanged: reads
    await writeS3File({ s3: 'pin/same.bin' }, new Uint8Array(a.byteLength).fill(2));
    await expectChanged(blob.slice(10, 20).bytes());
    await expectChanged(blob.text());
    await expectChanged(new Response(blob.stream()).arrayBuffer());
    // A Blob made now reads the new version.
    expect([...await (await loadS3FileStream({ s3: 'pin/same.bin' })).slice(0, 2).bytes()]).toEqual([2, 2]);

    await writeS3File({ s3: 'pin/shrink.bin' }, new Uint8Array(100_000).fill(3));
    const shrinking = await loadS3FileStream({ s3: 'pin/shrink.bin' });
    await writeS3File({ s3: 'pin/shrink.bin' }, new Uint8Array(10).fill(4));
    await expectChanged(shrinking.slice(50_000, 60_000).arrayBuffer());
    await expectChanged(shrinking.slice(0, 5).arrayBuffer());
    await deleteS3File({ s3: 'pin/shrink.bin' });
    await expect(shrinking.slice(0, 5).arrayBuffer()).rejects.toMatchObject({ name: 'MillraceError' });
  });
});

describe.each(['fs', 's3', 'moto', 'azure'] as const)('loadS3File size limit on %s', (kind) => {
  it.skipIf(kind === 'moto' && Boolean(motoMissing()))('refuses a file over maxBytes with TooLarge before reading its body, pointing to loadS3FileStream', async () => {
    await configure({ storage: await newStorage(kind, 'max') });
    await writeS3File({ s3: 'max/a.bin' }, new Uint8Array(5000).fill(7));
    const storage = await getStorage({});
    const original = storage.get;
    let delivered = 0;
    storage.get = async (key, opts) => {
      const body = await original.call(storage, key, opts);
      const it = body[Symbol.asyncIterator]();
      return Object.assign({ [Symbol.asyncIterator]: () => ({ next: async () => { const r = await it.next(); if (!r.done) delivered += r.value.byteLength; return r; }, return: () => it.return!() }) }, { size: body.size });
    };
    try {
      const err = await loadS3File({ s3: 'max/a.bin' }, { maxBytes: 4999 }).catch((e) => e);
      expect(err).toMatchObject({ name: 'MillraceError', code: 'TooLarge' });
      expect(err.message).toContain('loadS3FileStream');
      expect(err.message).toContain('5000 bytes');
      expect(delivered).toBe(0);
    } finally {
      storage.get = original;
    }
    expect((await loadS3File({ s3: 'max/a.bin' }, { maxBytes: 5000 })).byteLength).toBe(5000);
  });
});

it('refuses a 3 GiB file by default (LOAD_MAX_BYTES, 2 GiB) at once, without reading it', async () => {
  const cfg = fsStorage('max');
  await configure({ storage: cfg });
  const fd = openSync(join(cfg.root, 'huge.bin'), 'w');
  ftruncateSync(fd, 3 * 1024 ** 3); // sparse: no disk used
  closeSync(fd);
  const started = Date.now();
  await expect(loadS3File({ s3: 'huge.bin' })).rejects.toMatchObject({ code: 'TooLarge', message: expect.stringContaining(`${3 * 1024 ** 3} bytes`) });
  expect(Date.now() - started).toBeLessThan(5000);
  expect(LOAD_MAX_BYTES).toBe(2 * 1024 ** 3);
  expect((await loadS3FileStream({ s3: 'huge.bin' })).size).toBe(3 * 1024 ** 3);
});

describe('fs: writes are atomic, data and metadata one version', () => {
  let root: string;
  beforeAll(async () => {
    const cfg = fsStorage('atomic');
    root = cfg.root;
    await configure({ storage: cfg });
  });
  const read = async (key: string) => ({ text: new TextDecoder().decode(await loadS3File({ s3: key })), type: (await statS3File({ s3: key }))?.contentType });

  it('a refused write replaces nothing: "x/y" after a file "x", "d" over a folder "d/"', async () => {
    await writeS3File({ s3: 'clash/x' }, 'old x', { contentType: 'text/x-old' });
    await expect(writeS3File({ s3: 'clash/x/y' }, 'new', { contentType: 'text/x-new' })).rejects.toMatchObject({ code: 'AlreadyExists' });
    expect(await read('clash/x')).toEqual({ text: 'old x', type: 'text/x-old' });
    await writeS3File({ s3: 'clash/d/e' }, 'old e', { contentType: 'text/x-e' });
    await expect(writeS3File({ s3: 'clash/d' }, 'new', { contentType: 'text/x-new' })).rejects.toMatchObject({ code: 'AlreadyExists' });
    expect(await read('clash/d/e')).toEqual({ text: 'old e', type: 'text/x-e' });
    expect(await statS3File({ s3: 'clash/d' })).toBeUndefined();
  });

  it('writes a 253- and a 255-byte name with a content type, or replaces nothing', async () => {
    for (const n of [253, 255]) {
      const key = `long/${'n'.repeat(n)}`;
      await writeS3File({ s3: key }, 'v1', { contentType: 'text/x-v1' });
      await writeS3File({ s3: key }, 'v2', { contentType: 'text/x-v2', contentDisposition: 'inline' });
      expect(await read(key)).toEqual({ text: 'v2', type: 'text/x-v2' });
    }
    const tooLong = `long/${'n'.repeat(256)}`;
    await expect(writeS3File({ s3: tooLong }, 'x', { contentType: 'text/x' })).rejects.toMatchObject({ name: 'MillraceError' });
    expect(await statS3File({ s3: tooLong }).catch(() => undefined)).toBeUndefined();
  });

  it('keeps each content type with its own data under 1,000 concurrent writes to one key', async () => {
    let checked = 0;
    for (let round = 0; round < 5; round++) {
      const writers = Array.from({ length: 200 }, (_, i) => {
        const v = `${round}-${i}`;
        // Every fourth writer sets no type: its version must come back without one.
        return writeS3File({ s3: 'race/one' }, `${v};`.repeat(1 + (i % 7)), i % 4 === 3 ? {} : { contentType: `text/x-${v}` });
      });
      // Readers during the race see a consistent pair, never a type from another writer.
      const readers = Array.from({ length: 50 }, async () => {
        const blob = await loadS3FileStream({ s3: 'race/one' }).catch(() => undefined);
        if (!blob) return;
        const v = (await blob.text().catch(() => '')).split(';')[0];
        if (v && blob.type) expect(blob.type).toBe(`text/x-${v}`);
      });
      await Promise.all([...writers, ...readers]);
      const { text, type } = await read('race/one');
      const v = text.split(';')[0]!;
      const i = Number(v.split('-')[1]);
      expect(type).toBe(i % 4 === 3 ? undefined : `text/x-${v}`);
      checked++;
    }
    expect(checked).toBe(5);
  });
});

describe('fs: concurrent writer processes', () => {
  it('keep each content type with its own data across 3 processes x 3 rounds', async () => {
    const cfg = fsStorage('procs');
    await configure({ storage: cfg });
    for (let round = 0; round < 3; round++) {
      await Promise.all([0, 1, 2].map((p) => new Promise<void>((done, fail) => {
        const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'helpers', 'fs-racer.ts'), cfg.root, `${round}.${p}`, '12'], { stdio: 'inherit' });
        child.once('exit', (c) => (c === 0 ? done() : fail(new Error(`writer exited with ${c}`))));
      })));
      const text = new TextDecoder().decode(await loadS3File({ s3: 'race/shared' }));
      const v = text.split(';')[0]!;
      const i = Number(v.split('-')[1]);
      expect((await statS3File({ s3: 'race/shared' }))?.contentType).toBe(i % 4 === 3 ? undefined : `text/x-${v}`);
      expect(readdirSync(join(cfg.root, '.millrace-tmp'))).toEqual([]); // no temp or lock file left
    }
  });
});

describe('fs: temp files of killed writers', () => {
  it('are removed when a storage on the folder opens, once stale (old, writer gone), and only then', async () => {
    const cfg = fsStorage('killed');
    const tmp = join(cfg.root, '.millrace-tmp');
    const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'helpers', 'fs-slow-writer.ts'), cfg.root, 'big.bin'], { stdio: 'ignore' });
    const exited = new Promise((r) => child.once('exit', r));
    let left: string[] = [];
    for (let i = 0; i < 300 && left.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 100));
      left = existsSync(tmp) ? readdirSync(tmp).filter((n) => statSync(join(tmp, n)).size > 0) : [];
    }
    expect(left.length).toBe(1);
    expect(left[0]).toMatch(new RegExp(`^${child.pid}-`));
    child.kill('SIGKILL');
    await exited;

    // Young: kept (its writer might be on another host, or just slow). A live writer's old file: kept.
    const live = join(tmp, `${process.pid}-live`);
    writeFileSync(live, 'still writing');
    const old = new Date(Date.now() - STALE_AFTER_MS - 60_000);
    utimesSync(live, old, old);
    await configure({ storage: { ...cfg } });
    await writeS3File({ s3: 'opened.txt' }, 'x');
    expect(readdirSync(tmp).sort()).toEqual([left[0], `${process.pid}-live`].sort());

    utimesSync(join(tmp, left[0]!), old, old);
    await configure({ storage: { ...cfg } });
    await writeS3File({ s3: 'opened-again.txt' }, 'x');
    expect(readdirSync(tmp)).toEqual([`${process.pid}-live`]);
    expect(await statS3File({ s3: 'big.bin' })).toBeUndefined();
  });
});
