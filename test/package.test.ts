/**
 * The published package: builds, both module systems, light entry points, and the
 * windmill-client alias. Runs against the tsup build in dist/.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import { beforeAll, describe, expect, it } from 'vitest';

const root = resolve(__dirname, '..');
const HEAVY = ['@duckdb/', '@azure/', '/postgres/', '@electric-sql/'];

function node(args: string[], cwd = root, env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, args, { cwd, encoding: 'utf8', env: { ...process.env, ...env } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function loadedBy(code: string, type: 'module' | 'commonjs' = 'module'): string[] {
  const r = node(['--import', join(root, 'test/helpers/record-loads.mjs'), `--input-type=${type}`, '-e', code]);
  expect(r.stderr).not.toMatch(/Error/);
  return r.stderr.split('\n').filter((l) => l.startsWith('LOADED ')).map((l) => l.slice(7));
}

beforeAll(() => {
  execFileSync('npx', ['tsup', '--silent'], { cwd: root, stdio: 'pipe' });
}, 180_000);

describe('package', () => {
  it.each(['millrace', 'millrace/s3', 'millrace/sql'])('importing %s loads no heavy backend', (entry) => {
    const loaded = loadedBy(`await import(${JSON.stringify(entry)});`);
    expect(loaded.some((u) => u.includes('/dist/'))).toBe(true);
    for (const heavy of HEAVY) expect(loaded.filter((u) => u.includes(`node_modules/${heavy.replace(/^\//, '')}`))).toEqual([]);
  });

  it('works from ESM: namespace and default imports', () => {
    const r = node(['--input-type=module', '-e', `
      import * as wmill from 'millrace';
      import wmill2 from 'millrace';
      import { loadS3File } from 'millrace/s3';
      import { datatable, ducklake } from 'millrace/sql';
      const names = ['loadS3File', 'loadS3FileStream', 'writeS3File', 'deleteS3File', 'signS3Objects', 'signS3Object',
        'getPresignedS3PublicUrls', 'getPresignedS3PublicUrl', 'parseS3Object', 'datatable', 'ducklake',
        'upsertPartition', 'appendPartition', 'statS3File', 'listS3Files', 'copyS3File', 'moveS3File',
        'formatS3Object', 'isS3Object', 'configure', 'close', 'getConfig'];
      for (const n of names) {
        if (typeof wmill[n] !== 'function') throw new Error('namespace lacks ' + n);
        if (wmill2[n] !== wmill[n]) throw new Error('default export lacks ' + n);
      }
      if (loadS3File !== wmill.loadS3File || datatable !== wmill.datatable || ducklake !== wmill.ducklake) throw new Error('entry points differ');
      console.log('ok');`]);
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('ok');
  });

  it('works from CommonJS', () => {
    const r = node(['-e', `
      const wmill = require('millrace');
      const { writeS3File } = require('millrace/s3');
      const { datatable } = require('millrace/sql');
      if (typeof wmill.loadS3File !== 'function' || typeof writeS3File !== 'function' || typeof datatable !== 'function') throw new Error('missing');
      if (wmill.default.loadS3File !== wmill.loadS3File) throw new Error('default');
      console.log(new wmill.MillraceError('NotFound', 'x').code);`]);
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('NotFound');
  });

  it('an S3-only serverless bundle contains no SQL engine, Azure SDK or Postgres driver', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'millrace-bundle-'));
    // As installed from npm, so the bundler resolves through the package's "exports".
    mkdirSync(join(dir, 'node_modules'));
    symlinkSync(root, join(dir, 'node_modules', 'millrace'), 'dir');
    const entry = join(dir, 'handler.ts');
    writeFileSync(entry, `
      import { loadS3File, writeS3File, type S3Object } from 'millrace/s3';
      export async function handler(input: S3Object) {
        const text = new TextDecoder().decode(await loadS3File(input));
        return writeS3File({ s3: 'out/upper.txt' }, text.toUpperCase());
      }`);
    const result = await build({
      entryPoints: [entry],
      bundle: true,
      platform: 'node',
      format: 'esm',
      write: false,
      metafile: true,
      logLevel: 'silent',
    });
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs.some((i) => i.includes('client-s3'))).toBe(true);
    for (const heavy of HEAVY) expect(inputs.filter((i) => i.includes(`node_modules/${heavy.replace(/^\//, '')}`))).toEqual([]);
  });

  it('runs a windmill-client script unchanged when windmill-client is aliased to millrace', () => {
    const dir = mkdtempSync(join(tmpdir(), 'millrace-alias-'));
    mkdirSync(join(dir, 'node_modules'));
    // What `npm i windmill-client@npm:millrace` produces: the package installed under the other name.
    symlinkSync(root, join(dir, 'node_modules', 'windmill-client'), 'dir');
    writeFileSync(join(dir, 'script.mjs'), `
      import * as wmill from 'windmill-client';
      export async function main() {
        const obj = await wmill.writeS3File({ s3: 'hello.txt' }, 'Hello Windmill!');
        const bytes = await wmill.loadS3File(obj);
        return new TextDecoder().decode(bytes);
      }
      console.log(await main());`);
    const r = node([join(dir, 'script.mjs')], dir, { MILLRACE_HOME: join(dir, '.millrace'), MILLRACE_CONFIG: '' });
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('Hello Windmill!');
  });

  it('ships the DuckDB extension provisioner as a bin', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { bin: Record<string, string>; files: string[] };
    const bin = pkg.bin['millrace-duckdb-extensions']!;
    expect(pkg.files).toContain(bin);
    expect(readFileSync(join(root, bin), 'utf8').startsWith('#!/usr/bin/env node')).toBe(true);
    const r = node([join(root, bin), '--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/usage: .*--dir DIR/);
  });
});

