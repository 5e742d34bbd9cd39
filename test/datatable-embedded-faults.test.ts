/** Faults on the embedded default (PGlite), each in its own child process: what kills or hangs a script shows there. */
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

export function runFixture(fixture: string, home: string, args: string[] = [], timeoutMs = 60_000): Promise<{ code: number | null; out: any; stdout: string; stderr: string; ms: number }> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const child = spawn(process.execPath, ['--import', 'tsx', `test/fixtures/${fixture}`, ...args], { env: { ...process.env, MILLRACE_HOME: home } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const killer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(killer);
      let out: unknown;
      try {
        out = JSON.parse(stdout.trim().split('\n').pop()!);
      } catch {
        out = undefined;
      }
      resolve({ code: code ?? (signal as unknown as number), out, stdout, stderr, ms: Date.now() - started });
    });
  });
}

const home = () => mkdtempSync(join(tmpdir(), 'millrace-emb-faults-'));

describe('the embedded default under faults', () => {
  it('survives aborted statements and keeps serving', async () => {
    const r = await runFixture('embedded-abort.ts', home());
    expect(r.code, r.stderr).toBe(0);
    expect(r.out.before).toBe(1);
    // A statement PGlite has started runs to its end (it cannot be interrupted in-process): each settles
    // with its own result or Aborted, and the failed cancel request is not an uncaught EPIPE.
    expect([{ ok: 'first' }, { code: 'Aborted' }]).toContainEqual(r.out.first);
    expect([{ ok: 'second' }, { code: 'Aborted' }]).toContainEqual(r.out.second);
    expect(r.out.after).toBe(3);
  });
});
