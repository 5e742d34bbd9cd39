/** Child-process scenarios for test/sql/ducklake.test.ts: each prints one JSON line with what happened. */
import { mkdtempSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const scenario = process.argv[2];
const print = (x: unknown) => process.stdout.write(JSON.stringify(x) + '\n');
const failure = (e: unknown) => ({ code: (e as { code?: string }).code, message: (e as Error).message, cause: String((e as Error).cause) });

const wmill = await import('../../src/index.js');

if (scenario === 'import-only') {
  const loaded = Object.keys(createRequire(import.meta.url).cache).some((k) => k.includes('@duckdb'));
  print({ duckdbLoaded: loaded });
} else if (scenario === 'missing-extension') {
  await wmill.configure({ duckdb: { extensionDirectory: mkdtempSync(join(tmpdir(), 'empty-ext-')) } });
  try {
    await wmill.ducklake()`SELECT 1`.fetch();
    print({ code: 'none' });
  } catch (e) {
    print(failure(e));
  }
} else if (scenario === 'unreachable-catalog') {
  await wmill.configure({
    ducklakes: { far: { catalog: { type: 'postgresql', host: '127.0.0.1', port: 9, user: 'u', password: 's3cr3t-pw', dbname: 'd' } } },
    duckdb: { extensionDirectory: process.env.EXT_DIR },
  });
  try {
    await wmill.ducklake('far')`SELECT 1`.fetch();
    print({ code: 'none' });
  } catch (e) {
    print(failure(e));
  }
} else if (scenario === 'credential-chain') {
  // An S3 storage with no keys in the config: DuckDB (and the AWS SDK) take them from the environment.
  await wmill.configure({
    storage: { type: 's3', bucket: process.env.BUCKET!, endPoint: process.env.S3_ENDPOINT!, pathStyle: true },
    duckdb: { extensionDirectory: process.env.EXT_DIR },
  });
  try {
    const sql = wmill.ducklake();
    const file = { s3: 'chain/n.parquet' };
    await sql`COPY (SELECT 42 AS n) TO ${file} (FORMAT parquet)`.execute();
    const n = await sql`SELECT n FROM read_parquet(${file})`.fetchOneScalar();
    const stored = (await wmill.statS3File(file))?.size ?? 0;
    print({ n, stored });
  } catch (e) {
    print(failure(e));
  }
  await wmill.close();
} else if (scenario === 'no-close') {
  // No close(): the process must still exit on its own.
  await wmill.configure({ duckdb: { extensionDirectory: process.env.EXT_DIR } });
  const sql = wmill.ducklake();
  await sql`CREATE TABLE t AS SELECT * FROM range(3)`.execute();
  print({ rows: await sql`SELECT count(*) FROM t`.fetchOneScalar() });
}
