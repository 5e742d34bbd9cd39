/**
 * A newcomer's first hour: a fresh clone packs into an installable tarball, a consumer project
 * installs it from npm's way (`npm i <tarball>`), provisions DuckDB's extensions with
 * `npx millrace-duckdb-extensions` (Node alone, no Python), and runs files and ducklake scripts,
 * ESM and CommonJS, on the embedded default.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { madeFromSeed } from './helpers/pglite-seed.js';

const root = resolve(__dirname, '..');
// Wheels are downloaded once per machine (`npm test`'s pretest fills the same cache).
const WHEEL_CACHE = process.env.MILLRACE_WHEEL_CACHE ?? join(root, '.cache', 'duckdb-wheels');
const work = mkdtempSync(join(tmpdir(), 'millrace-newcomer-'));
const consumer = join(work, 'consumer');
const home = mkdtempSync(join(tmpdir(), 'millrace-newcomer-home-'));

/** The consumer's environment: no config, no millrace home, a HOME of its own (no DuckDB extensions from elsewhere). */
function env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const e: NodeJS.ProcessEnv = { ...process.env, HOME: home, MILLRACE_WHEEL_CACHE: WHEEL_CACHE, ...extra };
  delete e.MILLRACE_CONFIG;
  delete e.MILLRACE_HOME;
  delete e.MILLRACE_TEST_EXTENSION_DIR;
  return e;
}

function run(command: string, args: string[], cwd = consumer, extra: Record<string, string> = {}) {
  const r = spawnSync(command, args, { cwd, env: env(extra), encoding: 'utf8', timeout: 300_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

let tarball: string;
const PGLITE = JSON.parse(readFileSync(join(root, 'node_modules', '@electric-sql', 'pglite', 'package.json'), 'utf8')).version as string;

beforeAll(() => {
  // A clone of the committed HEAD: only what git tracks, no dist/ and no build left over.
  const clone = join(work, 'clone');
  execFileSync('git', ['clone', '--quiet', root, clone], { stdio: 'pipe' });
  expect(existsSync(join(clone, 'dist'))).toBe(false);
  // The repo's installed devDependencies, for the build that `npm pack` runs (`prepare`).
  symlinkSync(join(root, 'node_modules'), join(clone, 'node_modules'), 'dir');
  const packed = JSON.parse(execFileSync('npm', ['pack', '--json', '--pack-destination', work], { cwd: clone, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })) as { filename: string; files: { path: string }[] }[];
  tarball = join(work, packed[0]!.filename);
  const files = packed[0]!.files.map((f) => f.path);
  expect(files).toEqual(expect.arrayContaining(['dist/index.js', 'dist/index.cjs', 'dist/index.d.ts', 'dist/sql.js', 'dist/s3.cjs', 'scripts/duckdb-extensions.mjs']));
  // The embedded PostgreSQL's seed cluster, made by `prepare` for the PGlite version it installs.
  expect(files).toContain(`pglite-seed/pglite-${PGLITE}.tar.gz`);

  mkdirSync(consumer);
  writeFileSync(join(consumer, 'package.json'), JSON.stringify({ name: 'newcomer-project', version: '1.0.0', private: true }));
  const install = run('npm', ['i', tarball, '--prefer-offline', '--no-audit', '--no-fund']);
  expect(install.stderr).not.toMatch(/ERR!/);
  expect(install.status).toBe(0);
}, 600_000);

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
  rmSync(home, { recursive: true, force: true });
});

const ducklakeEsm = `
  import * as wmill from 'millrace';
  import wmillDefault from 'millrace';
  if (typeof wmillDefault.getConfig !== 'function') throw new Error('the default export lacks getConfig');
  const sql = wmill.ducklake();
  await sql\`CREATE TABLE IF NOT EXISTS visits (page VARCHAR, n INTEGER)\`.execute();
  await sql\`INSERT INTO visits VALUES (\${'home'}, \${3}), (\${'about'}, \${1})\`.execute();
  const rows = await sql\`SELECT page, sum(n)::INTEGER AS n FROM visits GROUP BY page ORDER BY page\`.fetch();
  console.log(JSON.stringify({ rows, extensions: wmillDefault.getConfig().duckdb.extensionDirectory }));`;

const ducklakeCjs = `
  const wmill = require('millrace');
  if (typeof wmill.default.getConfig !== 'function') throw new Error('the default export lacks getConfig');
  (async () => {
    const sql = wmill.ducklake();
    const n = await sql\`SELECT sum(n)::INTEGER FROM visits WHERE page = \${'home'}\`.fetchOneScalar();
    console.log(JSON.stringify({ n }));
  })().catch((e) => { console.error(e.code, e.message); process.exitCode = 1; });`;

const filesEsm = `
  import { writeS3File, loadS3File, listS3Files } from 'millrace/s3';
  const obj = await writeS3File({ s3: 'inbox/hello.txt' }, 'hello from ESM');
  const text = new TextDecoder().decode(await loadS3File(obj));
  const keys = [];
  for await (const o of listS3Files('inbox/')) keys.push(o.s3);
  console.log(JSON.stringify({ obj, text, keys }));`;

const filesCjs = `
  const { loadS3File, writeS3File } = require('millrace/s3');
  (async () => {
    const before = new TextDecoder().decode(await loadS3File('s3:///inbox/hello.txt'));
    await writeS3File({ s3: 'inbox/cjs.txt' }, before.replace('ESM', 'CommonJS'));
    console.log(new TextDecoder().decode(await loadS3File({ s3: 'inbox/cjs.txt' })));
  })().catch((e) => { console.error(e.code, e.message); process.exitCode = 1; });`;

describe('a consumer project that installed the packed tarball', () => {
  it('runs a files script from ESM and from CommonJS on the embedded default', () => {
    writeFileSync(join(consumer, 'files.mjs'), filesEsm);
    writeFileSync(join(consumer, 'files.cjs'), filesCjs);
    const esm = run(process.execPath, ['files.mjs']);
    expect(esm.stderr).toBe('');
    expect(JSON.parse(esm.stdout)).toEqual({ obj: { s3: 'inbox/hello.txt' }, text: 'hello from ESM', keys: ['inbox/hello.txt'] });
    const cjs = run(process.execPath, ['files.cjs']);
    expect(cjs.stderr).toBe('');
    expect(cjs.stdout.trim()).toBe('hello from CommonJS');
    expect(readFileSync(join(consumer, '.millrace', 'storage', 'inbox', 'cjs.txt'), 'utf8')).toBe('hello from CommonJS');
  });

  it('a datatable script (ESM) creates the embedded database from the packed seed; the next one (CommonJS) reopens it', () => {
    const project = join(consumer, 'dt');
    mkdirSync(project);
    writeFileSync(join(project, 'dt.mjs'), `
      import { datatable, close } from 'millrace';
      const sql = datatable();
      await sql\`CREATE TABLE t (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), doc jsonb)\`.execute();
      await sql\`INSERT INTO t (doc) VALUES (\${JSON.stringify({ from: 'esm' })}::jsonb)\`.execute();
      await close();`);
    writeFileSync(join(project, 'dt.cjs'), `
      const { datatable, close } = require('millrace');
      (async () => {
        console.log(JSON.stringify(await datatable()\`SELECT doc FROM t\`.fetch()));
        await close();
      })().catch((e) => { console.error(e.code, e.message); process.exitCode = 1; });`);
    const first = run(process.execPath, ['dt.mjs'], project);
    expect(first.stderr).toBe('');
    expect(first.status).toBe(0);
    const seed = join(consumer, 'node_modules', 'millrace', 'pglite-seed', `pglite-${PGLITE}.tar.gz`);
    expect(madeFromSeed(join(project, '.millrace', 'datatable'), seed)).toBe(true);
    const again = run(process.execPath, ['dt.cjs'], project);
    expect(again.stderr).toBe('');
    expect(JSON.parse(again.stdout)).toEqual([{ doc: { from: 'esm' } }]);
  });

  it('without extensions, ducklake() says to run npx millrace-duckdb-extensions', () => {
    writeFileSync(join(consumer, 'lake.mjs'), ducklakeEsm);
    const r = run(process.execPath, ['lake.mjs']);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('ExtensionMissing');
    expect(r.stderr).toContain('run `npx millrace-duckdb-extensions`');
  });

  it('npx millrace-duckdb-extensions provisions the extensions with Node alone, then ducklake scripts run from ESM and CommonJS', () => {
    // Python on the PATH is a tripwire: provisioning must not call it (nor pip).
    const tripwire = mkdtempSync(join(tmpdir(), 'millrace-nopython-'));
    for (const name of ['python3', 'python', 'pip', 'pip3']) {
      writeFileSync(join(tripwire, name), `#!/bin/sh\ntouch ${join(tripwire, 'called')}\nexit 97\n`, { mode: 0o755 });
    }
    const path = [tripwire, process.env.PATH!];
    const provision = run('npx', ['millrace-duckdb-extensions'], consumer, { PATH: path.join(':') });
    expect(provision.stderr).toBe('');
    expect(provision.status).toBe(0);
    const dir = join(consumer, '.millrace', 'duckdb-extensions');
    for (const name of ['ducklake', 'httpfs', 'postgres', 'sqlite', 'azure', 'aws']) expect(provision.stdout).toMatch(new RegExp(`^installed +${name} -> `, 'm'));
    expect(provision.stdout).toContain(`extensions ready in ${dir}`);
    expect(existsSync(join(tripwire, 'called'))).toBe(false);
    const [version] = readdirSync(dir);
    const [platform] = readdirSync(join(dir, version!));
    expect(readdirSync(join(dir, version!, platform!)).sort()).toEqual(
      ['aws', 'azure', 'ducklake', 'httpfs', 'postgres_scanner', 'sqlite_scanner'].map((n) => `${n}.duckdb_extension`),
    );

    // Idempotent: a second run finds them all present and downloads nothing.
    const again = run('npx', ['millrace-duckdb-extensions'], consumer, { PATH: path.join(':'), MILLRACE_WHEEL_CACHE: '' });
    expect(again.status).toBe(0);
    expect(again.stdout.match(/^present /gm)).toHaveLength(6);

    const esm = run(process.execPath, ['lake.mjs']);
    expect(esm.stderr).toBe('');
    expect(JSON.parse(esm.stdout)).toEqual({ rows: [{ page: 'about', n: 1 }, { page: 'home', n: 3 }], extensions: dir });
    writeFileSync(join(consumer, 'lake.cjs'), ducklakeCjs);
    const cjs = run(process.execPath, ['lake.cjs']);
    expect(cjs.stderr).toBe('');
    expect(JSON.parse(cjs.stdout)).toEqual({ n: 3 });
  }, 300_000);
});

describe('the provisioner', () => {
  const script = join(root, 'scripts', 'duckdb-extensions.mjs');
  const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

  it('provisions tpcds on request, for this machine and for another platform', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'millrace-tpcds-'));
    const r = run(process.execPath, [script, '--dir', dir, '--only', 'tpcds'], root);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^installed +tpcds -> /m);
    const { DuckDBInstance } = await import('@duckdb/node-api');
    const db = await DuckDBInstance.create(':memory:', { extension_directory: dir, autoinstall_known_extensions: 'false', allow_unsigned_extensions: 'false' });
    const c = await db.connect();
    await c.run('LOAD tpcds');
    const queries = (await c.runAndReadAll('SELECT count(*)::INTEGER AS n FROM tpcds_queries()')).getRowObjects()[0]!.n;
    c.closeSync();
    db.closeSync();
    expect(queries).toBe(99);

    const arm = run(process.execPath, [script, '--dir', dir, '--only', 'tpcds', '--platform', 'linux_arm64', '--quiet'], root);
    expect(arm.stderr).toBe('');
    expect(arm.stdout).toBe('');
    const [version] = readdirSync(dir);
    expect(readdirSync(join(dir, version!))).toContain('linux_arm64');
    expect(statSync(join(dir, version!, 'linux_arm64', 'tpcds.duckdb_extension')).size).toBeGreaterThan(1_000_000);
    rmSync(dir, { recursive: true, force: true });
  });

  it('replaces a cached wheel whose sha256 is not PyPI\'s', () => {
    const cache = mkdtempSync(join(tmpdir(), 'millrace-wheels-'));
    const dir = mkdtempSync(join(tmpdir(), 'millrace-tpcds-'));
    const first = run(process.execPath, [script, '--dir', dir, '--only', 'tpcds', '--cache', cache, '--quiet'], root);
    expect(first.status).toBe(0);
    const [wheel] = readdirSync(cache);
    const good = sha256(join(cache, wheel!));
    writeFileSync(join(cache, wheel!), 'not the wheel PyPI published');
    const second = run(process.execPath, [script, '--dir', dir, '--only', 'tpcds', '--cache', cache, '--force'], root);
    expect(second.stderr).toBe('');
    expect(second.stdout).toMatch(/^installed +tpcds/m);
    expect(sha256(join(cache, wheel!))).toBe(good);
    rmSync(cache, { recursive: true, force: true });
    rmSync(dir, { recursive: true, force: true });
  });

  it('names what it cannot do, and exits 1', () => {
    const unknown = run(process.execPath, [script, '--only', 'nope'], root);
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toMatch(/^millrace-duckdb-extensions: unknown extension nope; known: ducklake, .*tpcds/);
    const platform = run(process.execPath, [script, '--only', 'tpcds', '--platform', 'solaris_sparc', '--dir', join(work, 'x')], root);
    expect(platform.status).toBe(1);
    expect(platform.stderr).toMatch(/no known wheel platform for DuckDB platform solaris_sparc/);
  });
});
