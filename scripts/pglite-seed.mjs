#!/usr/bin/env node
/**
 * Makes the embedded PostgreSQL's seed: one freshly initialised PGlite cluster, dumped as a gzip tarball
 * to pglite-seed/pglite-<version>.tar.gz, which millrace unpacks on a data folder's first creation
 * instead of running initdb (src/sql/postgres/pglite-seed.ts). Run by `npm run build`, `prepare` and
 * `pretest`; does nothing when the seed for the installed PGlite is already there.
 *   node scripts/pglite-seed.mjs [--quiet] [--force]
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
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

const name = `pglite-${pgliteVersion()}.tar.gz`;
const target = join(folder, name);
if (existsSync(target) && !process.argv.includes('--force')) {
  if (!quiet) console.log(`pglite-seed/${name} is up to date`);
  process.exit(0);
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
  writeFileSync(partial, Buffer.from(await dump.arrayBuffer()));
  renameSync(partial, target);
  if (!quiet) console.log(`pglite-seed/${name}: ${(dump.size / 2 ** 20).toFixed(1)} MiB in ${((performance.now() - started) / 1000).toFixed(1)} s`);
} finally {
  rmSync(dataDir, { recursive: true, force: true });
}
process.exit(0);
