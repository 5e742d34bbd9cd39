/**
 * The embedded PostgreSQL's first creation from a seed. PGlite's initdb runs PostgreSQL's bootstrap in
 * WebAssembly (seconds, ~600 MiB), so the build makes one cluster once (scripts/pglite-seed.mjs) and
 * ships it as a gzip tarball named for the PGlite version that made it. A new, empty data folder is that
 * tarball unpacked with node:fs, which PGlite then opens like any existing folder: the same path, and
 * the same time, as every later open. A seed that is missing (a bundle that left it out), made by
 * another PGlite version or unreadable is skipped, and PGlite runs initdb as without it.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { isAlive } from '../../pid.js';

/** Where the build writes the seed, beside dist/ (and src/) in the package. */
const SEED_FOLDER = 'pglite-seed';

/** The seed for the installed PGlite, if one is there: `$MILLRACE_PGLITE_SEED` (a folder) or the millrace package's pglite-seed/. */
export function seedFile(): string | undefined {
  const version = pgliteVersion();
  if (!version) return undefined;
  const name = `pglite-${version}.tar.gz`;
  const env = process.env.MILLRACE_PGLITE_SEED;
  const pkg = env === undefined ? packageFolder() : undefined;
  const folder = env !== undefined ? env && resolve(env) : pkg && join(pkg, SEED_FOLDER);
  const file = folder && join(folder, name);
  return file && existsSync(file) ? file : undefined;
}

/**
 * Unpacks the seed as `dataDir` when that folder is missing or empty (the very first creation); true when
 * it did. The seed is unpacked into a sibling folder and renamed into place, so a process killed while
 * unpacking leaves only that sibling (swept by the next run), never a half-made data folder.
 * Anything unreadable, or another process that planted first, leaves `dataDir` as it was and answers false.
 */
export function plantSeed(dataDir: string): boolean {
  const target = resolve(dataDir);
  sweepStaleSeeds(target);
  if (existsSync(target) && readdirSync(target).length > 0) return false;
  const seed = seedFile();
  if (!seed) return false;
  const temp = `${target}.seed-${process.pid}-${randomBytes(6).toString('hex')}`;
  try {
    mkdirSync(temp, { mode: 0o700 });
    untar(gunzipSync(readFileSync(seed)), temp);
    if (!existsSync(join(temp, 'PG_VERSION'))) throw new Error('no PG_VERSION in the seed');
    // rename() takes the place of a missing folder only: an empty one goes first. A folder another
    // process filled meanwhile stays as it is, and ours is dropped.
    try {
      rmdirSync(target);
    } catch {
      // Missing, or no longer empty: the rename tells.
    }
    renameSync(temp, target);
    return true;
  } catch {
    rmSync(temp, { recursive: true, force: true });
    return false;
  }
}

/** Removes the `<dataDir>.seed-<pid>-*` folders left by processes that died while unpacking. */
function sweepStaleSeeds(target: string): void {
  const prefix = `${basename(target)}.seed-`;
  let names: string[];
  try {
    names = readdirSync(dirname(target));
  } catch {
    return;
  }
  for (const name of names) {
    const pid = name.startsWith(prefix) ? /^(\d+)-/.exec(name.slice(prefix.length))?.[1] : undefined;
    if (pid && !isAlive(Number(pid))) rmSync(join(dirname(target), name), { recursive: true, force: true });
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
    // As initdb makes them: the owner's alone.
    if (type === '5') mkdirSync(path, { recursive: true, mode: 0o700 });
    else if (type === '0' || type === '\0') {
      mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
      writeFileSync(path, tar.subarray(at + 512, at + 512 + size), { mode: 0o600 });
      if (mtime > 0) utimesSync(path, mtime, mtime);
    }
    at += 512 + Math.ceil(size / 512) * 512;
  }
  throw new Error('truncated seed');
}

/**
 * The millrace package's own folder: the first folder above this module (src/sql/postgres, or dist/ once
 * built) holding a package.json, when that package is millrace. Nothing above it is searched: installed,
 * that is node_modules and the user's project; bundled, possibly a world-writable /tmp.
 */
function packageFolder(): string | undefined {
  for (let dir = moduleDir(); dir; dir = dirname(dir) === dir ? undefined : dirname(dir)) {
    const file = join(dir, 'package.json');
    if (!existsSync(file)) continue;
    try {
      return (JSON.parse(readFileSync(file, 'utf8')) as { name?: unknown }).name === 'millrace' ? dir : undefined;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

function moduleDir(): string | undefined {
  // ESM, tsx on src/ and the CommonJS build (tsup's shim): import.meta.url; a CommonJS bundle: __dirname.
  // In that order: `node -e` and the REPL define a global __dirname, the current folder, not this module's.
  try {
    return dirname(fileURLToPath(import.meta.url));
  } catch {
    return typeof __dirname === 'string' ? __dirname : undefined;
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
