#!/usr/bin/env node
/**
 * Provisions the DuckDB extensions millrace's ducklake() needs into a local folder, with Node
 * alone and no network but PyPI: DuckDB publishes its signed extension binaries as wheels
 * (`duckdb-extension-<name>`). We read the wheel's URL and sha256 from PyPI's JSON API, download
 * it, check the hash, and unzip the one `.duckdb_extension` file into the layout DuckDB reads
 * (`<dir>/<version>/<platform>/<name>.duckdb_extension`). No Python, no pip.
 *
 *   npx millrace-duckdb-extensions                        # into $MILLRACE_HOME/duckdb-extensions (./.millrace/...)
 *   npx millrace-duckdb-extensions --dir /opt/duckdb-ext --only ducklake,httpfs
 *   npx millrace-duckdb-extensions --platform linux_arm64  # for another machine (e.g. Lambda on Graviton)
 *   npx millrace-duckdb-extensions --only tpcds            # an extension beyond the default set
 *
 * millrace uses `<MILLRACE_HOME>/duckdb-extensions` with no config; for any other folder set
 * `configure({ duckdb: { extensionDirectory: '/opt/duckdb-ext' } })`.
 * Idempotent: extensions already present are skipped (use --force to re-download). With
 * `--cache DIR` (or MILLRACE_WHEEL_CACHE) downloaded wheels are kept there and reused once their
 * sha256 matches PyPI's.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inflateRawSync } from 'node:zlib';

/** Wheel name on PyPI -> the file name DuckDB looks for (its canonical extension name). */
export const EXTENSIONS = {
  ducklake: 'ducklake',
  httpfs: 'httpfs',
  postgres: 'postgres_scanner',
  sqlite: 'sqlite_scanner',
  azure: 'azure',
  // S3 storages configured without keys: the secret's PROVIDER credential_chain lives in `aws`.
  aws: 'aws',
  // Not used by millrace itself; the benchmarks generate TPC-DS data with it (`--only tpcds`).
  tpcds: 'tpcds',
};

/** What a run with no `--only` provisions: everything ducklake() may load. */
export const DEFAULT_EXTENSIONS = ['ducklake', 'httpfs', 'postgres', 'sqlite', 'azure', 'aws'];

/** DuckDB platform -> the end of the wheel file names DuckDB publishes for it. */
const WHEEL_PLATFORMS = {
  linux_amd64: /-manylinux[^-]*_x86_64\.whl$/,
  linux_arm64: /-manylinux[^-]*_aarch64\.whl$/,
  osx_arm64: /-macosx_[^-]*_arm64\.whl$/,
  osx_amd64: /-macosx_[^-]*_x86_64\.whl$/,
  windows_amd64: /-win_amd64\.whl$/,
};

const USAGE = 'usage: millrace-duckdb-extensions [--dir DIR] [--only a,b] [--platform linux_amd64] [--cache DIR] [--force] [--quiet]\n' +
  `  extensions: ${Object.keys(EXTENSIONS).join(', ')} (default: ${DEFAULT_EXTENSIONS.join(', ')})\n` +
  `  platforms: ${Object.keys(WHEEL_PLATFORMS).join(', ')} (default: this machine's)`;

/** `postgres` or DuckDB's own `postgres_scanner` (the name in an ExtensionMissing error) -> `postgres`. */
function wheelName(name) {
  const known = Object.keys(EXTENSIONS).find((k) => k === name || EXTENSIONS[k] === name);
  if (!known) throw new Error(`unknown extension ${name}; known: ${Object.keys(EXTENSIONS).join(', ')}`);
  return known;
}

/** Where millrace looks with no config: the millrace home's `duckdb-extensions` folder. */
export function defaultDir() {
  return join(resolve(process.env.MILLRACE_HOME || '.millrace'), 'duckdb-extensions');
}

function parseArgs(argv) {
  const args = { dir: defaultDir(), only: undefined, platform: undefined, cache: process.env.MILLRACE_WHEEL_CACHE || undefined, force: false, quiet: false, help: false };
  const value = (i) => {
    if (argv[i + 1] === undefined || argv[i + 1].startsWith('--')) throw new Error(`${argv[i]} needs a value\n${USAGE}`);
    return argv[i + 1];
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--dir') args.dir = value(i++);
    else if (a === '--only') args.only = value(i++).split(',').map((s) => s.trim()).filter(Boolean);
    else if (a === '--platform') args.platform = value(i++);
    else if (a === '--cache') args.cache = value(i++);
    else if (a === '--force') args.force = true;
    else if (a === '--quiet') args.quiet = true;
    else if (a === '--help' || a === '-h') args.help = true;
    else throw new Error(`unknown argument ${a}\n${USAGE}`);
  }
  return args;
}

/** The version and platform of the DuckDB that @duckdb/node-api bundles: the folder names DuckDB reads. */
async function duckdbTarget() {
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  const row = (await c.runAndReadAll('SELECT version() AS v, (SELECT platform FROM pragma_platform()) AS p')).getRowObjects()[0];
  c.closeSync();
  db.closeSync();
  return { version: String(row.v), platform: String(row.p) };
}

async function get(url, what) {
  let response;
  try {
    response = await fetch(url, { headers: { 'user-agent': 'millrace-duckdb-extensions' } });
  } catch (e) {
    throw new Error(`cannot reach PyPI for ${what} (${url}): ${e.cause?.message ?? e.message}`);
  }
  if (!response.ok) throw new Error(`PyPI answered ${response.status} for ${what} (${url})`);
  return response;
}

/** The wheel of `duckdb-extension-<name>==<version>` for `platform`: its file name, URL and sha256. */
async function findWheel(name, version, platform) {
  const pattern = WHEEL_PLATFORMS[platform];
  if (!pattern) throw new Error(`no known wheel platform for DuckDB platform ${platform}; known: ${Object.keys(WHEEL_PLATFORMS).join(', ')}`);
  const project = `duckdb-extension-${name}`;
  const { releases } = await (await get(`https://pypi.org/pypi/${project}/json`, project)).json();
  const files = releases[version];
  if (!files?.length) throw new Error(`${project} has no release ${version} on PyPI (it has ${Object.keys(releases).slice(-5).join(', ')})`);
  const wheel = files.find((u) => u.packagetype === 'bdist_wheel' && !u.yanked && pattern.test(u.filename));
  if (!wheel) throw new Error(`${project}==${version} has no wheel for ${platform} (files: ${files.map((u) => u.filename).join(', ')})`);
  return { filename: wheel.filename, url: wheel.url, sha256: wheel.digests.sha256 };
}

/**
 * Writes a file under a name of this process's own and renames it into place: an interrupted run
 * never leaves a half-written file, and processes provisioning at once (test files, workers) never
 * rename each other's temp file away.
 */
function writeAtomically(path, bytes) {
  const temp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.partial`;
  try {
    writeFileSync(temp, bytes);
    renameSync(temp, path);
  } catch (e) {
    rmSync(temp, { force: true });
    throw e;
  }
}

/** Removes the temp files of runs that were killed mid-write (their process is gone) from `dir`. */
function sweepPartials(dir) {
  let names;
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    const m = /\.(\d+)\.[0-9a-f]{8}\.partial$/.exec(name);
    if (m && !alive(Number(m[1]))) rmSync(join(dir, name), { force: true });
  }
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return e.code === 'EPERM';
  }
}

const sha256 = (bytes) => createHash('sha256').update(bytes).digest('hex');

/** The wheel's bytes, from the cache when a cached copy has PyPI's sha256, else downloaded and checked. */
async function wheelBytes(wheel, cache) {
  const cached = cache && join(cache, wheel.filename);
  if (cached && existsSync(cached)) {
    const bytes = readFileSync(cached);
    if (sha256(bytes) === wheel.sha256) return bytes;
  }
  const bytes = Buffer.from(await (await get(wheel.url, wheel.filename)).arrayBuffer());
  const actual = sha256(bytes);
  if (actual !== wheel.sha256) throw new Error(`${wheel.filename}: sha256 ${actual} is not PyPI's ${wheel.sha256}`);
  if (cached) {
    mkdirSync(cache, { recursive: true });
    sweepPartials(cache);
    writeAtomically(cached, bytes);
  }
  return bytes;
}

/**
 * One file out of a zip (a wheel is one): finds it in the central directory and inflates it.
 * Wheels are plain zips (no zip64, no encryption), stored or deflated.
 */
export function unzipFile(zip, path) {
  const eocd = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (eocd < 0) throw new Error('not a zip file (no end of central directory)');
  const count = zip.readUInt16LE(eocd + 10);
  let at = zip.readUInt32LE(eocd + 16);
  for (let i = 0; i < count; i++) {
    if (zip.readUInt32LE(at) !== 0x02014b50) throw new Error('corrupt zip central directory');
    const method = zip.readUInt16LE(at + 10);
    const compressedSize = zip.readUInt32LE(at + 20);
    const size = zip.readUInt32LE(at + 24);
    const nameLength = zip.readUInt16LE(at + 28);
    const name = zip.toString('utf8', at + 46, at + 46 + nameLength);
    const local = zip.readUInt32LE(at + 42);
    at += 46 + nameLength + zip.readUInt16LE(at + 30) + zip.readUInt16LE(at + 32);
    if (name !== path) continue;
    if (zip.readUInt32LE(local) !== 0x04034b50) throw new Error(`corrupt zip local header for ${path}`);
    const start = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
    const data = zip.subarray(start, start + compressedSize);
    const out = method === 0 ? data : method === 8 ? inflateRawSync(data) : undefined;
    if (!out) throw new Error(`${path}: unsupported zip compression method ${method}`);
    if (out.length !== size) throw new Error(`${path}: unpacked ${out.length} bytes, expected ${size}`);
    return out;
  }
  return undefined;
}

/** Provisions the extensions; returns the directory (absolute) and what was done per extension. */
export async function provision(options = {}) {
  const dir = resolve(options.dir ?? defaultDir());
  const wanted = (options.only ?? DEFAULT_EXTENSIONS).map(wheelName);
  const { version, platform: hostPlatform } = await duckdbTarget();
  const platform = options.platform ?? hostPlatform;
  const target = join(dir, version, platform);
  const cache = options.cache && resolve(options.cache);
  const report = [];
  for (const name of wanted) {
    const dest = join(target, `${EXTENSIONS[name]}.duckdb_extension`);
    if (!options.force && existsSync(dest) && statSync(dest).size > 0) {
      report.push({ name, status: 'present', path: dest });
      continue;
    }
    const wheel = await findWheel(name, version.replace(/^v/, ''), platform);
    const inner = `duckdb_extension_${name}/extensions/${version}/${name}.duckdb_extension`;
    const extension = unzipFile(await wheelBytes(wheel, cache), inner);
    if (!extension) throw new Error(`${wheel.filename} has no ${inner}`);
    mkdirSync(target, { recursive: true });
    sweepPartials(target);
    // Rename into place last, so an interrupted run never leaves a half-written extension.
    writeAtomically(dest, extension);
    report.push({ name, status: 'installed', path: dest });
  }
  return { dir, version, platform, extensions: report };
}

/** Loads each provisioned extension from `dir` with unsigned extensions disallowed: proves the signatures are accepted. */
export async function verify(dir, names = DEFAULT_EXTENSIONS) {
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const db = await DuckDBInstance.create(':memory:', {
    extension_directory: dir,
    allow_unsigned_extensions: 'false',
    autoinstall_known_extensions: 'false',
    autoload_known_extensions: 'false',
  });
  const c = await db.connect();
  try {
    for (const name of names) await c.run(`LOAD ${EXTENSIONS[wheelName(name)]}`);
  } finally {
    c.closeSync();
    db.closeSync();
  }
}

/** The command line (`argv` without node and the script); returns the exit code, and prints its own errors. */
export async function main(argv = process.argv.slice(2)) {
  try {
    const args = parseArgs(argv);
    if (args.help) {
      console.log(USAGE);
      return 0;
    }
    const started = Date.now();
    const result = await provision(args);
    if (result.platform === (await duckdbTarget()).platform) await verify(result.dir, args.only);
    if (!args.quiet) {
      for (const e of result.extensions) console.log(`${e.status.padEnd(9)} ${e.name} -> ${e.path}`);
      console.log(`DuckDB ${result.version} ${result.platform}: extensions ready in ${result.dir} (${Date.now() - started} ms)`);
      if (result.dir !== defaultDir()) console.log(`Use it: configure({ duckdb: { extensionDirectory: ${JSON.stringify(result.dir)} } })`);
    }
    return 0;
  } catch (e) {
    console.error(`millrace-duckdb-extensions: ${e.message}`);
    return 1;
  }
}

/** Run as a command, also through npx's `node_modules/.bin` symlink (hence the real paths). */
function isMain() {
  try {
    return !!process.argv[1] && realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isMain()) process.exitCode = await main();
