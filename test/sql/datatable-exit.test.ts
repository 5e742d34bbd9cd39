/** A script that never calls close() exits within a second of its last query, on a server and on the embedded default. */
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, expect, inject } from 'vitest';

process.env.MILLRACE_HOME = mkdtempSync(join(tmpdir(), 'millrace-dt-exit-'));

function runScript(args: string[]): Promise<{ out: { v: unknown; at: number }; exitedAt: number; code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/fixtures/datatable-no-close.ts', ...args], {
      env: { ...process.env, MILLRACE_HOME: mkdtempSync(join(tmpdir(), 'millrace-dt-exit-')) },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
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
});
