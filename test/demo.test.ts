/** The README's demo, end to end on the embedded default: row counts, files in storage, the ranking. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as wmill from '../src/index.js';
import { main } from '../examples/demo/pipeline.js';

const home = mkdtempSync(join(tmpdir(), 'millrace-demo-'));

beforeAll(async () => {
  process.env.MILLRACE_HOME = home;
  // Only what a machine without internet needs: where the provisioned DuckDB extensions are.
  await wmill.configure({ duckdb: { extensionDirectory: resolve(__dirname, '..', '.millrace', 'duckdb-extensions') } });
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
});
