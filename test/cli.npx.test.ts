/**
 * `npx millrace` in a consumer project that installed the packed tarball of a clean clone:
 * the bin is linked by npm and runs with the package's own dependencies.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = resolve(__dirname, '..');
const work = mkdtempSync(join(tmpdir(), 'millrace-npx-'));
const consumer = join(work, 'consumer');

function npx(args: string[], input = '') {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', MILLRACE_HOME: join(consumer, '.millrace') };
  delete env.MILLRACE_CONFIG;
  const r = spawnSync('npx', ['--no-install', 'millrace', ...args], { cwd: consumer, env, input, encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(() => {
  const clone = join(work, 'clone');
  execFileSync('git', ['clone', '--quiet', root, clone], { stdio: 'pipe' });
  symlinkSync(join(root, 'node_modules'), join(clone, 'node_modules'), 'dir');
  const packed = JSON.parse(execFileSync('npm', ['pack', '--json', '--pack-destination', work], { cwd: clone, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })) as { filename: string; files: { path: string }[] }[];
  expect(packed[0]!.files.map((f) => f.path)).toContain('dist/cli.js');
  mkdirSync(consumer);
  writeFileSync(join(consumer, 'package.json'), JSON.stringify({ name: 'cli-consumer', version: '1.0.0', private: true }));
  execFileSync('npm', ['i', join(work, packed[0]!.filename), '--prefer-offline', '--no-audit', '--no-fund'], { cwd: consumer, stdio: 'pipe' });
}, 600_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('npx millrace in a consumer project', () => {
  it('runs: --version, a file round trip on the embedded default, the provisioner', () => {
    const version = npx(['--version']);
    expect(version.stderr).toBe('');
    expect(version.stdout.trim()).toBe(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version);
    expect(npx(['cp', '-', 's3:///hello.txt'], 'hello from npx').status).toBe(0);
    expect(npx(['ls']).stdout).toBe('s3:///hello.txt\n');
    expect(npx(['cat', 's3:///hello.txt']).stdout).toBe('hello from npx');
    const ext = npx(['extensions', '--help']);
    expect(ext.status).toBe(0);
    expect(ext.stdout).toMatch(/--dir/);
  });
});
