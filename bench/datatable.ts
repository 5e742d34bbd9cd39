/**
 * datatable() against the raw `postgres` (postgres.js) on the same PostgreSQL, in the same run.
 *
 *   npx tsx bench/datatable.ts              # 10,000 selects per side; writes bench/results/datatable.md
 *   BENCH_QUICK=1 npx tsx bench/datatable.ts
 *
 * 1. Parameterized point selects (by primary key on a 10,000-row table), sequential, awaited one by
 *    one: millrace's tagged template (compile, split, typed binds, plain rows) vs postgres.js's own
 *    tagged template on a pool of the same size. Interleaved in rounds so drift hits both alike.
 * 2. Cold first query: a fresh process's first statement, pool creation and connect included;
 *    the same for the embedded PGlite default (its first start creates the cluster).
 * Uses MILLRACE_TEST_PG_URL when set, otherwise starts a throwaway PostgreSQL like the test setup.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const here = import.meta.dirname;
const quick = process.env.BENCH_QUICK === '1';
const QUERIES = quick ? 1000 : 10_000;
const ROUNDS = quick ? 20 : 200;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function startPostgres(): Promise<{ url: string; stop: () => Promise<void> }> {
  if (process.env.MILLRACE_TEST_PG_URL) return { url: process.env.MILLRACE_TEST_PG_URL, stop: async () => {} };
  const { default: setup } = await import('../test/setup/postgres.js');
  let url = '';
  const teardown = await setup({ provide: (_key: string, value: string) => (url = value) } as never);
  return { url, stop: async () => teardown?.() };
}

/** Child mode: one cold first query in a fresh process, prints {ms}. */
async function coldChild(url: string | undefined): Promise<void> {
  const started = performance.now();
  const { configure } = await import('../src/config.js');
  const { datatable } = await import('../src/sql/datatable.js');
  const { close } = await import('../src/lifecycle.js');
  await configure(url ? { datatables: { main: url } } : undefined);
  const v = await datatable()`SELECT ${1} + 1 AS v`.fetchOneScalar();
  const ms = performance.now() - started;
  process.stdout.write(JSON.stringify({ ms, v }) + '\n');
  await close();
}

function cold(url: string | undefined, home: string): number {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(here, 'datatable.ts'), '--cold', url ?? ''], {
    encoding: 'utf8',
    env: { ...process.env, MILLRACE_HOME: home },
  });
  if (r.status !== 0) throw new Error(`cold child failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!).ms;
}

async function pointQueries(url: string) {
  process.env.MILLRACE_HOME = mkdtempSync(join(tmpdir(), 'millrace-bench-dt-'));
  const { default: postgres } = await import('postgres');
  const { configure } = await import('../src/config.js');
  const { datatable } = await import('../src/sql/datatable.js');
  const { close } = await import('../src/lifecycle.js');
  await configure({ datatables: { main: url } });
  const sql = datatable();
  await sql`DROP TABLE IF EXISTS bench_friend; CREATE TABLE bench_friend (id int PRIMARY KEY, name text, score float8);
    INSERT INTO bench_friend SELECT i, 'name ' || i, i * 1.5 FROM generate_series(0, 9999) i`.execute();
  const raw = postgres(url, { max: 10, onnotice: () => {} });

  const ours = async (id: number) => sql`SELECT * FROM bench_friend WHERE id = ${id}`.fetchOne();
  const theirs = async (id: number) => (await raw`SELECT * FROM bench_friend WHERE id = ${id}`)[0];
  // Same answers, then warm both (prepared statements, connections, JIT).
  if (JSON.stringify(await ours(42)) !== JSON.stringify(await theirs(42))) throw new Error('different rows');
  for (let i = 0; i < 3000; i++) {
    await ours(i);
    await theirs(i);
  }
  const per = QUERIES / ROUNDS;
  const times = { ours: [] as number[], raw: [] as number[] };
  const cpu = { ours: 0, raw: 0 };
  for (let r = 0; r < ROUNDS; r++) {
    const order = r % 2 ? (['raw', 'ours'] as const) : (['ours', 'raw'] as const);
    for (const who of order) {
      const f = who === 'ours' ? ours : theirs;
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      for (let i = 0; i < per; i++) await f(((r * per + i) * 7919) % 10000);
      times[who].push(performance.now() - t0);
      const c = process.cpuUsage(c0);
      cpu[who] += c.user + c.system;
    }
  }
  await raw.end();
  await sql`DROP TABLE bench_friend`.execute();
  await close();
  const oursMs = times.ours.reduce((a, b) => a + b, 0);
  const rawMs = times.raw.reduce((a, b) => a + b, 0);
  return { oursMs, rawMs, ratio: oursMs / rawMs, medianRatio: median(times.ours.map((t, i) => t / times.raw[i]!)), cpuOurs: cpu.ours / QUERIES, cpuRaw: cpu.raw / QUERIES };
}

async function mainBench(): Promise<void> {
  const pg = await startPostgres();
  try {
    const q = await pointQueries(pg.url);
    const coldServer = median([0, 1, 2].map(() => cold(pg.url, mkdtempSync(join(tmpdir(), 'millrace-bench-cold-')))));
    const embeddedHome = mkdtempSync(join(tmpdir(), 'millrace-bench-emb-'));
    const coldEmbeddedFirst = cold(undefined, embeddedHome);
    const coldEmbedded = median([0, 1, 2].map(() => cold(undefined, embeddedHome)));
    const lines = [
      `# datatable() benchmark`,
      ``,
      `Date: ${new Date().toISOString().slice(0, 10)}. Machine: ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'}), Node ${process.version}, PostgreSQL on loopback.`,
      `Command: \`npx tsx bench/datatable.ts\`${quick ? ' (BENCH_QUICK=1)' : ''}.`,
      ``,
      `| What | millrace | raw postgres.js | ratio (target <= 1.10) |`,
      `| --- | --- | --- | --- |`,
      `| ${QUERIES.toLocaleString('en')} parameterized point selects, sequential | ${q.oursMs.toFixed(0)} ms (${((q.oursMs * 1000) / QUERIES).toFixed(1)} µs/query) | ${q.rawMs.toFixed(0)} ms (${((q.rawMs * 1000) / QUERIES).toFixed(1)} µs/query) | **${q.ratio.toFixed(3)}** (median of ${ROUNDS} rounds: ${q.medianRatio.toFixed(3)}) |`,
      `| client CPU per query (user + system) | ${q.cpuOurs.toFixed(1)} µs | ${q.cpuRaw.toFixed(1)} µs | ${(q.cpuOurs / q.cpuRaw).toFixed(3)} |`,
      ``,
      `Load average while measuring: ${loadavg().map((x) => x.toFixed(1)).join(', ')} (the machine is shared; wall-clock ratios are noisy under load).`,
      ``,
      `| Cold first query (fresh process: import, config, pool, connect, query) | ms |`,
      `| --- | --- |`,
      `| PostgreSQL server (median of 3) | ${coldServer.toFixed(0)} |`,
      `| Embedded PGlite, first start (creates the cluster) | ${coldEmbeddedFirst.toFixed(0)} |`,
      `| Embedded PGlite, existing data dir (median of 3) | ${coldEmbedded.toFixed(0)} |`,
      ``,
      `Both sides use a pool of 10 connections and prepared statements; rounds alternate who goes first.`,
      `millrace's extra work per query: compile the template, split statements, bind typed parameters, copy rows into a plain array.`,
    ];
    const text = lines.join('\n') + '\n';
    process.stdout.write(text);
    mkdirSync(resolve(here, 'results'), { recursive: true });
    writeFileSync(resolve(here, 'results', 'datatable.md'), text);
  } finally {
    await pg.stop();
  }
}

if (process.argv[2] === '--cold') await coldChild(process.argv[3] || undefined);
else await mainBench();
