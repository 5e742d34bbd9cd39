/**
 * HTTP faults between millrace and real servers: msw (`setupServer` intercepts node:http, which the
 * AWS and Azure SDKs use) injects throttling, truncated bodies and records what went on the wire;
 * a loopback TCP proxy sends a real connection reset (RST), which msw cannot produce.
 *
 * msw must be listening before a client's first request: the AWS SDK captures `http.request`
 * when its first handler starts. Storage clients are created lazily, after `listen()` below.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import { http, HttpResponse, passthrough } from 'msw';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { configure, loadS3File, loadS3FileStream, statS3File, writeS3File, type StorageConfig } from '../src/entries/s3.js';
import { close } from '../src/runtime.js';
import { MillraceError } from '../src/errors.js';
import { azureStorage, freshHome, s3Storage } from './helpers/storage.js';

freshHome('faults');
const server = setupServer();
server.listen({ onUnhandledRequest: 'bypass' });
afterEach(() => {
  server.resetHandlers();
  server.events.removeAllListeners();
});
afterAll(async () => {
  server.close();
  await close();
});

const MiB = 1024 * 1024;
const text = (b: Uint8Array) => new TextDecoder().decode(b);

function slowDown(): Response {
  return new HttpResponse('<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>', {
    status: 503,
    headers: { 'content-type': 'application/xml' },
  });
}

/** Records every request that reaches the network (method, URL, Range) and the length of each answer. */
function wireLog() {
  const log: { method: string; url: URL; range: string | null; sent: string | null; status?: number; length?: string | null }[] = [];
  const byId = new Map<string, (typeof log)[number]>();
  server.events.on('request:start', ({ request, requestId }) => {
    const entry = { method: request.method, url: new URL(request.url), range: request.headers.get('range') ?? request.headers.get('x-ms-range'), sent: request.headers.get('content-length') };
    byId.set(requestId, entry);
    log.push(entry);
  });
  const answered = ({ response, requestId }: { response: Response; requestId: string }) => {
    const e = byId.get(requestId);
    if (e) Object.assign(e, { status: response.status, length: response.headers.get('content-length') });
  };
  server.events.on('response:bypass', answered);
  server.events.on('response:mocked', answered);
  return log;
}

describe('S3 faults', () => {
  let cfg: StorageConfig & { type: 's3' };
  let base: string;
  beforeAll(async () => {
    cfg = (await s3Storage('faults')) as StorageConfig & { type: 's3' };
    base = `${inject('s3').endPoint}/${cfg.bucket}`;
    await configure({ storage: cfg });
  });

  it('retries a 503 SlowDown on write and read, and succeeds', async () => {
    const hits = { put: 0, get: 0 };
    server.use(
      http.put(`${base}/throttled.txt`, () => (++hits.put <= 2 ? slowDown() : passthrough())),
      http.get(`${base}/throttled.txt`, () => (++hits.get === 1 ? slowDown() : passthrough())),
    );
    await writeS3File({ s3: 'throttled.txt' }, 'made it');
    expect(text(await loadS3File({ s3: 'throttled.txt' }))).toBe('made it');
    expect(hits).toEqual({ put: 3, get: 2 });
  });

  it('retries a throttled part of a multipart upload', async () => {
    let parts = 0;
    server.use(http.put(`${base}/multi.bin`, ({ request }) => (new URL(request.url).searchParams.has('partNumber') && ++parts === 2 ? slowDown() : passthrough())));
    const body = (async function* () {
      for (let i = 0; i < 20; i++) yield new Uint8Array(MiB).fill(i);
    })();
    await writeS3File({ s3: 'multi.bin' }, body);
    const back = await loadS3File({ s3: 'multi.bin' });
    expect(back.byteLength).toBe(20 * MiB);
    expect(back[19 * MiB]).toBe(19);
    expect(parts).toBeGreaterThan(3); // 3 parts of 8 MiB, one of them sent twice
  });

  it('detects a truncated body on read instead of returning short data', async () => {
    await writeS3File({ s3: 'whole.txt' }, 'x'.repeat(1000));
    server.use(http.get(`${base}/whole.txt`, () => new HttpResponse('x'.repeat(400), { headers: { 'content-length': '1000' } })));
    await expect(loadS3File({ s3: 'whole.txt' })).rejects.toMatchObject({ code: 'Storage' });
    await expect((await loadS3FileStream({ s3: 'whole.txt' })).text()).rejects.toMatchObject({ code: 'Storage' });
  });

  it('fetches only the sliced range over the wire', async () => {
    const data = new Uint8Array(2 * MiB).map((_, i) => i % 251);
    await writeS3File({ s3: 'ranged.bin' }, data);
    const log = wireLog();
    const part = await (await loadS3FileStream({ s3: 'ranged.bin' })).slice(100_000, 100_500).arrayBuffer();
    expect(new Uint8Array(part)).toEqual(data.subarray(100_000, 100_500));
    const gets = log.filter((e) => e.method === 'GET');
    expect(gets).toHaveLength(1);
    expect(gets[0]).toMatchObject({ range: 'bytes=100000-100499', status: 206, length: '500' });
  });

  it('sends a small Blob as one PutObject of known length', async () => {
    const log = wireLog();
    await writeS3File({ s3: 'blob.txt' }, new Blob(['a small blob']));
    expect(log.map((e) => `${e.method} ${e.url.pathname} ${e.sent}`)).toEqual([`PUT /${cfg.bucket}/blob.txt 12`]);
    expect(log[0]!.url.searchParams.has('uploadId')).toBe(false);
    expect(text(await loadS3File({ s3: 'blob.txt' }))).toBe('a small blob');
  });

  it('keeps slice() right when the store ignores Range and answers 200 with the whole object', async () => {
    const data = new Uint8Array(2 * MiB).map((_, i) => (i * 7) % 251);
    await writeS3File({ s3: 'norange.bin' }, data);
    server.use(http.get(`${base}/norange.bin`, () => new HttpResponse(data, { status: 200, headers: { 'content-length': String(data.byteLength), etag: '"whole"' } })));
    const log = wireLog();
    const blob = await loadS3FileStream({ s3: 'norange.bin' });
    expect(new Uint8Array(await blob.slice(1_500_000, 1_500_300).arrayBuffer())).toEqual(data.subarray(1_500_000, 1_500_300));
    expect(new Uint8Array(await new Response(blob.slice(10, 20).stream()).arrayBuffer())).toEqual(data.subarray(10, 20));
    expect(new Uint8Array(await blob.slice(-5).arrayBuffer())).toEqual(data.subarray(-5));
    expect(log.filter((e) => e.method === 'GET').map((e) => [e.range, e.status])).toEqual([['bytes=1500000-1500299', 200], ['bytes=10-19', 200], [`bytes=${2 * MiB - 5}-${2 * MiB - 1}`, 200]]);
  });

  it('aborts the multipart upload when the body fails halfway, leaving nothing behind', async () => {
    // s3rver implements neither ListMultipartUploads nor AbortMultipartUpload (it answers 405), so
    // msw answers the abort like S3 does and we check on the wire that it was sent for the right upload.
    const aborts: string[] = [];
    server.use(http.delete(`${base}/halfway.bin`, ({ request }) => {
      const id = new URL(request.url).searchParams.get('uploadId');
      if (!id) return passthrough();
      aborts.push(id);
      return new HttpResponse(null, { status: 204 });
    }));
    const log = wireLog();
    const body = (async function* () {
      for (let i = 0; i < 20; i++) yield new Uint8Array(MiB);
      throw new Error('upstream died');
    })();
    await expect(writeS3File({ s3: 'halfway.bin' }, body)).rejects.toMatchObject({ code: 'Storage', message: expect.stringContaining('upstream died') });
    const uploadIds = new Set(log.filter((e) => e.url.searchParams.has('partNumber')).map((e) => e.url.searchParams.get('uploadId')));
    expect(uploadIds.size).toBe(1);
    expect(aborts).toEqual([...uploadIds]);
    expect(log.some((e) => e.method === 'POST' && e.url.searchParams.has('uploadId'))).toBe(false); // never completed
    expect(await statS3File({ s3: 'halfway.bin' })).toBeUndefined();
  });
});

describe('connection reset', () => {
  let proxy: Server;
  let resets = 0;
  let resetNext = 0;
  beforeAll(async () => {
    const target = new URL(inject('s3').endPoint);
    // A loopback proxy in front of s3rver that resets the connections it is told to, right after the request arrives.
    proxy = createServer((client: Socket) => {
      if (resetNext > 0) {
        resetNext--;
        client.once('data', () => {
          resets++;
          client.resetAndDestroy();
        });
        return;
      }
      const upstream = connect(Number(target.port), target.hostname);
      client.pipe(upstream).pipe(client);
      client.on('error', () => upstream.destroy());
      upstream.on('error', () => client.destroy());
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    const port = (proxy.address() as { port: number }).port;
    const cfg = await s3Storage('reset');
    await configure({ storage: { ...cfg, endPoint: `http://127.0.0.1:${port}` } });
  });
  afterAll(() => new Promise<void>((r) => proxy.close(() => r())));

  it('retries a reset connection and succeeds', async () => {
    resetNext = 1;
    await writeS3File({ s3: 'reset.txt' }, 'after a reset');
    resetNext = 1;
    expect(text(await loadS3File({ s3: 'reset.txt' }))).toBe('after a reset');
    expect(resets).toBe(2);
  });

  it('gives a typed error when resets outlast the retries', async () => {
    resetNext = 100;
    const err = await loadS3File({ s3: 'reset.txt' }).catch((e) => e);
    resetNext = 0;
    expect(err).toMatchObject({ name: 'MillraceError', code: 'Storage' });
    expect(resets).toBeGreaterThanOrEqual(2 + 4);
  });
});

describe('Azure faults', () => {
  let base: string;
  beforeAll(async () => {
    const cfg = await azureStorage('faults');
    base = `${inject('azure').endpoint}/${cfg.containerName}`;
    await configure({ storage: cfg });
  });

  it('retries a 503 on write and succeeds', async () => {
    let puts = 0;
    server.use(http.put(`${base}/throttled.txt`, () => (++puts === 1 ? new HttpResponse('busy', { status: 503 }) : passthrough())));
    await writeS3File({ s3: 'throttled.txt' }, 'made it');
    expect(text(await loadS3File({ s3: 'throttled.txt' }))).toBe('made it');
    expect(puts).toBe(2);
  });

  it('sends a small Blob as one Put Blob, not staged blocks', async () => {
    const log = wireLog();
    await writeS3File({ s3: 'blob.txt' }, new Blob(['a small blob']));
    expect(log.map((e) => `${e.method} ${e.url.pathname}${e.url.search} ${e.sent}`)).toEqual([`PUT ${new URL(base).pathname}/blob.txt 12`]);
    expect(text(await loadS3File({ s3: 'blob.txt' }))).toBe('a small blob');
  });

  it('keeps slice() right when the store ignores Range and answers 200 with the whole object', async () => {
    const data = new Uint8Array(MiB).map((_, i) => (i * 7) % 253);
    await writeS3File({ s3: 'norange.bin' }, data);
    server.use(http.get(`${base}/norange.bin`, () => new HttpResponse(data, { status: 200, headers: { 'content-length': String(data.byteLength), etag: '"whole"', 'x-ms-blob-type': 'BlockBlob' } })));
    const log = wireLog();
    const blob = await loadS3FileStream({ s3: 'norange.bin' });
    expect(new Uint8Array(await blob.slice(700_000, 700_300).arrayBuffer())).toEqual(data.subarray(700_000, 700_300));
    expect(new Uint8Array(await new Response(blob.slice(10, 20).stream()).arrayBuffer())).toEqual(data.subarray(10, 20));
    expect(log.filter((e) => e.method === 'GET').map((e) => e.status)).toEqual([200, 200]);
  });

  it('detects a truncated body on read', async () => {
    await writeS3File({ s3: 'whole.txt' }, 'y'.repeat(1000));
    server.use(http.get(`${base}/whole.txt`, () => new HttpResponse('y'.repeat(400), { headers: { 'content-length': '1000' } })));
    await expect(loadS3File({ s3: 'whole.txt' })).rejects.toMatchObject({ code: 'Storage' });
  });

  it('fetches only the sliced range over the wire', async () => {
    const data = new Uint8Array(MiB).map((_, i) => i % 253);
    await writeS3File({ s3: 'ranged.bin' }, data);
    const log = wireLog();
    const part = await (await loadS3FileStream({ s3: 'ranged.bin' })).slice(5000, 5300).arrayBuffer();
    expect(new Uint8Array(part)).toEqual(data.subarray(5000, 5300));
    const gets = log.filter((e) => e.method === 'GET');
    expect(gets).toHaveLength(1);
    expect(gets[0]).toMatchObject({ status: 206, length: '300' });
  });
});

/** A response body sent in `pieces` chunks; with `failAt`, the stream errors before that chunk. */
function pieces(data: Uint8Array, count: number, failAt?: number): ReadableStream<Uint8Array> {
  const size = Math.ceil(data.byteLength / count);
  let i = 0;
  return new ReadableStream({
    pull(c) {
      if (i === failAt) return c.error(new Error('connection dropped'));
      if (i * size >= data.byteLength) return c.close();
      c.enqueue(data.slice(i * size, ++i * size));
    },
  });
}

/** Byte equality without vitest's element-by-element diff, which takes seconds on a MiB. */
function expectBytes(actual: Uint8Array, expected: Uint8Array) {
  expect(actual.byteLength).toBe(expected.byteLength);
  expect(Buffer.compare(actual, expected)).toBe(0);
}

async function readStream(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

describe.each([
  { backend: 's3', storage: () => s3Storage('webstream'), base: (c: StorageConfig) => `${inject('s3').endPoint}/${(c as { bucket: string }).bucket}`, headers: {} as Record<string, string> },
  { backend: 'azure_blob', storage: () => azureStorage('webstream'), base: (c: StorageConfig) => `${inject('azure').endpoint}/${(c as { containerName: string }).containerName}`, headers: { 'x-ms-blob-type': 'BlockBlob' } },
])('loadS3FileStream().stream() on $backend: the web stream keeps every check', ({ storage, base: baseOf, headers }) => {
  let base: string;
  const data = new Uint8Array(MiB).map((_, i) => (i * 13) % 241);
  beforeAll(async () => {
    const cfg = await storage();
    base = baseOf(cfg);
    await configure({ storage: cfg });
    await writeS3File({ s3: 'web.bin' }, data);
  });
  const answer = (body: ReadableStream<Uint8Array> | Uint8Array, length: number, status = 200) =>
    new HttpResponse(body, { status, headers: { 'content-length': String(length), etag: '"web"', ...headers } });

  it('streams the whole file in many chunks, byte-identical', async () => {
    server.use(http.get(`${base}/web.bin`, () => answer(pieces(data, 40), data.byteLength)));
    expectBytes(await readStream((await loadS3FileStream({ s3: 'web.bin' })).stream()), data);
  });

  it('fails a truncated body instead of ending short', async () => {
    server.use(http.get(`${base}/web.bin`, () => answer(pieces(data.subarray(0, 300_000), 10), data.byteLength)));
    await expect(readStream((await loadS3FileStream({ s3: 'web.bin' })).stream())).rejects.toMatchObject({ code: 'Storage', message: expect.stringMatching(/truncated|web\.bin/) });
  });

  it('fails a body that breaks off halfway with a typed error', async () => {
    server.use(http.get(`${base}/web.bin`, () => answer(pieces(data, 20, 8), data.byteLength)));
    const err = await readStream((await loadS3FileStream({ s3: 'web.bin' })).stream()).catch((e) => e);
    expect(err).toBeInstanceOf(MillraceError);
    expect(err.code).toBe('Storage');
  });

  it('keeps a slice spanning many chunks when the store ignores Range', async () => {
    server.use(http.get(`${base}/web.bin`, () => answer(pieces(data, 40), data.byteLength)));
    const blob = await loadS3FileStream({ s3: 'web.bin' });
    expectBytes(await readStream(blob.slice(100_001, 900_003).stream()), data.subarray(100_001, 900_003));
    expectBytes(await readStream(blob.slice(-7).stream()), data.subarray(-7));
  });
});
