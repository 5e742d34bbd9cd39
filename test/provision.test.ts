/**
 * The extension provisioner (`npx millrace-duckdb-extensions`, the pretest step) run by several
 * processes at once on one fresh folder, as test files, CI jobs and workers starting together do:
 * each must succeed and leave whole, loadable extensions, with no temp file behind.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, expect, test } from 'vitest';

const script = resolve(import.meta.dirname, '..', 'scripts', 'duckdb-extensions.mjs');
const cache = resolve(import.meta.dirname, '..', '.cache', 'duckdb-wheels');
const dir = mkdtempSync(join(tmpdir(), 'millrace-provision-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function provision(into = dir): Promise<{ code: number | null; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [script, '--quiet', '--dir', into, '--cache', cache, '--only', 'httpfs,sqlite,postgres'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (b) => (stderr += b));
    child.on('close', (code) => done({ code, stderr }));
  });
}

test('four processes provisioning one fresh folder at once all succeed', { timeout: 180_000 }, async () => {
  const runs = await Promise.all([provision(), provision(), provision(), provision()]);
  expect(runs.map((r) => r.stderr)).toEqual(['', '', '', '']);
  expect(runs.map((r) => r.code)).toEqual([0, 0, 0, 0]);
  const [version] = readdirSync(dir);
  const [platform] = readdirSync(join(dir, version!));
  // Each process verified (LOAD with signatures checked) what it found; nothing half-written is left.
  expect(readdirSync(join(dir, version!, platform!)).sort()).toEqual(['httpfs.duckdb_extension', 'postgres_scanner.duckdb_extension', 'sqlite_scanner.duckdb_extension']);
});

test("a killed run's temp file is swept; a running process's is left alone", { timeout: 180_000 }, async () => {
  const into = mkdtempSync(join(tmpdir(), 'millrace-provision-swept-'));
  try {
    // Where the extensions go: the first run tells (DuckDB's version and platform folders).
    expect((await provision(into)).code).toBe(0);
    const [version] = readdirSync(into);
    const [platform] = readdirSync(join(into, version!));
    const target = join(into, version!, platform!);
    rmSync(join(target, 'sqlite_scanner.duckdb_extension'));
    // A pid no process has (above the kernel's pid_max) and this test's own, running, pid.
    const dead = join(target, 'sqlite_scanner.duckdb_extension.4194999.0badc0de.partial');
    const live = join(target, `httpfs.duckdb_extension.${process.pid}.0badc0de.partial`);
    mkdirSync(target, { recursive: true });
    writeFileSync(dead, 'half a file');
    writeFileSync(live, 'being written');
    expect((await provision(into)).code).toBe(0);
    expect(existsSync(dead)).toBe(false);
    expect(existsSync(live)).toBe(true);
    expect(existsSync(join(target, 'sqlite_scanner.duckdb_extension'))).toBe(true);
  } finally {
    rmSync(into, { recursive: true, force: true });
  }
});
