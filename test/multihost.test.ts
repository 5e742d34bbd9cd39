/**
 * Past one machine: PostgreSQL (the lake's catalog) and an S3 server on one network-namespace
 * "host", 3 millrace worker processes on 3 others, linked by veth pairs with addresses in private
 * /30s that exist only inside these namespaces. Nothing here leaves the namespaces the test makes.
 * Needs root and iproute2 (`ip netns`); skipped, saying why, where they are missing.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureSources, type Reference } from '../bench/tpcds/data.js';
import type { LakeSpec } from '../bench/tpcds/lane.js';
import { WorkerLane, openLanes, runPipeline } from '../bench/tpcds/pipeline.js';
import { psql, startPostgres, startS3, type Postgres, type S3Server } from '../bench/tpcds/servers.js';
import { loadStages, type Task } from '../bench/tpcds/tasks.js';
import { ensureExtensions } from './helpers/ducklake.js';

const tag = `mr${process.pid % 100000}`;
const HUB = `${tag}h`;
const WORKERS = [1, 2, 3].map((i) => `${tag}w${i}`);
// The servers' address: the hub's end of the first link. Workers 2 and 3 reach it through their own link's hub end.
const SERVER = '10.213.1.1';

function ip(...args: string[]): { ok: boolean; err: string } {
  const r = spawnSync('ip', args, { encoding: 'utf8' });
  return { ok: r.status === 0, err: r.error ? r.error.message : r.stderr.trim() };
}

/** Why the test cannot run here, or undefined. */
function cannotRun(): string | undefined {
  if (process.platform !== 'linux') return 'network namespaces are Linux only';
  if (process.getuid?.() !== 0) return 'creating network namespaces needs root';
  const probe = ip('netns', 'add', `${tag}p`);
  if (!probe.ok) return `cannot create a network namespace (\`ip netns add\`: ${probe.err})`;
  ip('netns', 'del', `${tag}p`);
  return undefined;
}

const reason = cannotRun();
if (reason) console.warn(`test/multihost.test.ts skipped: ${reason}`);

function setupNetwork(): void {
  const must = (...args: string[]) => {
    const r = ip(...args);
    if (!r.ok) throw new Error(`ip ${args.join(' ')}: ${r.err}`);
  };
  for (const ns of [HUB, ...WORKERS]) {
    must('netns', 'add', ns);
    must('-n', ns, 'link', 'set', 'lo', 'up');
  }
  WORKERS.forEach((ns, k) => {
    const i = k + 1;
    const [hubEnd, workerEnd] = [`${tag}h${i}`, `${tag}x${i}`];
    // Created inside the hub namespace and moved: no interface of ours ever sits in the host's namespace.
    must('-n', HUB, 'link', 'add', hubEnd, 'type', 'veth', 'peer', 'name', workerEnd);
    must('-n', HUB, 'link', 'set', workerEnd, 'netns', ns);
    must('-n', HUB, 'addr', 'add', `10.213.${i}.1/30`, 'dev', hubEnd);
    must('-n', HUB, 'link', 'set', hubEnd, 'up');
    must('-n', ns, 'addr', 'add', `10.213.${i}.2/30`, 'dev', workerEnd);
    must('-n', ns, 'link', 'set', workerEnd, 'up');
    if (i > 1) must('-n', ns, 'route', 'add', `${SERVER}/32`, 'via', `10.213.${i}.1`);
  });
}

function teardownNetwork(): void {
  for (const ns of [HUB, ...WORKERS]) {
    // Whatever of ours still runs there (a worker that did not exit) goes first.
    const pids = spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' }).stdout.split(/\s+/).filter(Boolean);
    for (const pid of pids) spawnSync('kill', ['-9', pid]);
    ip('netns', 'del', ns);
  }
}

describe.skipIf(reason !== undefined)('a lake shared by workers on three hosts (network namespaces)', () => {
  const exec = (ns: string) => ['ip', 'netns', 'exec', ns];
  const dir = mkdtempSync(join(tmpdir(), 'millrace-multihost-'));
  let pg: Postgres;
  let s3: S3Server;
  let extensionDirectory: string;
  let reference: Reference;
  const sf = 0.01;
  const spec = (dbname: string): LakeSpec => ({
    pg: { host: SERVER, port: 5432, user: 'postgres', dbname },
    s3: { endPoint: s3.endPoint, accessKey: s3.accessKey, secretKey: s3.secretKey, region: s3.region },
    sourceBucket: 'sources', lakeBucket: 'lake', prefix: `${dbname}/`, sf, extensionDirectory,
  });

  beforeAll(async () => {
    extensionDirectory = await ensureExtensions();
    // The sources are generated once through a loopback s3rver on the folder the hub's server then serves.
    const local = await startS3(join(dir, 's3'), { buckets: ['sources', 'lake'] });
    try {
      reference = await ensureSources({ sf, s3: local, bucket: 'sources', cacheDir: dir, extensionDirectory: resolve(extensionDirectory), stages: loadStages() });
    } finally {
      await local.stop();
    }
    setupNetwork();
    pg = await startPostgres({ host: SERVER, port: 5432, prefix: exec(HUB), clients: '10.213.0.0/16' });
    s3 = await startS3(join(dir, 's3'), { host: SERVER, prefix: exec(HUB), buckets: ['sources', 'lake'] });
    for (const db of ['inserts', 'pipeline']) psql(pg, `CREATE DATABASE ${db}`, exec(HUB));
  }, 600_000);

  afterAll(async () => {
    await s3?.stop().catch(() => undefined);
    try {
      pg?.stop();
    } finally {
      teardownNetwork();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('3 x 300 concurrent inserts from 3 hosts give 900 rows', async () => {
    const lake = spec('inserts');
    const { lanes, close } = await openLanes('millrace', lake, 3, 'processes', WORKERS.map(exec));
    try {
      const workers = lanes as WorkerLane[];
      const create: Task = { stage: 'setup', name: 'hits', sql: 'CREATE TABLE hits (worker INTEGER, i INTEGER)', kind: 'exec' };
      await workers[0]!.run(create);
      await Promise.all(workers.map((w, k) => w.request({ insert: [k + 1, 300] })));
      const [n, distinct] = await workers[2]!.check('hits', 'SELECT count(*) AS n, count(DISTINCT (worker, i)) AS h FROM hits');
      expect([n, distinct]).toEqual(['900', '900']);
    } finally {
      await close();
    }
  }, 600_000);

  it('the TPC-DS pipeline spread over the 3 hosts gives the reference results', async () => {
    const { lanes, close } = await openLanes('millrace', spec('pipeline'), 3, 'processes', WORKERS.map(exec));
    try {
      const { results } = await runPipeline(loadStages(), lanes);
      const queries = Object.fromEntries(Object.entries(results).filter(([k]) => k.startsWith('query/')).map(([k, v]) => [k, { rows: v.rows, checksum: v.checksum }]));
      expect(Object.keys(queries)).toHaveLength(10);
      expect(queries).toEqual(reference);
    } finally {
      await close();
    }
  }, 600_000);
});
