/**
 * The pipeline's source data: DuckDB's `tpcds` extension generates the 24 tables (`CALL dsdgen`),
 * each is written once as a Parquet file to S3 with millrace's `writeS3File`, and the 10 queries'
 * reference results (row counts and checksums, plain DuckDB on the generated tables) are kept
 * beside them. Both are cached: a second run at the same scale factor only checks the marker.
 */
import { spawnSync } from 'node:child_process';
import { createReadStream, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checksum, sourceKey, type Stage } from './tasks.js';

export type Reference = Record<string, { rows: number; checksum: string }>;

type S3 = { endPoint: string; accessKey: string; secretKey: string; region: string };

export async function ensureSources(opts: { sf: number; s3: S3; bucket: string; cacheDir: string; extensionDirectory: string; stages: Stage[]; log?: (s: string) => void }): Promise<Reference> {
  const { sf, cacheDir, log = () => {} } = opts;
  const refFile = join(cacheDir, `reference-sf${sf}.json`);
  const wmill = await import('../../src/index.js');
  await wmill.configure({
    storage: { type: 's3', bucket: opts.bucket, endPoint: opts.s3.endPoint, region: opts.s3.region, accessKey: opts.s3.accessKey, secretKey: opts.s3.secretKey, pathStyle: true },
  });
  const marker = `s3:///tpcds/sf${sf}/_complete` as const;
  try {
    if (existsSync(refFile) && (await wmill.statS3File(marker))) {
      log(`sources: cached (sf ${sf})`);
      return JSON.parse(readFileSync(refFile, 'utf8')) as Reference;
    }
    const api = await import('@duckdb/node-api');
    const instance = await api.DuckDBInstance.create(':memory:', { extension_directory: opts.extensionDirectory, autoinstall_known_extensions: 'false' });
    const conn = await instance.connect();
    const tmp = mkdtempSync(join(tmpdir(), 'millrace-tpcds-gen-'));
    try {
      await loadTpcds(conn, opts.extensionDirectory);
      let t0 = performance.now();
      await conn.run(`CALL dsdgen(sf=${Number(sf)})`);
      log(`dsdgen(sf=${sf}): ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      t0 = performance.now();
      const tables = opts.stages.find((s) => s.name === 'ingest')!.tasks.map((t) => t.source!);
      for (const table of tables) {
        const file = join(tmp, `${table}.parquet`);
        await conn.run(`COPY ${table} TO '${file}' (FORMAT parquet)`);
        await wmill.writeS3File(`s3:///${sourceKey(sf, table)}`, createReadStream(file), undefined, 'application/vnd.apache.parquet');
        rmSync(file);
      }
      log(`24 Parquet files written to S3 with writeS3File: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      const reference: Reference = {};
      for (const task of opts.stages.find((s) => s.name === 'query')!.tasks) {
        reference[`query/${task.name}`] = checksum((await conn.runAndReadAll(task.sql)).getRowsJS());
      }
      writeFileSync(refFile, JSON.stringify(reference, null, 2));
      await wmill.writeS3File(marker, new Date().toISOString());
      return reference;
    } finally {
      conn.closeSync();
      instance.closeSync();
      rmSync(tmp, { recursive: true, force: true });
    }
  } finally {
    await wmill.close();
  }
}

/** LOAD tpcds, provisioning its wheel from PyPI into the extension folder first if it is not there. */
export async function loadTpcds(conn: { run(sql: string): Promise<unknown> }, dir: string): Promise<void> {
  try {
    await conn.run('LOAD tpcds');
    return;
  } catch {
    // Not provisioned yet: the extensions script fetches it like the others.
  }
  const script = join(import.meta.dirname, '..', '..', 'scripts', 'duckdb-extensions.mjs');
  const r = spawnSync(process.execPath, [script, '--dir', dir, '--only', 'tpcds', '--quiet'], { encoding: 'utf8' });
  if (r.status !== 0) {
    throw new Error(`the tpcds extension is not in ${dir} and could not be provisioned (${r.stderr.trim()}); ` +
      `put DuckDB's tpcds.duckdb_extension there (PyPI wheel duckdb-extension-tpcds, same version as DuckDB)`);
  }
  await conn.run('LOAD tpcds');
}
