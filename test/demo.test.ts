/** The README's demo, end to end on the embedded default: row counts, files in storage, the ranking. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import * as wmill from '../src/index.js';
import { main } from '../examples/demo/pipeline.js';
import { s3Storage } from './helpers/storage.js';
import { freshDatabase } from './setup/pgdb.js';

const root = resolve(__dirname, '..');
const extensionDirectory = resolve(root, '.millrace', 'duckdb-extensions');

const home = mkdtempSync(join(tmpdir(), 'millrace-demo-'));

beforeAll(async () => {
  process.env.MILLRACE_HOME = home;
  // Only what a machine without internet needs: where the provisioned DuckDB extensions are.
  await wmill.configure({ duckdb: { extensionDirectory } });
});

afterAll(() => wmill.close());

describe('demo pipeline', () => {
  it('extracts, transforms, loads and serves on the embedded default', async () => {
    const result = await main(1200);

    expect(result.reviews).toBe(1200);
    expect(result.lakeRows).toBe(1200);
    expect(result.parquetRows).toBe(1200);
    expect(result.products).toBe(12);
    expect(result.top).toHaveLength(3);
    expect(result.bottom).toHaveLength(3);
    expect(result.top[0]!.avg_sentiment).toBeGreaterThan(result.bottom[0]!.avg_sentiment);

    // The files it reports are really in the default storage, under the embedded home.
    const raw = await wmill.statS3File(result.files.raw);
    const scored = await wmill.statS3File(result.files.scored);
    expect(raw?.size).toBeGreaterThan(0);
    expect(scored?.size).toBeGreaterThan(0);
    expect(wmill.getConfig().storage).toMatchObject({ type: 'fs', root: join(home, 'storage') });

    const reviews = JSON.parse(new TextDecoder().decode(await wmill.loadS3File(result.files.raw)));
    expect(reviews).toHaveLength(1200);

    // The lake wrote Parquet data files into the same storage.
    const lakeFiles: string[] = [];
    for await (const f of wmill.listS3Files({ prefix: 'ducklake/main/' })) lakeFiles.push(f.s3);
    expect(lakeFiles.some((k) => k.endsWith('.parquet'))).toBe(true);

    // The datatable holds the ranking that was printed.
    const stored = await wmill.datatable()`SELECT count(*)::int AS n FROM product_scores`.fetchOneScalar();
    expect(stored).toBe(12);
  });

  it('runs unchanged against real servers with MILLRACE_CONFIG: S3 files, PostgreSQL datatable and lake catalog', async () => {
    const storage = await s3Storage('demo');
    const config = {
      storage: { ...storage, accessKey: '$env:DEMO_S3_KEY', secretKey: '$env:DEMO_S3_SECRET' },
      datatables: { main: await freshDatabase(inject('pgUrl'), 'millrace_demo_dt') },
      ducklakes: { main: { catalog: { type: 'postgresql', url: await freshDatabase(inject('pgUrl'), 'millrace_demo_lake') }, prefix: 'lake/' } },
      duckdb: { extensionDirectory },
    };
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'examples/demo/pipeline.ts')], {
      cwd: root,
      encoding: 'utf8',
      timeout: 120_000,
      env: {
        ...process.env,
        MILLRACE_CONFIG: JSON.stringify(config),
        MILLRACE_HOME: mkdtempSync(join(tmpdir(), 'millrace-demo-home-')),
        DEMO_S3_KEY: storage.accessKey!,
        DEMO_S3_SECRET: storage.secretKey!,
      },
    });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/\[3\/5\] .* 3000 rows in the lake, 3000 rows in the Parquet file/);
    expect(r.stdout).toMatch(/Top products/);
    expect(r.stdout).not.toContain('the default storage is the folder');

    // What it produced is in the bucket: the raw JSON, the Parquet batch, and the lake's data files.
    await wmill.configure({ storage });
    const keys: string[] = [];
    for await (const f of wmill.listS3Files()) keys.push(f.s3);
    expect(keys.some((k) => /^demo\/.*\/reviews\.json$/.test(k))).toBe(true);
    expect(keys.some((k) => /^demo\/.*\/scored\.parquet$/.test(k))).toBe(true);
    expect(keys.some((k) => k.startsWith('lake/') && k.endsWith('.parquet'))).toBe(true);
  });
});
