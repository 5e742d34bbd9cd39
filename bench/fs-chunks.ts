/**
 * The fs backend with small chunks: a streamed write of 200 MiB in 1 KiB chunks through
 * `writeS3File` against `fs.createWriteStream` writing the same chunks to a file in the same
 * folder (one write per chunk, awaiting 'drain' when asked). Alternating pairs (each side first equally often), median of
 * the pairs' ratios. Target: <= 1.30.
 *
 *   npx tsx bench/fs-chunks.ts             # writes bench/results/fs-chunks.md
 *   BENCH_QUICK=1 npx tsx bench/fs-chunks.ts
 */
import { once } from 'node:events';
import { createWriteStream, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { configure, writeS3File } from '../src/entries/s3.js';
import { close } from '../src/runtime.js';
import { alternatingPairs, median } from './pairs.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const quick = process.env.BENCH_QUICK === '1';
const TOTAL = (quick ? 32 : 200) * MiB;
const CHUNK = KiB;
const PAIRS = quick ? 2 : 6;
const here = dirname(fileURLToPath(import.meta.url));

/** 1 KiB views into one 1 MiB block: distinct chunks, nothing generated while timing. */
const block = new Uint8Array(MiB).map((_, i) => (i * 131) & 0xff);
async function* chunks(): AsyncGenerator<Uint8Array> {
  for (let sent = 0; sent < TOTAL; sent += CHUNK) {
    const at = sent % MiB;
    yield block.subarray(at, at + CHUNK);
  }
}

const root = mkdtempSync(join(tmpdir(), 'millrace-bench-fs-'));
await configure({ storage: { type: 'fs', root } });

async function millrace(i: number): Promise<void> {
  await writeS3File({ s3: `m/${i}.bin` }, chunks());
}

/**
 * The raw baseline: a write stream, one write per chunk, awaiting 'drain' whenever the stream asks.
 * (Awaiting each write's callback instead is 3-4x slower here: the stronger baseline is this one.)
 */
async function raw(i: number): Promise<void> {
  const out = createWriteStream(join(root, `raw-${i}.bin`));
  for await (const chunk of chunks()) {
    if (!out.write(chunk)) await once(out, 'drain');
  }
  await new Promise<void>((done, fail) => out.end((e?: Error | null) => (e ? fail(e) : done())));
}

// One unmeasured round per side, then pairs.
await millrace(-1);
await raw(-1);
const { ms: times } = await alternatingPairs(PAIRS, ['millrace', 'raw'], (who, p) => (who === 'millrace' ? millrace(p) : raw(p)), (p, { millrace: tm, raw: tr }) => {
  if (statSync(join(root, 'm', `${p}.bin`)).size !== TOTAL || statSync(join(root, `raw-${p}.bin`)).size !== TOTAL) throw new Error('short write');
  rmSync(join(root, 'm', `${p}.bin`));
  rmSync(join(root, `raw-${p}.bin`));
  console.log(`pair ${p + 1}/${PAIRS}: millrace ${tm.toFixed(0)} ms, raw ${tr.toFixed(0)} ms, ratio ${(tm / tr).toFixed(3)}`);
});
const ratios = times.millrace.map((tm, p) => tm / times.raw[p]!);
await close();
rmSync(root, { recursive: true, force: true });

const ratio = median(ratios);
const fmt = (xs: number[]) => xs.map((x) => x.toFixed(0)).join(', ');
console.log(`\nwrite ${TOTAL / MiB} MiB in ${CHUNK / KiB} KiB chunks: millrace ${median(times.millrace).toFixed(0)} ms, fs.createWriteStream ${median(times.raw).toFixed(0)} ms, ratio (median of pairs) ${ratio.toFixed(3)} (target <= 1.30)`);

if (!quick) {
  const md = `# fs backend with small chunks (bench/fs-chunks.ts)

${new Date().toISOString().slice(0, 10)}, machine: ${cpus().length} cores (shared), Node ${process.version}, a temp folder on the local disk.
${PAIRS} pairs of rounds after one unmeasured round per side, alternating which goes first; the ratio is the median of the pairs' ratios.
Raw side: \`fs.createWriteStream\` to a file in the same folder, one \`write\` per chunk, awaiting \`'drain'\` whenever \`write\` returns false (awaiting each write's callback instead measured 3-4x slower, so this is the stricter baseline).
millrace: \`writeS3File\` of an async iterable of the same chunks to the fs storage (temp file, renamed into place with its metadata).

| what | millrace (median) | fs.createWriteStream (median) | ratio: median of round pairs | target | | every round (ms) |
| --- | --- | --- | --- | --- | --- | --- |
| write ${TOTAL / MiB} MiB in ${CHUNK / KiB} KiB chunks | ${median(times.millrace).toFixed(0)} ms | ${median(times.raw).toFixed(0)} ms | ${ratio.toFixed(3)} | <= 1.30 | ${ratio <= 1.3 ? 'met' : 'NOT met'} | millrace ${fmt(times.millrace)}; raw ${fmt(times.raw)} |
`;
  writeFileSync(join(here, 'results', 'fs-chunks.md'), md);
  console.log('wrote bench/results/fs-chunks.md');
}
