/**
 * Files benchmark: millrace against the raw `@aws-sdk/client-s3` + `@aws-sdk/lib-storage` on the
 * same s3rver (started here on a free loopback port), in the same run, alternating who goes first.
 *
 *   npx tsx bench/files.ts            # full run, writes bench/results/files.md
 *   BENCH_QUICK=1 npx tsx bench/files.ts
 *
 * Prints time ratios (millrace / raw; below 1 is faster) and the peak RSS of a child process that
 * streams 1 GiB through writeS3File and back through loadS3FileStream().stream(): plain `node` on the
 * built package (built here with tsup), and the raw SDK doing the same in the same child script
 * (bench/files-rss-child.mjs).
 */
import '../test/setup/s3rver-openssl3.js';
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } = await import('@aws-sdk/client-s3');
const { Upload } = await import('@aws-sdk/lib-storage');
const millrace = await import('../src/index.js');

const MiB = 1024 * 1024;
const quick = process.env.BENCH_QUICK === '1';
const here = dirname(fileURLToPath(import.meta.url));

/** Bodies made on the fly from one reusable 1 MiB block, so generating data costs nothing measurable. */
const block = new Uint8Array(MiB).map((_, i) => (i * 31) & 0xff);
async function* body(bytes: number): AsyncGenerator<Uint8Array> {
  for (let sent = 0; sent < bytes; sent += MiB) yield sent + MiB <= bytes ? block : block.subarray(0, bytes - sent);
}

async function drain(stream: AsyncIterable<Uint8Array>): Promise<number> {
  let n = 0;
  for await (const c of stream) n += c.byteLength;
  return n;
}

async function time(fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function pool<T>(items: T[], width: number, fn: (t: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < items.length) await fn(items[next++]!);
  }));
}

// ---- the parent: s3rver, raw SDK and millrace side by side ----
const { default: S3rver } = (await import('s3rver')) as unknown as { default: new (o: object) => { run(): Promise<{ port: number }>; close(): Promise<void> } };
const dir = mkdtempSync(join(tmpdir(), 'millrace-bench-files-'));
const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: dir });
const { port } = await server.run();
const endPoint = `http://127.0.0.1:${port}`;
const bucket = 'bench-files';

const raw = new S3Client({
  endpoint: endPoint,
  region: 'us-east-1',
  forcePathStyle: true,
  credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
  // The same checksum settings millrace uses, so both send the same bytes.
  requestChecksumCalculation: 'WHEN_REQUIRED',
  responseChecksumValidation: 'WHEN_REQUIRED',
});
await raw.send(new CreateBucketCommand({ Bucket: bucket }));
await millrace.configure({ storage: { type: 's3', bucket, endPoint, accessKey: 'S3RVER', secretKey: 'S3RVER', region: 'us-east-1', pathStyle: true } });

const rawSdk = {
  writeLarge: (key: string, bytes: number) =>
    new Upload({ client: raw, params: { Bucket: bucket, Key: key, Body: Readable.from(body(bytes)) }, partSize: 8 * MiB, queueSize: 4, leavePartsOnError: false }).done(),
  readLarge: async (key: string) => drain((await raw.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body as unknown as AsyncIterable<Uint8Array>),
  // What a web ReadableStream (the Blob API's .stream()) costs on the raw SDK itself.
  readLargeWeb: async (key: string) => drain((await raw.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body!.transformToWebStream() as unknown as AsyncIterable<Uint8Array>),
  writeSmall: (key: string, data: Uint8Array) => raw.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: data, ContentLength: data.byteLength })),
  readSmall: async (key: string) => (await raw.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body!.transformToByteArray(),
};
const ours = {
  writeLarge: (key: string, bytes: number) => millrace.writeS3File({ s3: key }, body(bytes)),
  readLarge: async (key: string) => drain((await millrace.loadS3FileStream({ s3: key })).stream() as unknown as AsyncIterable<Uint8Array>),
  readLargeWeb: async (key: string) => drain((await millrace.loadS3FileStream({ s3: key })).stream() as unknown as AsyncIterable<Uint8Array>),
  writeSmall: (key: string, data: Uint8Array) => millrace.writeS3File({ s3: key }, data),
  readSmall: (key: string) => millrace.loadS3File({ s3: key }),
};
type Impl = typeof ours;

const rows: string[] = [];
const roundLog: string[] = [];
function report(what: string, millraceMs: number, rawMs: number, target: number) {
  const ratio = millraceMs / rawMs;
  const line = `| ${what} | ${millraceMs.toFixed(0)} ms | ${rawMs.toFixed(0)} ms | ${ratio.toFixed(3)} | <= ${target.toFixed(2)} | ${ratio <= target ? 'met' : 'missed'} | ${roundLog.at(-1)} |`;
  rows.push(line);
  console.log(`${what}: millrace ${millraceMs.toFixed(0)} ms, raw SDK ${rawMs.toFixed(0)} ms, ratio ${ratio.toFixed(3)} (target <= ${target})`);
}

/** Runs both sides `rounds` times, alternating which goes first; returns the median of each. */
async function compare(rounds: number, run: (impl: Impl | typeof rawSdk, tag: string) => Promise<unknown>) {
  const t = { ours: [] as number[], raw: [] as number[] };
  for (let i = 0; i < rounds; i++) {
    const order = i % 2 === 0 ? (['ours', 'raw'] as const) : (['raw', 'ours'] as const);
    for (const who of order) t[who].push(await time(() => run(who === 'ours' ? ours : rawSdk, `${who}-${i}`)));
  }
  console.log(`  rounds (ms): millrace ${t.ours.map((x) => x.toFixed(0)).join(', ')}; raw ${t.raw.map((x) => x.toFixed(0)).join(', ')}`);
  roundLog.push(`millrace ${t.ours.map((x) => x.toFixed(0)).join(', ')}; raw ${t.raw.map((x) => x.toFixed(0)).join(', ')}`);
  const best = Math.min(...t.ours) / Math.min(...t.raw);
  console.log(`  best round vs best round: ratio ${best.toFixed(3)}`);
  roundLog[roundLog.length - 1] += `; best/best ${best.toFixed(3)}`;
  return { ours: median(t.ours), raw: median(t.raw) };
}

const LARGE = (quick ? 64 : 256) * MiB;
const ROUNDS = quick ? 3 : 7;
const SMALL = quick ? 500 : 2000;

console.log(`s3rver on ${endPoint}; large ${LARGE / MiB} MiB x ${ROUNDS} rounds, small ${SMALL} x 4 KiB, node ${process.version}`);

await ours.writeLarge('warmup', 16 * MiB);
await rawSdk.writeLarge('warmup', 16 * MiB);

const w = await compare(ROUNDS, (impl) => impl.writeLarge('large.bin', LARGE));
report(`write ${LARGE / MiB} MiB (stream, multipart)`, w.ours, w.raw, 1.05);
const r = await compare(ROUNDS, async (impl) => {
  const n = await impl.readLarge('large.bin');
  if (n !== LARGE) throw new Error(`read ${n} of ${LARGE}`);
});
report(`read ${LARGE / MiB} MiB (stream)`, r.ours, r.raw, 1.05);
const rw = await compare(ROUNDS, async (impl) => {
  const n = await impl.readLargeWeb('large.bin');
  if (n !== LARGE) throw new Error(`read ${n} of ${LARGE}`);
});
report(`read ${LARGE / MiB} MiB as a web ReadableStream (control: raw SDK's transformToWebStream())`, rw.ours, rw.raw, 1.05);

const small = new Uint8Array(4096).fill(7);
const keys = Array.from({ length: SMALL }, (_, i) => `small/${i}.bin`);
const sw = await compare(quick ? 3 : 5, (impl, tag) => pool(keys, 16, (k) => impl.writeSmall(`${tag}/${k}`, small)));
report(`${SMALL} x 4 KiB writes (16 in flight)`, sw.ours, sw.raw, 1.1);
const sr = await compare(quick ? 3 : 5, (impl) => pool(keys, 16, (k) => impl.readSmall(`ours-0/${k}`)));
report(`${SMALL} x 4 KiB reads (16 in flight)`, sr.ours, sr.raw, 1.1);

// Peak RSS of a plain-node child that runs one side only, on the built package: 1 GiB up and back down.
const RSS_SIZE = (quick ? 256 : 1024) * MiB;
execFileSync('npx', ['tsup', '--silent'], { cwd: join(here, '..'), stdio: 'ignore' });
type Rss = { baseline: number; peak: number; maxRss: number; writeMs: number; readMs: number };
async function rssChild(mode: 'millrace' | 'raw'): Promise<Rss> {
  const child = spawn(process.execPath, [join(here, 'files-rss-child.mjs'), endPoint, bucket, String(RSS_SIZE), mode], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  const code = await new Promise<number | null>((res) => child.on('close', res));
  if (code !== 0) throw new Error(`RSS child failed (${code})`);
  return JSON.parse(out.trim().split('\n').at(-1)!) as Rss;
}
const mib = (n: number) => (n / MiB).toFixed(0);
const peakOf = (r: Rss) => Math.max(r.peak, r.maxRss);
const rss = await rssChild('millrace');
const rawRss = await rssChild('raw');
const rssLine = (who: string, r: Rss) => `${who}: peak ${mib(peakOf(r))} MiB, baseline ${mib(r.baseline)} MiB before the first byte (write ${(r.writeMs / 1000).toFixed(1)} s, read ${(r.readMs / 1000).toFixed(1)} s)`;
console.log(`stream ${RSS_SIZE / MiB} MiB up and down (target < 200 MiB peak):\n  ${rssLine('millrace', rss)}\n  ${rssLine('raw SDK', rawRss)}`);

const date = new Date().toISOString().slice(0, 10);
const md = `## Files (bench/files.ts)

${date}, machine: 2 cores (shared), Node ${process.version}, s3rver 3.7.1 on loopback started by the benchmark, @aws-sdk/client-s3 3.1169.
Each figure is the median of ${ROUNDS} (large) or 5 (small) rounds, alternating which side runs first;
the raw side is \`@aws-sdk/client-s3\` + \`@aws-sdk/lib-storage\` \`Upload\` (8 MiB parts, 4 in flight, the same settings millrace uses).${quick ? '\n**Quick run (BENCH_QUICK=1): smaller sizes.**' : ''}

| what | millrace | raw SDK | ratio | target | | every round (ms) |
| --- | --- | --- | --- | --- | --- | --- |
${rows.join('\n')}

Peak RSS of a child process (plain \`node\`, default flags, the built \`millrace/s3\`) streaming ${RSS_SIZE / MiB} MiB through \`writeS3File\` and back through \`loadS3FileStream().stream()\`:
**${mib(peakOf(rss))} MiB** (target < 200 MiB); baseline before the first byte (Node, millrace and the AWS SDK loaded, client made, one HEAD sent): ${mib(rss.baseline)} MiB.
The raw SDK doing the same in the same child script (Upload with 8 MiB parts and 4 in flight, GetObject body drained): **${mib(peakOf(rawRss))} MiB**, baseline ${mib(rawRss.baseline)} MiB.

The machine's 2 cores are shared with other work, so single rounds vary by up to 2x; the per-round times are listed so the spread is visible.
`;
mkdirSync(join(here, 'results'), { recursive: true });
writeFileSync(join(here, 'results', 'files.md'), md);
console.log('wrote bench/results/files.md');

raw.destroy();
await millrace.close();
await server.close();
rmSync(dir, { recursive: true, force: true });
