/**
 * One behaviour suite for the file API, run unchanged against every backend:
 * a local folder (fs), s3rver and moto (two S3 implementations) and Azurite (Azure Blob).
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  configure,
  copyS3File,
  deleteS3File,
  listS3Files,
  loadS3File,
  loadS3FileStream,
  moveS3File,
  statS3File,
  writeS3File,
  type StorageConfig,
} from '../src/entries/s3.js';
import { close } from '../src/runtime.js';
import { getStorage } from '../src/storage/index.js';
import type { Storage } from '../src/storage/types.js';
import { HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { asyncPattern, BACKENDS, freshHome, motoMissing, newStorage, reachableBackends, pattern, rawAzure, rawS3, sha256Of, sha256Stream, type BackendKind } from './helpers/storage.js';

freshHome('files');
afterAll(() => close());

const MiB = 1024 * 1024;
const text = (b: Uint8Array) => new TextDecoder().decode(b);

async function expectCode(p: Promise<unknown>, code: string) {
  await expect(p).rejects.toMatchObject({ name: 'MillraceError', code });
}

/** Counts the bytes a storage's `get` actually delivers, to prove range reads fetch only the range. */
function countReads(storage: Storage): { bytes: () => number; restore: () => void } {
  const original = storage.get;
  let bytes = 0;
  storage.get = async (key, opts) => {
    const chunks = await original.call(storage, key, opts);
    return (async function* () {
      for await (const chunk of chunks) {
        bytes += chunk.byteLength;
        yield chunk;
      }
    })();
  };
  return { bytes: () => bytes, restore: () => void (storage.get = original) };
}

if (motoMissing()) console.warn(`files.test.ts: moto rows skipped: ${motoMissing()}`);

describe.each(BACKENDS)('%s backend', (kind: BackendKind) => {
  const others = reachableBackends().filter((k) => k !== kind);
  if (!reachableBackends().includes(kind)) {
    it.skip(`skipped: ${motoMissing()}`, () => {});
    return;
  }
  let configs: Record<string, StorageConfig>;

  beforeAll(async () => {
    configs = {
      default: await newStorage(kind, 'd'),
      storage_1: await newStorage(kind, 's1'),
      ...Object.fromEntries(await Promise.all(others.map(async (k) => [k, await newStorage(k, 'x')] as const))),
    };
    const { default: storage, ...secondaryStorage } = configs;
    await configure({ storage, secondaryStorage });
  });

  it('round-trips every content kind, keeping the content type', async () => {
    const payload = 'hello, millrace ✓\n'.repeat(100);
    const bytes = new TextEncoder().encode(payload);
    const kinds: Record<string, () => unknown> = {
      string: () => payload,
      Blob: () => new Blob([bytes], { type: 'text/plain' }),
      Uint8Array: () => bytes,
      ArrayBuffer: () => bytes.slice().buffer,
      ReadableStream: () => new ReadableStream<Uint8Array>({ start(c) { c.enqueue(bytes.subarray(0, 7)); c.enqueue(bytes.subarray(7)); c.close(); } }),
      NodeReadable: () => Readable.from([Buffer.from(bytes.subarray(0, 100)), Buffer.from(bytes.subarray(100))]),
      AsyncIterable: () => (async function* () { yield bytes.subarray(0, 1); yield bytes.subarray(1); })(),
    };
    for (const [name, make] of Object.entries(kinds)) {
      const obj = await writeS3File({ s3: `kinds/${name}.txt` }, make() as string, undefined, 'text/plain; charset=utf-8');
      expect(obj).toEqual({ s3: `kinds/${name}.txt` });
      expect(text(await loadS3File(obj)), name).toBe(payload);
      expect((await statS3File(obj))?.contentType, name).toBe('text/plain; charset=utf-8');
    }
  });

  it('writes under a fresh unique key when the object is undefined', async () => {
    const a = await writeS3File(undefined, 'one');
    const b = await writeS3File(undefined, 'two');
    expect(a.s3).not.toBe(b.s3);
    expect(text(await loadS3File(a))).toBe('one');
    expect(text(await loadS3File(b))).toBe('two');
  });

  it('stores and reads an empty file', async () => {
    await writeS3File({ s3: 'empty/bytes' }, '');
    await writeS3File({ s3: 'empty/stream' }, new ReadableStream({ start: (c) => c.close() }));
    for (const key of ['empty/bytes', 'empty/stream']) {
      expect((await loadS3File({ s3: key })).byteLength).toBe(0);
      expect((await statS3File({ s3: key }))?.size).toBe(0);
      const blob = await loadS3FileStream({ s3: key });
      expect(blob.size).toBe(0);
      expect(await blob.text()).toBe('');
    }
  });

  it('writes 64 MiB from an unknown-length stream and reads it back byte-identical, reporting progress', async () => {
    const size = 64 * MiB + 12345;
    const expected = sha256Of(pattern(size, 7));
    const progress: number[] = [];
    const obj = await writeS3File({ s3: 'big/64mib.bin' }, asyncPattern(size, 7), { onProgress: (n) => progress.push(n) });
    expect(progress.length).toBeGreaterThan(2);
    expect(progress.every((n, i) => i === 0 || n >= progress[i - 1]!)).toBe(true);
    expect(progress.at(-1)).toBe(size);

    const streamed = await sha256Stream((await loadS3FileStream(obj)).stream());
    expect(streamed).toEqual({ hash: expected, size });
    const whole = await loadS3File(obj);
    expect(sha256Of([whole])).toBe(expected);
    expect((await statS3File(obj))?.size).toBe(size);
  });

  it('reads only the requested range through Blob.slice', async () => {
    const size = 4 * MiB;
    const all = new Uint8Array(size);
    let off = 0;
    for (const c of pattern(size, 3)) { all.set(c, off); off += c.byteLength; }
    await writeS3File({ s3: 'range/data.bin' }, all);
    const storage = await getStorage({});
    const counter = countReads(storage);
    try {
      const blob = await loadS3FileStream({ s3: 'range/data.bin' });
      expect(blob.size).toBe(size);
      expect(counter.bytes()).toBe(0); // lazily: nothing fetched yet

      const part = blob.slice(1_000_000, 1_004_000);
      expect(part.size).toBe(4000);
      expect(new Uint8Array(await part.arrayBuffer())).toEqual(all.subarray(1_000_000, 1_004_000));
      expect(counter.bytes()).toBe(4000);

      const nested = part.slice(10, 20);
      expect(new Uint8Array(await nested.arrayBuffer())).toEqual(all.subarray(1_000_010, 1_000_020));
      const tail = blob.slice(-5);
      expect(new Uint8Array(await tail.arrayBuffer())).toEqual(all.subarray(size - 5));
      expect(counter.bytes()).toBe(4000 + 10 + 5);
    } finally {
      counter.restore();
    }
  });

  it('ends a web stream with Aborted when the signal fires mid-stream', async () => {
    const obj = await writeS3File({ s3: 'web/abort.bin' }, asyncPattern(8 * MiB, 5));
    const ctrl = new AbortController();
    const reader = (await loadS3FileStream(obj, { signal: ctrl.signal })).stream().getReader();
    expect((await reader.read()).done).toBe(false);
    ctrl.abort();
    let err: unknown;
    try {
      for (;;) if ((await reader.read()).done) break;
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ name: 'MillraceError', code: 'Aborted' });
  });

  it('releases the download when a web stream\'s reader cancels early', async () => {
    const obj = await writeS3File({ s3: 'web/cancel.bin' }, asyncPattern(8 * MiB, 6));
    // More early-cancelled downloads than a connection pool holds (the S3 client's is 50): a leak would stall.
    for (let i = 0; i < 60; i++) {
      const reader = (await loadS3FileStream(obj)).stream().getReader();
      expect((await reader.read()).done).toBe(false);
      await reader.cancel();
    }
    expect(sha256Of([await loadS3File(obj)])).toBe(sha256Of(pattern(8 * MiB, 6)));
  });

  it('stats, deletes and reports missing files as NotFound', async () => {
    const before = Date.now();
    await writeS3File({ s3: 'stat/a.json' }, '{"a":1}', { contentType: 'application/json' });
    const info = await statS3File({ s3: 'stat/a.json' });
    expect(info).toMatchObject({ s3: 'stat/a.json', size: 7, contentType: 'application/json' });
    expect(info?.etag).toBeTruthy();
    expect(info!.lastModified!.getTime()).toBeGreaterThan(before - 5000);
    expect(await statS3File({ s3: 'stat/missing' })).toBeUndefined();

    await deleteS3File({ s3: 'stat/a.json' });
    expect(await statS3File({ s3: 'stat/a.json' })).toBeUndefined();
    await expectCode(loadS3File({ s3: 'stat/a.json' }), 'NotFound');
    await expectCode(loadS3FileStream('s3:///stat/a.json'), 'NotFound');
    await deleteS3File({ s3: 'stat/a.json' }); // missing: not an error
  });

  it('reports a key under a file\'s name ("a.txt/x" with a.txt a file) as NotFound', async () => {
    await writeS3File({ s3: 'nest/a.txt' }, 'a file, not a folder');
    const under = { s3: 'nest/a.txt/x' };
    await expectCode(loadS3File(under), 'NotFound');
    await expectCode(loadS3FileStream(under), 'NotFound');
    expect(await statS3File(under)).toBeUndefined();
    await expectCode(copyS3File(under, { s3: 'nest/copy' }), 'NotFound');
    await expectCode(moveS3File(under, { s3: 'nest/moved' }), 'NotFound');
    await expectCode(copyS3File(under, { s3: 'nest/copy', storage: others[0] }), 'NotFound');
    const storage = await getStorage({});
    await expectCode(storage.copy('nest/a.txt/x', 'nest/copy'), 'NotFound');
    await deleteS3File(under); // missing: not an error
    if (kind === 'fs') {
      // A local folder cannot hold both "a.txt" and "a.txt/x": writing there is AlreadyExists.
      await expectCode(writeS3File({ s3: 'nest/a.txt/y' }, 'x'), 'AlreadyExists');
      await expectCode(storage.copy('nest/a.txt', 'nest/a.txt/y'), 'AlreadyExists');
    }
    expect(await statS3File({ s3: 'nest/copy' })).toBeUndefined();
    expect(text(await loadS3File({ s3: 'nest/a.txt' }))).toBe('a file, not a folder');
  });

  it('lists 2,500 keys in key order across pages, resuming from a cursor', async () => {
    const keys = Array.from({ length: 2500 }, (_, i) => `many/${String(i).padStart(5, '0')}.txt`);
    const storage = await getStorage({});
    for (let i = 0; i < keys.length; i += 50) {
      await Promise.all(keys.slice(i, i + 50).map((k) => storage.put(k, { bytes: new TextEncoder().encode(k) })));
    }
    await writeS3File({ s3: 'many-not-in-prefix.txt' }, 'x');

    const original = storage.list;
    let pages = 0;
    storage.list = (...args) => { pages++; return original.apply(storage, args); };
    try {
      const listed: string[] = [];
      for await (const f of listS3Files({ prefix: 'many/' })) {
        expect(f.size).toBe(f.s3.length);
        listed.push(f.s3);
      }
      expect(listed).toEqual(keys);
      expect(pages).toBeGreaterThanOrEqual(3);

      const first: string[] = [];
      for await (const f of listS3Files({ prefix: 'many/', limit: 1200 })) first.push(f.s3);
      expect(first).toEqual(keys.slice(0, 1200));
      const rest: string[] = [];
      for await (const f of listS3Files({ prefix: 'many/', cursor: first.at(-1), pageSize: 700 })) rest.push(f.s3);
      expect(rest).toEqual(keys.slice(1200));
    } finally {
      storage.list = original;
    }
  });

  it('copies and moves within a storage, to a secondary storage and across backends, keeping metadata', async () => {
    const src = await writeS3File({ s3: 'copy/src.csv' }, 'a,b\n1,2\n', { contentType: 'text/csv', contentDisposition: 'attachment; filename="src.csv"' });
    const targets = [{ s3: 'copy/dst.csv' }, { s3: 'copy/dst.csv', storage: 'storage_1' }, ...others.map((k) => ({ s3: 'copy/dst.csv', storage: k }))];
    for (const dst of targets) {
      const out = await copyS3File(src, dst);
      expect(out).toEqual(dst);
      expect(text(await loadS3File(dst))).toBe('a,b\n1,2\n');
      expect(await statS3File(dst), JSON.stringify(dst)).toMatchObject({ contentType: 'text/csv', contentDisposition: 'attachment; filename="src.csv"' });
    }
    for (const dst of targets) {
      const from = { s3: 'copy/dst.csv', storage: dst.storage };
      const to = { s3: 'moved/dst.csv', storage: dst.storage === 'storage_1' ? undefined : 'storage_1' };
      await moveS3File(from, to);
      expect(await statS3File(from)).toBeUndefined();
      expect(text(await loadS3File(to))).toBe('a,b\n1,2\n');
      expect((await statS3File(to))?.contentType).toBe('text/csv');
    }
    await expectCode(copyS3File({ s3: 'copy/missing' }, { s3: 'copy/x' }), 'NotFound');
    expect(await statS3File({ s3: 'copy/x' })).toBeUndefined();
  });

  it('copies within a storage with a new contentType or contentDisposition, honouring signal and onProgress', async () => {
    const src = await writeS3File({ s3: 'recopy/src.txt' }, 'hello copy', { contentType: 'text/plain', contentDisposition: 'inline' });
    const progress: number[] = [];
    await copyS3File(src, { s3: 'recopy/a.md' }, { contentType: 'text/markdown', onProgress: (n) => progress.push(n) });
    expect(await statS3File({ s3: 'recopy/a.md' })).toMatchObject({ size: 10, contentType: 'text/markdown', contentDisposition: 'inline' });
    expect(progress.at(-1)).toBe(10);
    await copyS3File(src, { s3: 'recopy/b.txt' }, { contentDisposition: 'attachment; filename="b.txt"' });
    expect(await statS3File({ s3: 'recopy/b.txt' })).toMatchObject({ contentType: 'text/plain', contentDisposition: 'attachment; filename="b.txt"' });
    expect(await statS3File(src)).toMatchObject({ contentType: 'text/plain', contentDisposition: 'inline' });
    // A move onto the same key changes only the type.
    await moveS3File({ s3: 'recopy/b.txt' }, { s3: 'recopy/b.txt' }, { contentType: 'text/x-b' });
    expect(await statS3File({ s3: 'recopy/b.txt' })).toMatchObject({ contentType: 'text/x-b', contentDisposition: 'attachment; filename="b.txt"' });
    expect(text(await loadS3File({ s3: 'recopy/b.txt' }))).toBe('hello copy');

    await expectCode(copyS3File(src, { s3: 'recopy/c.txt' }, { signal: AbortSignal.abort() }), 'Aborted');
    await expectCode(copyS3File(src, { s3: 'recopy/c.txt' }, { contentType: 'text/x-c', signal: AbortSignal.abort() }), 'Aborted');
    const storage = await getStorage({});
    await expectCode(storage.copy('recopy/src.txt', 'recopy/c.txt', { contentType: 'text/x-c', signal: AbortSignal.abort() }), 'Aborted');
    expect(await statS3File({ s3: 'recopy/c.txt' })).toBeUndefined();

    // The headers millrace does not manage survive a copy that replaces the type.
    const cfg = configs.default!;
    if (cfg.type === 's3') {
      const raw = rawS3(kind === 'moto' ? 'moto' : 's3');
      await raw.send(new PutObjectCommand({ Bucket: cfg.bucket, Key: 'recopy/raw.txt', Body: 'raw', ContentType: 'text/plain', CacheControl: 'max-age=60', Metadata: { owner: 'ops' } }));
      await copyS3File({ s3: 'recopy/raw.txt' }, { s3: 'recopy/raw2.txt' }, { contentType: 'text/csv' });
      expect(await raw.send(new HeadObjectCommand({ Bucket: cfg.bucket, Key: 'recopy/raw2.txt' }))).toMatchObject({ ContentType: 'text/csv', CacheControl: 'max-age=60', Metadata: { owner: 'ops' } });
      raw.destroy();
    } else if (cfg.type === 'azure_blob') {
      const container = rawAzure().getContainerClient(cfg.containerName);
      await container.getBlockBlobClient('recopy/raw.txt').upload('raw', 3, { blobHTTPHeaders: { blobContentType: 'text/plain', blobCacheControl: 'max-age=60' }, metadata: { owner: 'ops' } });
      await copyS3File({ s3: 'recopy/raw.txt' }, { s3: 'recopy/raw2.txt' }, { contentType: 'text/csv' });
      expect(await container.getBlockBlobClient('recopy/raw2.txt').getProperties()).toMatchObject({ contentType: 'text/csv', cacheControl: 'max-age=60', metadata: { owner: 'ops' } });
    }
  });

  it('keeps contentType and contentDisposition, positional or in options, and exposes the type on the Blob', async () => {
    await writeS3File({ s3: 'meta/a.html' }, '<p>hi</p>', undefined, 'text/html', 'inline; filename="a.html"');
    await writeS3File({ s3: 'meta/b.bin' }, new Uint8Array(10 * MiB), { contentType: 'application/x-thing', contentDisposition: 'attachment' });
    expect(await statS3File({ s3: 'meta/a.html' })).toMatchObject({ contentType: 'text/html', contentDisposition: 'inline; filename="a.html"' });
    expect(await statS3File({ s3: 'meta/b.bin' })).toMatchObject({ size: 10 * MiB, contentType: 'application/x-thing', contentDisposition: 'attachment' });
    expect((await loadS3FileStream({ s3: 'meta/a.html' })).type).toBe('text/html');
    // Overwriting without a type drops the old one.
    await writeS3File({ s3: 'meta/a.html' }, 'plain now');
    const after = await statS3File({ s3: 'meta/a.html' });
    expect(after?.contentType === undefined || after.contentType === 'application/octet-stream').toBe(true);
    expect(after?.contentDisposition).toBeUndefined();
  });

  it('rejects an aborted signal with Aborted and leaves nothing behind', async () => {
    const already = AbortSignal.abort();
    await expectCode(writeS3File({ s3: 'abort/a' }, 'x', { signal: already }), 'Aborted');
    await expectCode(loadS3File({ s3: 'copy/src.csv' }, { signal: already }), 'Aborted');

    const ctrl = new AbortController();
    const body = (async function* () {
      for (let i = 0; i < 40; i++) {
        if (i === 20) ctrl.abort();
        yield new Uint8Array(MiB);
      }
    })();
    await expectCode(writeS3File({ s3: 'abort/b' }, body, { signal: ctrl.signal }), 'Aborted');
    expect(await statS3File({ s3: 'abort/a' })).toBeUndefined();
    expect(await statS3File({ s3: 'abort/b' })).toBeUndefined();
  });

  it('leaves no object (nor temp file) when the body stream fails halfway', async () => {
    await writeS3File({ s3: 'fail/keep.txt' }, 'old content');
    for (const key of ['fail/new.bin', 'fail/keep.txt']) {
      const body = (async function* () {
        for (let i = 0; i < 24; i++) yield new Uint8Array(MiB).fill(i);
        throw new Error('source went away');
      })();
      const err = await writeS3File({ s3: key }, body).catch((e) => e);
      expect(err).toMatchObject({ name: 'MillraceError', code: 'Storage' });
      expect(String(err.message) + String(err.cause?.message)).toContain('source went away');
    }
    expect(await statS3File({ s3: 'fail/new.bin' })).toBeUndefined();
    expect(text(await loadS3File({ s3: 'fail/keep.txt' }))).toBe('old content');
    if (configs.default!.type === 'fs') {
      const root = configs.default!.root;
      expect(existsSync(join(root, 'fail/new.bin'))).toBe(false);
      const tmp = join(root, '.millrace-tmp');
      expect(existsSync(tmp) ? readdirSync(tmp) : []).toEqual([]);
    }
  });
});
