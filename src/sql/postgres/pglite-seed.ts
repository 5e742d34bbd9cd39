/**
 * The embedded PostgreSQL's first creation from a seed. PGlite's initdb runs PostgreSQL's bootstrap in
 * WebAssembly (seconds, ~600 MiB), so the build makes one cluster once (scripts/pglite-seed.mjs) and
 * ships it as a gzip tarball named for the PGlite version that made it. A new, empty data folder is that
 * tarball unpacked with node:fs, which PGlite then opens like any existing folder: the same path, and
 * the same time, as every later open. A seed that is missing (a bundle that left it out), made by
 * another PGlite version or unreadable is skipped, and PGlite runs initdb as without it.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';

/** Where the build writes the seed, beside dist/ (and src/) in the package. */
const SEED_FOLDER = 'pglite-seed';

/** The seed for the installed PGlite, if one is there: `$MILLRACE_PGLITE_SEED` (a folder) or the package's pglite-seed/. */
export function seedFile(): string | undefined {
  const version = pgliteVersion();
  if (!version) return undefined;
  const name = `pglite-${version}.tar.gz`;
  const env = process.env.MILLRACE_PGLITE_SEED;
  const folders = env !== undefined ? (env ? [resolve(env)] : []) : packageFolders().map((d) => join(d, SEED_FOLDER));
  return folders.map((f) => join(f, name)).find((f) => existsSync(f));
}

/**
 * Unpacks the seed into `dataDir` when the folder is empty (the very first creation); true when it did.
 * Anything unreadable leaves the folder empty again and answers false.
 */
export function plantSeed(dataDir: string): boolean {
  if (readdirSync(dataDir).length > 0) return false;
  const seed = seedFile();
  if (!seed) return false;
  try {
    untar(gunzipSync(readFileSync(seed)), dataDir);
    if (!existsSync(join(dataDir, 'PG_VERSION'))) throw new Error('no PG_VERSION in the seed');
    return true;
  } catch {
    emptyFolder(dataDir);
    return false;
  }
}

/** Removes what a seed put in `dataDir` (it was empty before). */
export function emptyFolder(dataDir: string): void {
  for (const name of readdirSync(dataDir)) rmSync(join(dataDir, name), { recursive: true, force: true });
}

/** The ustar archive PGlite's dumpDataDir writes: regular files and folders, names relative to the data folder. */
function untar(tar: Buffer, dataDir: string): void {
  const root = resolve(dataDir);
  for (let at = 0; at + 512 <= tar.length; ) {
    const header = tar.subarray(at, at + 512);
    if (header.every((b) => b === 0)) return;
    const field = (from: number, to: number) => header.toString('latin1', from, to).replace(/\0.*$/s, '');
    const size = parseInt(field(124, 136).trim() || '0', 8);
    const mtime = parseInt(field(136, 148).trim() || '0', 8);
    const prefix = header.toString('latin1', 257, 263).startsWith('ustar') ? field(345, 500) : '';
    const name = (prefix ? `${prefix}/` : '') + field(0, 100);
    const type = String.fromCharCode(header[156]!);
    const path = resolve(root, `.${sep}${name.replace(/^\/+/, '')}`);
    if (Number.isNaN(size) || at + 512 + size > tar.length) throw new Error('truncated seed');
    if (path !== root && !path.startsWith(root + sep)) throw new Error(`seed entry outside the data folder: ${name}`);
    if (type === '5') mkdirSync(path, { recursive: true });
    else if (type === '0' || type === '\0') {
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, tar.subarray(at + 512, at + 512 + size));
      if (mtime > 0) utimesSync(path, mtime, mtime);
    }
    at += 512 + Math.ceil(size / 512) * 512;
  }
  throw new Error('truncated seed');
}

/** This module's folder and its parents up to the package root (src/sql/postgres, or dist/ once built). */
function packageFolders(): string[] {
  const here = moduleDir();
  if (!here) return [];
  const folders = [here];
  for (let i = 0; i < 3; i++) folders.push(dirname(folders[folders.length - 1]!));
  return folders;
}

function moduleDir(): string | undefined {
  // CommonJS build: __dirname; ESM (and tsx on src/): import.meta.url. A bundle may have neither.
  if (typeof __dirname === 'string') return __dirname;
  try {
    return dirname(fileURLToPath(import.meta.url));
  } catch {
    return undefined;
  }
}

let version: string | null | undefined;

/** The installed PGlite's version, read from its package.json next to the module Node resolves. */
function pgliteVersion(): string | undefined {
  if (version === undefined) {
    version = null;
    try {
      const base = moduleDir() ?? process.cwd();
      let dir = dirname(createRequire(join(base, 'x.js')).resolve('@electric-sql/pglite'));
      for (let i = 0; i < 4 && version === null; i++, dir = dirname(dir)) {
        const file = join(dir, 'package.json');
        if (!existsSync(file)) continue;
        const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
        if (pkg.name === '@electric-sql/pglite' && pkg.version) version = pkg.version;
      }
    } catch {
      // Not resolvable from here (bundled): no seed.
    }
  }
  return version ?? undefined;
}
