#!/usr/bin/env node
/**
 * Makes the embedded PostgreSQL's seed: one freshly initialised PGlite cluster, dumped as a gzip tarball
 * to pglite-seed/pglite-<version>.tar.gz, which millrace unpacks on a data folder's first creation
 * instead of running initdb (src/sql/postgres/pglite-seed.ts). Run by `npm run build`, `prepare` and
 * `pretest`; does nothing when the seed for the installed PGlite is already there. A seed it cannot make
 * (too little memory, say) is a warning, never a failed build or install: without one millrace runs
 * initdb on a data folder's first creation instead.
 *   node scripts/pglite-seed.mjs [--quiet] [--force]
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const quiet = process.argv.includes('--quiet');
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const folder = join(root, 'pglite-seed');

function pgliteVersion() {
  let dir = dirname(createRequire(join(root, 'x.js')).resolve('@electric-sql/pglite'));
  for (let i = 0; i < 4; i++, dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (!existsSync(file)) continue;
    const pkg = JSON.parse(readFileSync(file, 'utf8'));
    if (pkg.name === '@electric-sql/pglite') return pkg.version;
  }
  throw new Error('cannot find the installed @electric-sql/pglite version');
}

// The seed is made in a child process: one that runs out of memory dies without a catchable error.
if (process.argv.includes('--worker')) {
  try {
    await makeSeed();
    process.exit(0);
  } catch (e) {
    process.stderr.write(`${String(e instanceof Error ? e.message : e).split('\n')[0]}\n`);
    process.exit(1);
  }
}
const worker = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--worker', ...process.argv.slice(2)], { stdio: ['ignore', 'inherit', 'pipe'] });
if (worker.status !== 0) {
  const why = worker.error?.message ?? (String(worker.stderr ?? '').trim().split('\n').pop() || `exit ${worker.status ?? worker.signal}`);
  console.warn(`warning: no PGlite seed made (${why}); an embedded datatable's first creation runs initdb instead`);
}
process.exit(0);

async function makeSeed() {
  const name = `pglite-${pgliteVersion()}.tar.gz`;
  const target = join(folder, name);
  if (existsSync(target) && !process.argv.includes('--force')) {
    if (!quiet) console.log(`pglite-seed/${name} is up to date`);
    return;
  }

  const started = performance.now();
  const { PGlite } = await import('@electric-sql/pglite');
  const dataDir = mkdtempSync(join(tmpdir(), 'millrace-pglite-seed-'));
  try {
    const db = await PGlite.create(dataDir);
    // Written to the data files now, so the seed opens without replaying WAL.
    await db.exec('CHECKPOINT');
    const dump = await db.dumpDataDir('gzip');
    await db.close();
    mkdirSync(folder, { recursive: true });
    for (const old of readdirSync(folder)) if (/^pglite-.*\.tar\.gz$/.test(old) && old !== name) rmSync(join(folder, old));
    const partial = `${target}.${process.pid}.tmp`;
    try {
      writeFileSync(partial, Buffer.from(await dump.arrayBuffer()));
      renameSync(partial, target);
    } finally {
      rmSync(partial, { force: true });
    }
    if (!quiet) console.log(`pglite-seed/${name}: ${(dump.size / 2 ** 20).toFixed(1)} MiB in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}
