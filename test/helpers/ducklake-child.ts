/** Child-process scenarios for test/ducklake.test.ts: each prints one JSON line with what happened. */
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
} else if (scenario === 'no-close') {
  // No close(): the process must still exit on its own.
  await wmill.configure({ duckdb: { extensionDirectory: process.env.EXT_DIR } });
  const sql = wmill.ducklake();
  await sql`CREATE TABLE t AS SELECT * FROM range(3)`.execute();
  print({ rows: await sql`SELECT count(*) FROM t`.fetchOneScalar() });
}
