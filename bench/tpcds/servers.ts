/**
 * The servers of the TPC-DS bench: a throwaway PostgreSQL 15 cluster (the lake's catalog) and
 * s3rver in a process of its own (sources and lake data). Both listen on `host` (loopback unless
 * a test puts them in a network namespace with `prefix`, e.g. ['ip', 'netns', 'exec', 'hub']).
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { appendFileSync, chownSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { freePort, pgBin } from '../../test/setup/postgres.js';

export { freePort };

export type Postgres = { host: string; port: number; user: string; url: string; stop(): void };

/** A fresh cluster in a temp folder, run as the `postgres` user when we are root (it refuses root). */
/** `clients`: a CIDR trusted besides loopback (the namespace test's private range). */
export async function startPostgres(opts: { host?: string; port?: number; prefix?: string[]; clients?: string } = {}): Promise<Postgres> {
  const host = opts.host ?? '127.0.0.1';
  const prefix = opts.prefix ?? [];
  const dir = mkdtempSync(join(tmpdir(), 'millrace-tpcds-pg-'));
  const data = join(dir, 'data');
  const asRoot = process.getuid?.() === 0;
  const run = (cmd: string, args: string[]) => {
    const argv = [...prefix, ...(asRoot ? ['runuser', '-u', 'postgres', '--'] : []), cmd, ...args];
    const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`${cmd} failed (${r.status}): ${r.stderr || r.stdout}`);
  };
  if (asRoot) execFileSync('chown', ['postgres:postgres', dir]);
  else chownSync(dir, process.getuid!(), process.getgid!());
  const port = opts.port ?? (await freePort());
  run(pgBin('initdb'), ['-D', data, '-U', 'postgres', '-A', 'trust', '--no-sync', '-E', 'UTF8', '--locale=C']);
  if (opts.clients) appendFileSync(join(data, 'pg_hba.conf'), `host all all ${opts.clients} trust\n`);
  const settings = `-p ${port} -k ${dir} -c listen_addresses=${host} -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300`;
  run(pgBin('pg_ctl'), ['-D', data, '-o', settings, '-l', join(dir, 'log'), '-w', 'start']);
  return {
    host,
    port,
    user: 'postgres',
    url: `postgres://postgres@${host}:${port}/postgres`,
    stop() {
      try {
        run(pgBin('pg_ctl'), ['-D', data, '-m', 'immediate', '-w', 'stop']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

/** Runs SQL on the cluster with psql (through the prefix, so it works inside a namespace too). */
export function psql(pg: Postgres, sql: string, prefix: string[] = []): string {
  const argv = [...prefix, pgBin('psql'), '-h', pg.host, '-p', String(pg.port), '-U', pg.user, '-d', 'postgres', '-At', '-v', 'ON_ERROR_STOP=1', '-c', sql];
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`psql failed: ${r.stderr}`);
  return r.stdout.trim();
}

export type S3Server = { endPoint: string; accessKey: string; secretKey: string; region: string; stop(): Promise<void> };

/** s3rver in a child process on `directory` (kept: a cache folder survives between runs). */
export async function startS3(directory: string, opts: { host?: string; prefix?: string[]; buckets?: string[] } = {}): Promise<S3Server> {
  mkdirSync(directory, { recursive: true });
  const argv = [...(opts.prefix ?? []), process.execPath, '--import', 'tsx', join(import.meta.dirname, '..', 's3rver-process.ts'), directory, opts.host ?? '127.0.0.1'];
  const env = { ...process.env, S3RVER_BUCKETS: (opts.buckets ?? []).join(',') };
  const child = spawn(argv[0]!, argv.slice(1), { cwd: join(import.meta.dirname, '..', '..'), env, stdio: ['pipe', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`s3rver exited (${code})`)));
    createInterface({ input: child.stdout! }).once('line', (line) => resolve(JSON.parse(line).port));
  });
  return {
    endPoint: `http://${opts.host ?? '127.0.0.1'}:${port}`,
    accessKey: 'S3RVER',
    secretKey: 'S3RVER',
    region: 'us-east-1',
    stop: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.stdin!.end();
      }),
  };
}

export async function createBucket(s3: Omit<S3Server, 'stop'>, bucket: string): Promise<void> {
  const client = new S3Client({ endpoint: s3.endPoint, region: s3.region, forcePathStyle: true, credentials: { accessKeyId: s3.accessKey, secretAccessKey: s3.secretKey } });
  try {
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
  } catch (e) {
    if (!/BucketAlready/.test((e as Error).name)) throw e;
  } finally {
    client.destroy();
  }
}
