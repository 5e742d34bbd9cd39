/**
 * A second S3 implementation for the tests: moto's server (PyPI `moto[server]`), which, unlike
 * s3rver, checks SigV4 signatures against its IAM users, lists multipart uploads and honours
 * conditional requests (If-Match). It runs from a venv under `.cache/moto-venv` (or
 * `$MILLRACE_TEST_CACHE/moto-venv`), installed here when missing; `.ci/run` installs it with
 * `npx tsx test/setup/moto.ts --install`. Without python3 the moto rows are skipped, saying why.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';
import type {} from 'vitest';
import { freePort } from './postgres.js';
import type { S3ServerInfo } from './servers.js';

export const MOTO_VERSION = '5.2.5';

declare module 'vitest' {
  export interface ProvidedContext {
    /** moto's S3 with signature checking on, or why it is not available. */
    moto: (S3ServerInfo & { available: true }) | { available: false; reason: string };
  }
}

const repo = resolve(fileURLToPath(new URL('../..', import.meta.url)));
export const venv = join(process.env.MILLRACE_TEST_CACHE ? resolve(process.env.MILLRACE_TEST_CACHE) : join(repo, '.cache'), 'moto-venv');
const server = join(venv, 'bin', 'moto_server');

/** Creates the venv and installs the pinned moto; returns why it could not, or undefined. */
export function installMoto(log: (line: string) => void = () => {}): string | undefined {
  if (existsSync(server)) return undefined;
  const python = ['python3', 'python'].find((p) => spawnSync(p, ['--version']).status === 0);
  if (!python) return 'python3 is not installed';
  log(`installing moto[server]==${MOTO_VERSION} into ${venv}`);
  const mk = spawnSync(python, ['-m', 'venv', venv], { encoding: 'utf8' });
  if (mk.status !== 0) return `python3 -m venv failed: ${(mk.stderr || mk.stdout).trim().split('\n').at(-1)}`;
  const pip = spawnSync(join(venv, 'bin', 'pip'), ['install', '--disable-pip-version-check', '-q', `moto[server]==${MOTO_VERSION}`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (pip.status !== 0 || !existsSync(server)) return `pip install moto[server]==${MOTO_VERSION} failed: ${(pip.stderr || pip.stdout).trim().split('\n').at(-1)}`;
  return undefined;
}

/**
 * An IAM query-API call. moto routes it by the credential scope of its Authorization header and
 * checks no signature yet (auth is switched on afterwards), so the header only names the service.
 */
async function iam(endpoint: string, params: Record<string, string>): Promise<string> {
  const res = await fetch(`${endpoint}/`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: 'AWS4-HMAC-SHA256 Credential=bootstrap/20260101/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=0',
    },
    body: new URLSearchParams({ ...params, Version: '2010-05-08' }).toString(),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`moto IAM ${params.Action} failed (${res.status}): ${text}`);
  return text;
}

async function waitUp(endpoint: string, child: ChildProcess): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) throw new Error(`moto_server exited with ${child.exitCode}`);
    try {
      if ((await fetch(`${endpoint}/moto-api/data.json`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('moto_server did not start within 30 s');
}

export default async function setup(project: TestProject) {
  const why = installMoto((line) => console.log(`[moto] ${line}`));
  if (why) {
    console.warn(`[moto] not available, its test rows are skipped: ${why}`);
    project.provide('moto', { available: false, reason: why });
    return;
  }
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const child = spawn(server, ['-H', '127.0.0.1', '-p', String(port)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => void (stderr = (stderr + d.toString()).slice(-4000)));
  try {
    await waitUp(endpoint, child);
    // One IAM user allowed everything on S3; then every request must carry its valid signature.
    await iam(endpoint, { Action: 'CreateUser', UserName: 'millrace-test' });
    await iam(endpoint, {
      Action: 'PutUserPolicy', UserName: 'millrace-test', PolicyName: 's3',
      PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:*', Resource: '*' }] }),
    });
    const xml = await iam(endpoint, { Action: 'CreateAccessKey', UserName: 'millrace-test' });
    const accessKey = /<AccessKeyId>([^<]+)</.exec(xml)?.[1];
    const secretKey = /<SecretAccessKey>([^<]+)</.exec(xml)?.[1];
    if (!accessKey || !secretKey) throw new Error(`moto CreateAccessKey answered without a key: ${xml}`);
    const auth = await fetch(`${endpoint}/moto-api/reset-auth`, { method: 'POST', body: '0' });
    if (!auth.ok) throw new Error(`moto reset-auth failed (${auth.status})`);
    project.provide('moto', { available: true, endPoint: endpoint, accessKey, secretKey, region: 'us-east-1' });
  } catch (e) {
    child.kill('SIGKILL');
    throw new Error(`moto_server failed to start: ${(e as Error).message}\n${stderr}`);
  }
  return async () => {
    if (child.exitCode !== null) return;
    child.kill('SIGTERM');
    await new Promise((r) => { child.once('exit', r); setTimeout(r, 3000); });
  };
}

// `npx tsx test/setup/moto.ts --install`: what CI runs before the tests.
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url) && process.argv.includes('--install')) {
  const why = installMoto(console.log);
  console.log(why ? `moto not installed: ${why}` : `moto ${MOTO_VERSION} ready in ${venv}`);
  process.exit(why ? 1 : 0);
}
