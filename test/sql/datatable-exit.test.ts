/** A script that never calls close() exits within a second of its last query, on a server and on the embedded default. */
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, expect, inject } from 'vitest';

process.env.MILLRACE_HOME = mkdtempSync(join(tmpdir(), 'millrace-dt-exit-'));

type Run = { out: { v: unknown; at: number }; exitedAt: number; code: number | null; stderr: string };

function runScript(args: string[], home = mkdtempSync(join(tmpdir(), 'millrace-dt-exit-'))): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/fixtures/datatable-no-close.ts', ...args], {
      env: { ...process.env, MILLRACE_HOME: home },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    // Generous: a first start creates the cluster, which takes long on a loaded machine.
    const killer = setTimeout(() => child.kill('SIGKILL'), 150_000);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(killer);
      const exitedAt = Date.now();
      try {
        resolve({ out: JSON.parse(stdout.trim().split('\n').pop()!), exitedAt, code, stderr });
      } catch {
        reject(new Error(`no output (exit ${code}): ${stderr}`));
      }
    });
  });
}

describe('a script that never calls close()', () => {
  it('exits within a second of its last query on a server', async () => {
    const r = await runScript([inject('pgUrl')]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.out.v).toEqual([42, 'x']);
    expect(r.exitedAt - r.out.at).toBeLessThan(1000);
  });

  it('exits within a second of its last query on the embedded default', async () => {
    const r = await runScript([]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.out.v).toEqual([42, 'x']);
    expect(r.exitedAt - r.out.at).toBeLessThan(1000);
  });

  // PGlite arms a 10 s timer (re-armed from its own callback) while it opens an existing data folder:
  // from the second run on, a script never exited. The first run makes the folder; two more reopen it.
  it.each([['main'], [':analytics']])('exits promptly run after run on an existing MILLRACE_HOME (%s)', async (name) => {
    const home = mkdtempSync(join(tmpdir(), 'millrace-dt-exit-'));
    for (let i = 0; i < 3; i++) {
      const r = await runScript(['', name], home);
      expect(r.code, r.stderr).toBe(0);
      expect(r.out.v).toEqual([42, 'x']);
      // Well under PGlite's 10 s timer; the margin is for a loaded machine.
      expect(r.exitedAt - r.out.at, `run ${i + 1}`).toBeLessThan(5000);
    }
  }, 600_000);
});
