/**
 * A real PostgreSQL for the tests: `MILLRACE_TEST_PG_URL` when set, otherwise a throwaway cluster
 * in a temp folder on a free loopback port (run as the `postgres` user when we are root: it refuses root).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import type {} from 'vitest';

declare module 'vitest' {
  export interface ProvidedContext {
    /** A superuser URL; tests create their own databases in it. */
    pgUrl: string;
  }
}

/** The newest installed PostgreSQL's `name` binary (Debian keeps them off PATH), else `name` from PATH. */
export function pgBin(name: string): string {
  const root = '/usr/lib/postgresql';
  if (existsSync(root)) {
    const versions = readdirSync(root).sort((a, b) => Number(b) - Number(a));
    for (const v of versions) if (existsSync(join(root, v, 'bin', name))) return join(root, v, 'bin', name);
  }
  return name;
}

/** A loopback port nothing listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

export default async function setup(project: TestProject) {
  if (process.env.MILLRACE_TEST_PG_URL) {
    project.provide('pgUrl', process.env.MILLRACE_TEST_PG_URL);
    return;
  }
  const cluster = await newCluster('millrace-pg-', '-c max_connections=300');
  cluster.start();
  project.provide('pgUrl', cluster.url);
  return () => cluster.destroy();
}

export type Cluster = { url: string; start(): void; stop(mode?: 'fast' | 'immediate'): void; destroy(): void };

/**
 * A fresh cluster in a temp folder named `prefix...`, on a free loopback port, not yet started: initdb
 * run as the `postgres` user when we are root (it refuses root). `settings`: more `-c name=value`.
 */
export async function newCluster(prefix: string, settings = ''): Promise<Cluster> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const data = join(dir, 'data');
  const asRoot = process.getuid?.() === 0;
  const run = (cmd: string, args: string[]) => {
    const [file, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args];
    const r = spawnSync(file, argv, { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`${cmd} failed (${r.status}): ${r.stderr || r.stdout}`);
  };
  if (asRoot) execFileSync('chown', ['postgres:postgres', dir]);
  else chownSync(dir, process.getuid!(), process.getgid!());
  const port = await freePort();
  run(pgBin('initdb'), ['-D', data, '-U', 'postgres', '-A', 'trust', '--no-sync', '-E', 'UTF8', '--locale=C']);
  const opts = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off ${settings}`.trim();
  const stop = (mode: 'fast' | 'immediate' = 'fast') => run(pgBin('pg_ctl'), ['-D', data, '-m', mode, '-w', 'stop']);
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    start: () => run(pgBin('pg_ctl'), ['-D', data, '-o', opts, '-l', join(dir, 'log'), '-w', 'start']),
    stop,
    destroy() {
      try {
        stop('immediate');
      } catch {
        // not running
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
