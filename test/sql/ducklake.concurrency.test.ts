/**
 * Four processes write into one lake with a PostgreSQL catalog at the same time: DuckLake's
 * commit retries (ducklake_max_retry_count, ducklake_retry_wait_ms, ducklake_retry_backoff)
 * resolve the conflicts and no row is lost or doubled.
 */
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { configure, close, ducklake, type MillraceConfig } from '../../src/index.js';
import { ensureExtensions, freshHome, pgCatalog } from '../helpers/ducklake.js';
import { freshDatabase } from '../setup/pgdb.js';

const home = freshHome('dlconc');
let config: MillraceConfig;

beforeAll(async () => {
  const url = await freshDatabase(inject('pgUrl'), 'millrace_dlconc');
  config = {
    storage: { type: 'fs', root: resolve(home, 'storage') },
    ducklakes: { shared: { catalog: pgCatalog(url), prefix: 'shared/' } },
    duckdb: {
      extensionDirectory: await ensureExtensions(),
      // Four writers committing in a tight loop: more and quicker retries than DuckLake's defaults (10, 100 ms, x1.5).
      settings: { ducklake_max_retry_count: 100, ducklake_retry_wait_ms: 20, ducklake_retry_backoff: 1.2, threads: 1 },
    },
  };
  await configure(config);
  await ducklake('shared')`CREATE TABLE hits (writer INTEGER NOT NULL, i INTEGER NOT NULL)`.execute();
});
afterAll(() => close());

function writer(n: number, rows: number): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, ['--import', 'tsx', resolve(__dirname, '..', 'helpers', 'ducklake-writer.ts'), String(n), String(rows)], {
      env: { ...process.env, MILLRACE_HOME: home, LAKE_CONFIG: JSON.stringify(config) },
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('close', (code) => done({ code, out, err }));
  });
}

describe('concurrent writers', () => {
  it('4 processes x 250 inserts into one lake end with exactly 1,000 rows', async () => {
    const results = await Promise.all([0, 1, 2, 3].map((n) => writer(n, 250)));
    for (const r of results) expect(r.code, r.err).toBe(0);
    const sql = ducklake('shared');
    expect(await sql`SELECT count(*) FROM hits`.fetchOneScalar()).toBe(1000);
    const perWriter = await sql`SELECT writer, count(*) AS n, count(DISTINCT i) AS d FROM hits GROUP BY writer ORDER BY writer`.fetch();
    expect(perWriter).toEqual([0, 1, 2, 3].map((w) => ({ writer: w, n: 250, d: 250 })));
    // Every insert was its own commit: one snapshot each, on top of the two before (schema, table).
    expect(await sql`SELECT count(*) FROM lake_shared.snapshots()`.fetchOneScalar()).toBe(1002);
  }, 300_000);
});
