/**
 * ducklake() against the raw @duckdb/node-api on the same attached lake, measured in the same run.
 *
 *   npx tsx bench/ducklake.ts
 *
 * 1. 2,000 point queries (by primary key on a 10,000-row lake table): millrace's tagged template
 *    (compile, bind with explicit types, plain rows) vs node-api's prepare/bind/run/getRowObjectsJS
 *    on a connection of the same instance. Alternated query by query so load bursts hit both alike.
 * 2. Cold start per catalog: a fresh process's first statement, instance + extension load + ATTACH included.
 * Writes bench/results/ducklake.md.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const here = import.meta.dirname;
const extensionDirectory = process.env.MILLRACE_BENCH_EXTENSION_DIR ?? resolve(here, '..', '.millrace', 'duckdb-extensions');

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** Child mode: one cold start on the catalog named in argv, prints {ms}. */
async function coldChild(config: string): Promise<void> {
  const started = performance.now();
  const wmill = await import('../src/index.js');
  await wmill.configure(JSON.parse(config));
  const n = await wmill.ducklake('bench')`SELECT count(*) FROM t`.fetchOneScalar();
  const ms = performance.now() - started;
  process.stdout.write(JSON.stringify({ ms, n }) + '\n');
  await wmill.close();
}

async function pointQueries(): Promise<{ ours: number; raw: number; ratio: number; queries: number }> {
  process.env.MILLRACE_HOME = mkdtempSync(join(tmpdir(), 'millrace-bench-dl-'));
  const wmill = await import('../src/index.js');
  const { getDuckDB } = await import('../src/sql/duckdb/instance.js');
  await wmill.configure({ duckdb: { extensionDirectory } });
  const sql = wmill.ducklake();
  await sql`CREATE TABLE t AS SELECT range AS id, 'name ' || range AS name, range * 1.5 AS score FROM range(10000)`.execute();

  // The raw side: node-api on a connection of the same instance, the same lake in use.
  const db = await getDuckDB();
  const conn = await db.instance.connect();
  await conn.run('USE lake_main');
  const rawQuery = async (id: number) => {
    const p = await conn.prepare('SELECT * FROM t WHERE id = $1');
    p.bindBigInt(1, BigInt(id));
    const rows = (await p.runAndReadAll()).getRowObjectsJS();
    p.destroySync();
    return rows[0];
  };
  const ourQuery = (id: number) => sql`SELECT * FROM t WHERE id = ${id}`.fetchOne();

  // Same answers, then warm up both paths.
  const a = await ourQuery(7);
  const b = await rawQuery(7);
  if (a?.name !== b?.name) throw new Error('the two paths disagree');
  for (let i = 0; i < 200; i++) {
    await ourQuery(i);
    await rawQuery(i);
  }

  // Query by query, alternating which side goes first: on a shared 2-core machine load comes in
  // bursts, and this way each burst hits both sides alike.
  const total = 2000;
  let ours = 0;
  let raw = 0;
  for (let q = 0; q < total; q++) {
    const id = (q * 7919) % 10000;
    for (const side of q % 2 === 0 ? ['ours', 'raw'] : ['raw', 'ours']) {
      const t0 = performance.now();
      if (side === 'ours') await ourQuery(id);
      else await rawQuery(id);
      const dt = performance.now() - t0;
      if (side === 'ours') ours += dt;
      else raw += dt;
    }
  }
  conn.closeSync();
  await wmill.close();
  return { ours, raw, ratio: ours / raw, queries: total };
}

async function coldStarts(): Promise<{ catalog: string; ms: number; runs: number[] }[]> {
  const home = mkdtempSync(join(tmpdir(), 'millrace-bench-cold-'));
  const catalogs: Record<string, unknown> = {
    duckdb: { type: 'duckdb', path: join(home, 'cat.ducklake') },
    sqlite: { type: 'sqlite', path: join(home, 'cat.sqlite') },
  };
  let stopPg: (() => unknown) | undefined;
  try {
    // A throwaway PostgreSQL, the same way the tests start one (or MILLRACE_TEST_PG_URL).
    const { default: startPg } = await import('../test/setup/postgres.js');
    let url = '';
    stopPg = (await startPg({ provide: (_k: string, v: string) => (url = v) } as never)) as (() => unknown) | undefined;
    catalogs.postgresql = { type: 'postgresql', url };
  } catch (e) {
    console.log(`(no PostgreSQL for the cold-start bench: ${(e as Error).message.split('\n')[0]})`);
  }
  const out: { catalog: string; ms: number; runs: number[] }[] = [];
  try {
    for (const [name, catalog] of Object.entries(catalogs)) {
      const config = JSON.stringify({
        storage: { type: 'fs', root: join(home, 'storage') },
        ducklakes: { bench: { catalog, prefix: `lake-${name}/` } },
        duckdb: { extensionDirectory },
      });
      // Set the lake up once so every measured run attaches an existing lake with a table.
      const setup = `const w = await import(${JSON.stringify(pathToFileURL(resolve(here, '../src/index.js')).href)});
        await w.configure(${config}); await w.ducklake('bench')\`CREATE TABLE IF NOT EXISTS t AS SELECT 1 AS x\`.execute(); await w.close();`;
      const s = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', setup], { encoding: 'utf8', env: { ...process.env, MILLRACE_HOME: home } });
      if (s.status !== 0) throw new Error(`setup of ${name} failed: ${s.stderr}`);
      const runs: number[] = [];
      for (let i = 0; i < 3; i++) {
        const r = spawnSync(process.execPath, ['--import', 'tsx', join(here, 'ducklake.ts'), '--cold', config], { encoding: 'utf8', env: { ...process.env, MILLRACE_HOME: home } });
        if (r.status !== 0) throw new Error(`cold start on ${name} failed: ${r.stderr}`);
        runs.push(JSON.parse(r.stdout.trim().split('\n').pop()!).ms);
      }
      out.push({ catalog: name, ms: median(runs), runs });
    }
  } finally {
    await stopPg?.();
  }
  return out;
}

async function main(): Promise<void> {
  const point = await pointQueries();
  const line1 = `point queries: ${point.queries} through ducklake() ${point.ours.toFixed(0)} ms (${((point.ours * 1000) / point.queries).toFixed(1)} us/query), raw node-api ${point.raw.toFixed(0)} ms (${((point.raw * 1000) / point.queries).toFixed(1)} us/query): ratio ${point.ratio.toFixed(3)} (target <= 1.15)`;
  console.log(line1);
  const cold = await coldStarts();
  for (const c of cold) console.log(`cold start (${c.catalog} catalog): first statement ${c.ms.toFixed(0)} ms (median of ${c.runs.map((r) => r.toFixed(0)).join(', ')})`);

  const md = `## ducklake

Measured ${new Date().toISOString().slice(0, 10)} by \`npx tsx bench/ducklake.ts\` on the development machine (2 cores, ${cpus()[0]?.model ?? 'unknown CPU'}, shared with other work: 1-minute load average ${loadavg()[0]!.toFixed(1)} at the end of the run, so absolute times are inflated; the ratio is what to read), DuckDB v1.5.5 through @duckdb/node-api 1.5.5-r.5.

**Point queries.** ${point.queries} queries \`SELECT * FROM t WHERE id = \${id}\` on a 10,000-row DuckLake table (DuckDB-file catalog, data in the fs storage), through \`ducklake()\` (\`fetchOne()\`: compile, bind with explicit types, plain rows) against raw node-api (\`prepare\`, \`bindBigInt\`, \`runAndReadAll\`, \`getRowObjectsJS\`) on a connection of the same instance with the same lake attached; alternating query by query (which side goes first flips each time) after a warm-up of 200 each.

| path | total | per query |
| --- | ---: | ---: |
| ducklake() | ${point.ours.toFixed(0)} ms | ${((point.ours * 1000) / point.queries).toFixed(1)} us |
| raw node-api | ${point.raw.toFixed(0)} ms | ${((point.raw * 1000) / point.queries).toFixed(1)} us |
| **ratio** | **${point.ratio.toFixed(3)}** (target <= 1.15) | |

**Cold start.** A fresh Node process: import millrace, configure, first statement (\`SELECT count(*)\` on an existing lake table), which includes creating the DuckDB instance, loading the extensions from the local extension directory, creating secrets and ATTACH. Median of 3 runs.

| catalog | first statement | runs |
| --- | ---: | --- |
${cold.map((c) => `| ${c.catalog} | ${c.ms.toFixed(0)} ms | ${c.runs.map((r) => r.toFixed(0)).join(', ')} |`).join('\n')}
`;
  mkdirSync(join(here, 'results'), { recursive: true });
  writeFileSync(join(here, 'results', 'ducklake.md'), md);
  console.log('wrote bench/results/ducklake.md');
}

if (process.argv[2] === '--cold') await coldChild(process.argv[3]!);
else await main();
