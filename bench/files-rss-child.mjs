/**
 * The RSS child of bench/files.ts, run with plain `node` (no tsx, default flags) on the built package,
 * as users run it. One side per process: `millrace` imports only `millrace/s3` (dist/s3.js), `raw`
 * only `@aws-sdk/client-s3` + `@aws-sdk/lib-storage`. Both stream the same body up and back down.
 *
 *   node bench/files-rss-child.mjs <endPoint> <bucket> <bytes> millrace|raw
 *
 * Prints one JSON line: baseline (RSS with everything loaded, the client made and one HEAD done,
 * before the first body byte), peak (sampled every 20 ms) and maxRss (the kernel's high-water mark).
 */
import { Readable } from 'node:stream';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const [endPoint, bucket, sizeArg, mode] = process.argv.slice(2);
const size = Number(sizeArg);
const MiB = 1024 * 1024;
const key = `rss/${mode}.bin`;

const block = new Uint8Array(MiB).map((_, i) => (i * 31) & 0xff);
async function* body(bytes) {
  for (let sent = 0; sent < bytes; sent += MiB) yield sent + MiB <= bytes ? block : block.subarray(0, bytes - sent);
}
async function drain(stream) {
  let n = 0;
  for await (const c of stream) n += c.byteLength;
  return n;
}

let write, read, done;
if (mode === 'millrace') {
  const millrace = await import('millrace/s3');
  await millrace.configure({ storage: { type: 's3', bucket, endPoint, accessKey: 'S3RVER', secretKey: 'S3RVER', region: 'us-east-1', pathStyle: true } });
  await millrace.statS3File({ s3: 'rss/absent' }); // loads the backend and makes the client
  write = () => millrace.writeS3File({ s3: key }, body(size));
  read = async () => drain((await millrace.loadS3FileStream({ s3: key })).stream());
  done = () => millrace.close();
} else if (mode === 'raw') {
  const { GetObjectCommand, HeadObjectCommand, S3Client } = await import('@aws-sdk/client-s3');
  const { Upload } = await import('@aws-sdk/lib-storage');
  const client = new S3Client({ endpoint: endPoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' }, requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' });
  await client.send(new HeadObjectCommand({ Bucket: bucket, Key: 'rss/absent' })).catch(() => undefined);
  write = () => new Upload({ client, params: { Bucket: bucket, Key: key, Body: Readable.from(body(size)) }, partSize: 8 * MiB, queueSize: 4 }).done();
  read = async () => drain((await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body);
  done = async () => client.destroy();
} else {
  throw new Error(`mode must be millrace or raw, not ${mode}`);
}

const baseline = process.memoryUsage().rss;
let peak = baseline;
const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
const t0 = performance.now();
await write();
const t1 = performance.now();
const n = await read();
const t2 = performance.now();
clearInterval(timer);
if (n !== size) throw new Error(`read back ${n} of ${size} bytes`);
peak = Math.max(peak, process.memoryUsage().rss);
await done();
process.stdout.write(JSON.stringify({ baseline, peak, maxRss: process.resourceUsage().maxRSS * 1024, writeMs: t1 - t0, readMs: t2 - t1 }) + '\n');
