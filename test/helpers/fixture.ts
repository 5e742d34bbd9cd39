/** A fixture script (test/fixtures/) in its own process: what kills or hangs a process shows there. */
import { spawn } from 'node:child_process';

/** `code` is the exit code, or the signal that killed the child; `out` is the last stdout line as JSON. */
export type FixtureRun = { code: number | NodeJS.Signals | null; out: any; stdout: string; stderr: string; ms: number };

/** `home`: the child's MILLRACE_HOME (else it inherits ours); killed after `timeoutMs`. */
export function runFixture(fixture: string, args: string[] = [], opts: { home?: string; timeoutMs?: number } = {}): Promise<FixtureRun> {
  const env = opts.home === undefined ? process.env : { ...process.env, MILLRACE_HOME: opts.home };
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const child = spawn(process.execPath, ['--import', 'tsx', `test/fixtures/${fixture}`, ...args], { env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const killer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 180_000);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(killer);
      let out: unknown;
      try {
        out = JSON.parse(stdout.trim().split('\n').pop()!);
      } catch {
        out = undefined;
      }
      resolve({ code: code ?? signal, out, stdout, stderr, ms: Date.now() - started });
    });
  });
}
