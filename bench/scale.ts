/**
 * What a pipeline does beyond one call at a time, against the raw drivers in the same run:
 *
 *   npx tsx bench/scale.ts [concurrency] [results] [stream] [embedded]      (all by default)
 *
 * 1. concurrency: 8 aggregates over a lake table with DuckDB `threads=1`, on 1 lane and on 2 lanes
 *    (two statements in flight): raw node-api with 1 and 2 connections, `ducklake()` with 1 and 2
 *    concurrent callers. The gain of 2 lanes is t(1 lane) / t(2 lanes) - 1; target: millrace's gain
 *    >= 95% of raw's. Rounds rotate which of the four goes first.
 * 2. results: 500,000 rows x 23 columns (TPC-DS store_sales) through `.fetch()` against node-api's
 *    `getRows()` and `getRowObjectsJS()`; 500,000 rows x 23 columns from PostgreSQL through
 *    `datatable().fetch()` against raw postgres.js. Alternating rounds, median of the round ratios.
 * 3. stream: 10,000,000 rows through `.stream()` against the raw driver's streaming API
 *    (node-api `stream()` + `yieldRowObjectJs()`, postgres.js `.cursor()`), each run a fresh
 *    process (its peak RSS is the figure), pairs alternating which side goes first.
 * 4. embedded: the embedded PostgreSQL's cold start (first creation from the seed and by initdb, then an existing data dir) and peak RSS.
 * Writes bench/results/scale.md.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { peakRssKiB } from './peak-rss.js';
import { loadTpcds } from './tpcds/data.js';
import { startPostgres } from './tpcds/servers.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const here = import.meta.dirname;
const extensionDirectory = process.env.MILLRACE_BENCH_EXTENSION_DIR ?? resolve(here, '..', '.millrace', 'duckdb-extensions');
const STREAM_ROWS = Number(process.env.BENCH_STREAM_ROWS ?? 10_000_000);
const STREAM_PAIRS = Number(process.env.BENCH_STREAM_PAIRS ?? 3);
const RESULT_ROUNDS = Number(process.env.BENCH_RESULT_ROUNDS ?? 5);
const CONCURRENCY_ROUNDS = Number(process.env.BENCH_CONCURRENCY_ROUNDS ?? 6);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

const fmt = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const lines: string[] = [];
const out = (s = '') => {
  console.log(s);
  lines.push(s);
};

async function time(f: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await f();
  return performance.now() - t0;
}

/** Runs `jobs` over `lanes` workers, each taking the next job when free. */
async function overLanes<T>(jobs: T[], lanes: number, run: (job: T, lane: number) => Promise<unknown>): Promise<void> {
  const queue = [...jobs];
  await Promise.all(Array.from({ length: lanes }, async (_, lane) => {
    for (let j = queue.shift(); j !== undefined; j = queue.shift()) await run(j, lane);
  }));
}

/** An HTTP server that answers every request after `delayMs`: statements that wait, as on S3 or a remote catalog. */
async function slowServer(delayMs: number): Promise<{ url: string; close(): void }> {
  const { createServer } = await import('node:http');
  const body = 'a,b\n' + Array.from({ length: 100 }, (_, i) => `${i},${i * 2}`).join('\n') + '\n';
  const server = createServer((req, res) => {
    setTimeout(() => {
      res.writeHead(200, { 'content-type': 'text/csv', 'content-length': Buffer.byteLength(body) });
      res.end(req.method === 'HEAD' ? undefined : body);
    }, delayMs);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}`, close: () => server.close() };
}

async function concurrency(): Promise<void> {
  process.env.MILLRACE_HOME = mkdtempSync(join(tmpdir(), 'millrace-bench-scale-'));
  const wmill = await import('../src/index.js');
  const { getDuckDB } = await import('../src/sql/duckdb/instance.js');
  await wmill.configure({ duckdb: { extensionDirectory, settings: { threads: 1 } } });
  const sql = wmill.ducklake();
  await sql`CREATE OR REPLACE TABLE facts AS SELECT range AS id, range % 1000 AS k, (range * 7919 % 100003) / 100003.0 AS v FROM range(3000000)`.execute();
  const db = await getDuckDB();
  await db.admin('LOAD httpfs');
  const conns = [await db.instance.connect(), await db.instance.connect()];
  for (const c of conns) await c.run('USE lake_main');
  const slow = await slowServer(200);
  let request = 0;
  const workloads = {
    cpu: {
      label: '8 aggregates over a 3,000,000-row lake table (CPU-bound, DuckDB `threads=1`)',
      raw: (conn: (typeof conns)[number], j: number) => ({ text: 'SELECT k, sum(v) AS s, count(*) AS n FROM facts WHERE id % 8 <> $1 GROUP BY k ORDER BY k', bind: (p: { bindBigInt(i: number, v: bigint): void; bindVarchar(i: number, v: string): void }) => p.bindBigInt(1, BigInt(j)), conn }),
      ours: (j: number) => sql`SELECT k, sum(v) AS s, count(*) AS n FROM facts WHERE id % 8 <> ${j} GROUP BY k ORDER BY k`.fetch(),
    },
    wait: {
      label: '8 reads of a CSV from an HTTP server that answers after 200 ms (waiting, as on object storage or a remote catalog)',
      raw: (conn: (typeof conns)[number], _j: number) => ({ text: 'SELECT count(*) AS n FROM read_csv($1)', bind: (p: { bindBigInt(i: number, v: bigint): void; bindVarchar(i: number, v: string): void }) => p.bindVarchar(1, `${slow.url}/t.csv?r=${request++}`), conn }),
      ours: (_j: number) => sql`SELECT count(*) AS n FROM read_csv(${`${slow.url}/t.csv?r=${request++}`})`.fetch(),
    },
  };
  const jobs = [0, 1, 2, 3, 4, 5, 6, 7];
  out('### 1. Concurrent statements on one lake');
  out();
  for (const w of Object.values(workloads)) {
    const raw = (lanes: number) => overLanes(jobs, lanes, async (j, lane) => {
      const q = w.raw(conns[lane]!, j);
      const p = await q.conn.prepare(q.text);
      q.bind(p);
      (await p.runAndReadAll()).getRowObjectsJS();
      p.destroySync();
    });
    const ours = (lanes: number) => overLanes(jobs, lanes, (j) => w.ours(j));
    const sides: Record<string, () => Promise<unknown>> = { raw1: () => raw(1), raw2: () => raw(2), millrace1: () => ours(1), millrace2: () => ours(2) };
    const names = Object.keys(sides);
    await raw(2);
    await ours(2);
    const t: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
    for (let r = 0; r < CONCURRENCY_ROUNDS; r++) {
      const order = names.map((_, i) => names[(i + r) % names.length]!);
      for (const n of order) t[n]!.push(await time(sides[n]!));
    }
    const m = Object.fromEntries(names.map((n) => [n, median(t[n]!)]));
    const gainRaw = m.raw1! / m.raw2! - 1;
    const gainOurs = m.millrace1! / m.millrace2! - 1;
    out(`${w.label}; ${CONCURRENCY_ROUNDS} rounds rotating which of the four goes first (median times):`);
    out();
    out('| | 1 lane | 2 lanes | gain of the second lane |');
    out('| --- | --- | --- | --- |');
    out(`| raw node-api (1 and 2 connections) | ${fmt(m.raw1!)} | ${fmt(m.raw2!)} | ${(gainRaw * 100).toFixed(1)} % |`);
    out(`| millrace \`ducklake()\` (1 and 2 concurrent callers) | ${fmt(m.millrace1!)} | ${fmt(m.millrace2!)} | ${(gainOurs * 100).toFixed(1)} % |`);
    out();
    // Per round: each side's speed-up from its own back-to-back 1- and 2-lane runs, less exposed to a slow 1-lane round.
    const roundGain = (one: number[], two: number[]) => median(one.map((x, i) => x / two[i]! - 1));
    const gainRawRounds = roundGain(t.raw1!, t.raw2!);
    const gainOursRounds = roundGain(t.millrace1!, t.millrace2!);
    out(`millrace's gain / raw's gain: **${(gainOurs / gainRaw).toFixed(2)}** from the median times; ${(gainOursRounds / gainRawRounds).toFixed(2)} from the median per-round gains (raw ${(gainRawRounds * 100).toFixed(1)} %, millrace ${(gainOursRounds * 100).toFixed(1)} %) (target >= 0.95).`);
    out(`Every round (ms): ${names.map((n) => `${n} ${t[n]!.map((x) => x.toFixed(0)).join(', ')}`).join('; ')}.`);
    out();
  }
  slow.close();
  for (const c of conns) c.closeSync();
  await wmill.close();
}

async function duckdbResults(): Promise<void> {
  process.env.MILLRACE_HOME = mkdtempSync(join(tmpdir(), 'millrace-bench-scale-'));
  const wmill = await import('../src/index.js');
  const { getDuckDB } = await import('../src/sql/duckdb/instance.js');
  await wmill.configure({ duckdb: { extensionDirectory } });
  const sql = wmill.ducklake();
  await sql`SELECT 1`.execute();
  const db = await getDuckDB();
  const conn = await db.instance.connect();
  await loadTpcds(conn, extensionDirectory);
  await conn.run('CALL dsdgen(sf=0.2)');
  const text = 'SELECT * FROM memory.main.store_sales LIMIT 500000';
  const sides: Record<string, () => Promise<number>> = {
    fetch: async () => ((await sql`SELECT * FROM memory.main.store_sales LIMIT 500000`.fetch()) as unknown[]).length,
    getRows: async () => (await conn.runAndReadAll(text)).getRows().length,
    getRowObjectsJS: async () => (await conn.runAndReadAll(text)).getRowObjectsJS().length,
  };
  const names = Object.keys(sides);
  const columns = (await conn.runAndReadAll(text)).columnCount;
  for (const n of names) if ((await sides[n]!()) !== 500000) throw new Error(`${n}: not 500,000 rows`);
  const t: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  for (let r = 0; r < RESULT_ROUNDS; r++) {
    for (const n of names.map((_, i) => names[(i + r) % names.length]!)) t[n]!.push(await time(sides[n]!));
  }
  conn.closeSync();
  await wmill.close();
  const ratio = (a: string, b: string) => median(t[a]!.map((x, i) => x / t[b]![i]!));
  out('### 2. Big results');
  out();
  out(`500,000 rows x ${columns} columns (TPC-DS store_sales, sf 0.2, an in-memory table of the same DuckDB), ${RESULT_ROUNDS} rounds rotating the order; ratio = median of the rounds' ratios:`);
  out();
  out('| DuckDB | median | `.fetch()` / this |');
  out('| --- | --- | --- |');
  out(`| millrace \`ducklake().fetch()\` | ${fmt(median(t.fetch!))} | |`);
  out(`| node-api \`getRows()\` (DuckDBValue arrays) | ${fmt(median(t.getRows!))} | **${ratio('fetch', 'getRows').toFixed(3)}** (target <= 1.3) |`);
  out(`| node-api \`getRowObjectsJS()\` (plain objects) | ${fmt(median(t.getRowObjectsJS!))} | ${ratio('fetch', 'getRowObjectsJS').toFixed(3)} |`);
  out();
  out(`Every round (ms): ${names.map((n) => `${n} ${t[n]!.map((x) => x.toFixed(0)).join(', ')}`).join('; ')}.`);
  out();
}

async function postgresResults(url: string): Promise<void> {
  const wmill = await import('../src/index.js');
  const { default: postgres } = await import('postgres');
  await wmill.configure({ datatables: { main: url } });
  const sql = wmill.datatable();
  const cols = [
    ...Array.from({ length: 10 }, (_, i) => `(g * ${i + 3}) % 100000 AS k${i}`),
    'g::bigint AS id',
    ...Array.from({ length: 12 }, (_, i) => `((g * ${i + 7}) % 100000 / 100.0)::numeric(7,2) AS n${i}`),
  ];
  await sql`DROP TABLE IF EXISTS big`.execute();
  await sql`CREATE TABLE big AS SELECT ${sql.raw(cols.join(', '))} FROM generate_series(1, 500000) g`.execute();
  const raw = postgres(url, { max: 10, onnotice: () => {} });
  const sides: Record<string, () => Promise<number>> = {
    datatable: async () => ((await sql`SELECT * FROM big`.fetch()) as unknown[]).length,
    'postgres.js': async () => (await raw.unsafe('SELECT * FROM big')).length,
  };
  const names = Object.keys(sides);
  for (const n of names) if ((await sides[n]!()) !== 500000) throw new Error(`${n}: not 500,000 rows`);
  const t: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  for (let r = 0; r < RESULT_ROUNDS * 2; r++) {
    for (const n of r % 2 ? [...names].reverse() : names) t[n]!.push(await time(sides[n]!));
  }
  await raw.end();
  await sql`DROP TABLE big`.execute();
  await wmill.close();
  out(`| PostgreSQL, 500,000 rows x 23 columns (int4, int8, numeric) | median | ratio |`);
  out('| --- | --- | --- |');
  out(`| millrace \`datatable().fetch()\` | ${fmt(median(t.datatable!))} | **${median(t.datatable!.map((x, i) => x / t['postgres.js']![i]!)).toFixed(3)}** (target <= 1.1) |`);
  out(`| raw postgres.js \`sql.unsafe()\` | ${fmt(median(t['postgres.js']!))} | |`);
  out();
  out(`Every round (ms): ${names.map((n) => `${n} ${t[n]!.map((x) => x.toFixed(0)).join(', ')}`).join('; ')}.`);
  out();
}

/**
 * Child mode: stream STREAM_ROWS rows, print {ms, rows, maxRssKiB}. The clock starts once each side is
 * connected (millrace: after a first statement, which attaches the lake), so setup is not throughput.
 */
async function streamChild(engine: string, side: string, url: string): Promise<void> {
  const rows = STREAM_ROWS;
  let n = 0;
  let sum = 0;
  let started = 0;
  if (engine === 'duckdb') {
    const text = `SELECT range AS id, range * 2 AS twice, 'row ' || range AS label FROM range(${rows})`;
    if (side === 'raw') {
      const api = await import('@duckdb/node-api');
      const instance = await api.DuckDBInstance.create(':memory:');
      const conn = await instance.connect();
      started = performance.now();
      const result = await conn.stream(text);
      for await (const batch of result.yieldRowObjectJs()) for (const row of batch) (n++, (sum += Number(row.twice)));
      conn.closeSync();
      instance.closeSync();
    } else {
      process.env.MILLRACE_HOME = mkdtempSync(join(tmpdir(), 'millrace-bench-stream-'));
      const wmill = await import('../src/index.js');
      await wmill.configure({ duckdb: { extensionDirectory } });
      const sql = wmill.ducklake();
      await sql`SELECT 1`.execute();
      started = performance.now();
      for await (const row of sql`SELECT range AS id, range * 2 AS twice, 'row ' || range AS label FROM range(${rows})`.stream()) (n++, (sum += Number(row.twice)));
      await wmill.close();
    }
  } else {
    const text = `SELECT g AS id, g * 2 AS twice, 'row ' || g AS label FROM generate_series(1, ${rows}) g`;
    if (side === 'raw') {
      const { default: postgres } = await import('postgres');
      const sql = postgres(url, { max: 1, onnotice: () => {} });
      await sql`SELECT 1`;
      started = performance.now();
      for await (const batch of sql.unsafe(text).cursor(1000)) for (const row of batch) (n++, (sum += Number(row.twice)));
      await sql.end();
    } else {
      const wmill = await import('../src/index.js');
      await wmill.configure({ datatables: { main: url } });
      const sql = wmill.datatable();
      await sql`SELECT 1`.execute();
      started = performance.now();
      for await (const row of sql`SELECT g AS id, g * 2 AS twice, 'row ' || g AS label FROM generate_series(1, ${rows}::int) g`.stream({ batchSize: 1000 })) (n++, (sum += Number(row.twice)));
      await wmill.close();
    }
  }
  const ms = performance.now() - started;
  process.stdout.write(JSON.stringify({ ms, rows: n, sum, maxRssKiB: peakRssKiB() }) + '\n');
}

function streamRun(engine: string, side: string, url: string): { ms: number; rows: number; maxRssKiB: number } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(here, 'scale.ts'), '--stream-child', engine, side, url], { encoding: 'utf8', env: process.env });
  if (r.status !== 0) throw new Error(`stream child ${engine} ${side} failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

async function stream(url: string): Promise<void> {
  out('### 3. Streaming rows');
  out();
  out(`${STREAM_ROWS.toLocaleString('en-US')} rows (3 columns: two integers and a short string), each run a fresh process (plain \`node\` with tsx, default heap flags; the clock starts once connected: millrace has run a first statement, which attaches the lake); ${STREAM_PAIRS} pairs alternating which side goes first; peak RSS is the process's VmHWM (its whole life, setup included):`);
  out();
  out('| engine | millrace `.stream()` (median) | raw streaming API (median) | ratio, median of pairs (target <= 1.2) | peak RSS millrace / raw (max over runs) |');
  out('| --- | --- | --- | --- | --- |');
  for (const [engine, rawName] of [['duckdb', 'node-api `stream()` + `yieldRowObjectJs()`'], ['postgres', 'postgres.js `.cursor(1000)`']] as const) {
    const t: Record<string, number[]> = { millrace: [], raw: [] };
    const rss: Record<string, number[]> = { millrace: [], raw: [] };
    for (let p = 0; p < STREAM_PAIRS; p++) {
      for (const side of p % 2 ? ['millrace', 'raw'] : ['raw', 'millrace']) {
        const r = streamRun(engine, side, url);
        if (r.rows !== STREAM_ROWS) throw new Error(`${engine} ${side}: ${r.rows} rows`);
        t[side]!.push(r.ms);
        rss[side]!.push(r.maxRssKiB / 1024);
        console.log(`  ${engine} ${side}: ${fmt(r.ms)}, peak RSS ${(r.maxRssKiB / 1024).toFixed(0)} MiB`);
      }
    }
    const ratio = median(t.millrace!.map((x, i) => x / t.raw![i]!));
    out(`| ${engine} | ${fmt(median(t.millrace!))} | ${fmt(median(t.raw!))} (${rawName}) | **${ratio.toFixed(3)}** | **${Math.max(...rss.millrace!).toFixed(0)} MiB** / ${Math.max(...rss.raw!).toFixed(0)} MiB (target < 200 MiB) |`);
  }
  out();
}

/** Child mode: the first statement on the embedded PostgreSQL in a fresh process, print {ms, maxRssKiB}. */
async function embeddedChild(): Promise<void> {
  const started = performance.now();
  const wmill = await import('../src/index.js');
  const v = await wmill.datatable()`SELECT ${1}::int + 1 AS v`.fetchOneScalar();
  const ms = performance.now() - started;
  process.stdout.write(JSON.stringify({ ms, v, maxRssKiB: peakRssKiB() }) + '\n');
  await wmill.close();
}

function embedded(): void {
  type Run = { ms: number; maxRssKiB: number };
  const run = (home: string, seed: boolean): Run => {
    // MILLRACE_PGLITE_SEED empty: no seed, PGlite's initdb makes the cluster (what every first start did before the seed).
    const env = { ...process.env, MILLRACE_HOME: home, MILLRACE_CONFIG: '', ...(seed ? {} : { MILLRACE_PGLITE_SEED: '' }) };
    if (seed) delete env.MILLRACE_PGLITE_SEED;
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(here, 'scale.ts'), '--embedded-child'], { encoding: 'utf8', env });
    if (r.status !== 0) throw new Error(`embedded child failed: ${r.stderr}`);
    return JSON.parse(r.stdout.trim().split('\n').pop()!) as Run;
  };
  const fresh = () => mkdtempSync(join(tmpdir(), 'millrace-bench-embedded-'));
  const seeded: Run[] = [];
  const initdb: Run[] = [];
  const reopen: Run[] = [];
  // Alternating, each in a fresh process: first creation from the seed, first creation by initdb, then reopening a seeded folder.
  for (let round = 0; round < 3; round++) {
    const home = fresh();
    if (round % 2 === 0) {
      seeded.push(run(home, true));
      initdb.push(run(fresh(), false));
    } else {
      initdb.push(run(fresh(), false));
      seeded.push(run(home, true));
    }
    reopen.push(run(home, true));
  }
  const mid = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const row = (what: string, rs: Run[]) =>
    out(`| ${what} | ${mid(rs.map((r) => r.ms)).toFixed(0)} ms (${rs.map((r) => r.ms.toFixed(0)).join(', ')}) | ${mid(rs.map((r) => r.maxRssKiB / 1024)).toFixed(0)} MiB (max ${Math.max(...rs.map((r) => r.maxRssKiB / 1024)).toFixed(0)}) |`);
  out('### Embedded PostgreSQL (PGlite) cold start');
  out();
  out('A fresh process (import, config, start, connect, first query) on the embedded default; median of 3 alternating rounds (each run listed), peak RSS of that process:');
  out();
  out('| | first statement | peak RSS |');
  out('| --- | --- | --- |');
  row('first start, from the seed (pglite-seed/, unpacked into MILLRACE_HOME)', seeded);
  row('first start, without the seed (PGlite initdb)', initdb);
  row('existing data dir (a seeded one, reopened)', reopen);
  out();
}

async function main(): Promise<void> {
  const want = process.argv.slice(2).filter((a) => !a.startsWith('--'));
  const all = want.length === 0;
  out(`## Scale (bench/scale.ts)`);
  out();
  out(`${new Date().toISOString().slice(0, 10)}, machine: ${cpus().length} cores (${cpus()[0]?.model.trim()}), shared with other work (1-minute load average at the start ${loadavg()[0]!.toFixed(1)}), Node ${process.version}, DuckDB 1.5.5 (@duckdb/node-api 1.5.5-r.5), postgres.js 3.4.9, PostgreSQL 15 on loopback. Times on a shared machine are noisy: read the ratios, measured in the same run, alternating sides.`);
  out();
  if (all || want.includes('concurrency')) await concurrency();
  let pg: Awaited<ReturnType<typeof startPostgres>> | undefined;
  try {
    if (all || want.includes('results') || want.includes('stream')) pg = await startPostgres();
    if (all || want.includes('results')) {
      await duckdbResults();
      await postgresResults(pg!.url);
    }
    if (all || want.includes('stream')) await stream(pg!.url);
    if (all || want.includes('embedded')) embedded();
  } finally {
    pg?.stop();
  }
  out(`(1-minute load average at the end: ${loadavg()[0]!.toFixed(1)})`);
  if (!process.argv.includes('--no-write')) {
    mkdirSync(join(here, 'results'), { recursive: true });
    writeFileSync(join(here, 'results', 'scale.md'), lines.join('\n') + '\n');
  }
  process.exit(0);
}

if (process.argv.includes('--embedded-child')) {
  await embeddedChild();
  process.exit(0);
} else if (process.argv.includes('--stream-child')) {
  const i = process.argv.indexOf('--stream-child');
  await streamChild(process.argv[i + 1]!, process.argv[i + 2]!, process.argv[i + 3] ?? '');
  process.exit(0);
} else {
  await main();
}
