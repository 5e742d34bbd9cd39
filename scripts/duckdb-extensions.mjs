#!/usr/bin/env node
/**
 * Provisions the DuckDB extensions millrace's ducklake() needs into a local folder, with no
 * network but PyPI: DuckDB publishes its signed extension binaries as wheels
 * (`duckdb-extension-<name>`), which we download with pip and unpack into the layout DuckDB
 * reads (`<dir>/<version>/<platform>/<name>.duckdb_extension`).
 *
 *   npm run extensions                      # into $MILLRACE_HOME/duckdb-extensions (./.millrace/...)
 *   npm run extensions -- --dir /opt/duckdb-ext --only ducklake,httpfs
 *   npm run extensions -- --platform linux_arm64   # for another machine (e.g. Lambda on Graviton)
 *
 * millrace uses `<MILLRACE_HOME>/duckdb-extensions` with no config; for any other folder set
 * `configure({ duckdb: { extensionDirectory: '/opt/duckdb-ext' } })`.
 * Idempotent: extensions already present are skipped (use --force to re-download).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Wheel name on PyPI -> the file name DuckDB looks for (its canonical extension name). */
export const EXTENSIONS = {
  ducklake: 'ducklake',
  httpfs: 'httpfs',
  postgres: 'postgres_scanner',
  sqlite: 'sqlite_scanner',
  azure: 'azure',
  // S3 storages configured without keys: the secret's PROVIDER credential_chain lives in `aws`.
  aws: 'aws',
};

/** DuckDB platform -> pip platform tag of the wheels DuckDB publishes. */
const PIP_PLATFORMS = {
  linux_amd64: 'manylinux2014_x86_64',
  linux_arm64: 'manylinux2014_aarch64',
  osx_arm64: 'macosx_11_0_arm64',
  osx_amd64: 'macosx_10_9_x86_64',
  windows_amd64: 'win_amd64',
};

/** Where millrace looks with no config: the millrace home's `duckdb-extensions` folder. */
export function defaultDir() {
  return join(resolve(process.env.MILLRACE_HOME || '.millrace'), 'duckdb-extensions');
}

function parseArgs(argv) {
  const args = { dir: defaultDir(), only: undefined, platform: undefined, force: false, quiet: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--dir') args.dir = argv[++i];
    else if (a === '--only') args.only = argv[++i].split(',').map((s) => s.trim()).filter(Boolean);
    else if (a === '--platform') args.platform = argv[++i];
    else if (a === '--force') args.force = true;
    else if (a === '--quiet') args.quiet = true;
    else if (a === '--help' || a === '-h') {
      console.log('usage: millrace-duckdb-extensions (or node scripts/duckdb-extensions.mjs) [--dir DIR] [--only a,b] [--platform linux_amd64] [--force] [--quiet]');
      process.exit(0);
    } else throw new Error(`unknown argument ${a}`);
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

function pip(args) {
  for (const python of ['python3', 'python']) {
    const r = spawnSync(python, ['-m', 'pip', ...args], { encoding: 'utf8' });
    if (r.error && r.error.code === 'ENOENT') continue;
    if (r.status !== 0 && /No module named pip/.test(r.stderr)) continue;
    return r;
  }
  throw new Error('pip is not available: install Python 3 with pip (e.g. `apt-get install python3-pip`), or copy the extension files into the directory by hand');
}

/** Provisions the extensions; returns the directory (absolute) and what was done per extension. */
export async function provision(options = {}) {
  const dir = resolve(options.dir ?? defaultDir());
  const wanted = options.only ?? Object.keys(EXTENSIONS);
  const { version, platform: hostPlatform } = await duckdbTarget();
  const platform = options.platform ?? hostPlatform;
  const target = join(dir, version, platform);
  const bare = version.replace(/^v/, '');
  const report = [];
  for (const name of wanted) {
    const fileName = EXTENSIONS[name];
    if (!fileName) throw new Error(`unknown extension ${name}; known: ${Object.keys(EXTENSIONS).join(', ')}`);
    const dest = join(target, `${fileName}.duckdb_extension`);
    if (!options.force && existsSync(dest) && statSync(dest).size > 0) {
      report.push({ name, status: 'present', path: dest });
      continue;
    }
    const tmp = mkdtempSync(join(tmpdir(), 'millrace-ext-'));
    try {
      const pipArgs = ['download', '--no-deps', '--only-binary=:all:', '--disable-pip-version-check', '-q', '-d', tmp, `duckdb-extension-${name}==${bare}`];
      if (platform !== hostPlatform) {
        const tag = PIP_PLATFORMS[platform];
        if (!tag) throw new Error(`no known wheel platform for DuckDB platform ${platform}`);
        pipArgs.push('--platform', tag);
      }
      const r = pip(pipArgs);
      if (r.status !== 0) throw new Error(`pip download duckdb-extension-${name}==${bare} failed:\n${(r.stderr || r.stdout).trim()}`);
      const wheel = readdirSync(tmp).find((f) => f.endsWith('.whl'));
      if (!wheel) throw new Error(`pip downloaded no wheel for duckdb-extension-${name}`);
      const unpacked = join(tmp, 'x');
      mkdirSync(unpacked);
      // A wheel is a zip; Python's zipfile is there whenever pip is.
      const unzip = spawnSync('python3', ['-m', 'zipfile', '-e', join(tmp, wheel), unpacked], { encoding: 'utf8' });
      if (unzip.status !== 0) throw new Error(`cannot unpack ${wheel}: ${unzip.stderr}`);
      const inner = join(unpacked, `duckdb_extension_${name}`, 'extensions', version, `${name}.duckdb_extension`);
      if (!existsSync(inner)) throw new Error(`${wheel} has no extensions/${version}/${name}.duckdb_extension`);
      mkdirSync(target, { recursive: true });
      // Rename into place last, so an interrupted run never leaves a half-written extension.
      renameSync(inner, dest);
      report.push({ name, status: 'installed', path: dest });
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }
  return { dir, version, platform, extensions: report };
}

/** Loads each provisioned extension from `dir` with unsigned extensions disallowed: proves the signatures are accepted. */
export async function verify(dir, names = Object.keys(EXTENSIONS)) {
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const db = await DuckDBInstance.create(':memory:', {
    extension_directory: dir,
    allow_unsigned_extensions: 'false',
    autoinstall_known_extensions: 'false',
    autoload_known_extensions: 'false',
  });
  const c = await db.connect();
  try {
    for (const name of names) await c.run(`LOAD ${EXTENSIONS[name]}`);
  } finally {
    c.closeSync();
    db.closeSync();
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    const args = parseArgs(process.argv.slice(2));
    const started = Date.now();
    const result = await provision(args);
    if (result.platform === (await duckdbTarget()).platform) await verify(result.dir, args.only);
    if (!args.quiet) {
      for (const e of result.extensions) console.log(`${e.status.padEnd(9)} ${e.name} -> ${e.path}`);
      console.log(`DuckDB ${result.version} ${result.platform}: extensions ready in ${result.dir} (${Date.now() - started} ms)`);
      console.log(`Use it: configure({ duckdb: { extensionDirectory: ${JSON.stringify(result.dir)} } })`);
    }
  } catch (e) {
    console.error(`duckdb-extensions: ${e.message}`);
    process.exit(1);
  }
}
