/**
 * The TPC-DS pipeline's tasks, read from bench/tpcds/tasks/<n-stage>/<task>.sql, and the
 * checksum every runner computes the same way over a task's fetched rows.
 *
 * A task's `${source}` is the S3Object of its source table's Parquet file: millrace binds it
 * as an interpolated S3Object, the raw runner as a bound string parameter (its S3 URL).
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';

export type Task = {
  stage: string;
  name: string;
  /** The SQL text, `${source}` marking the one parameter of an ingest task. */
  sql: string;
  /** fetch: the rows come back to the worker (validate, query); exec: the task writes a table. */
  kind: 'fetch' | 'exec';
  /** The table an ingest task reads from S3 (its Parquet source). */
  source?: string;
  /** The table the task writes (exec tasks): checked across runs. */
  output?: string;
};

export type Stage = { name: string; tasks: Task[] };

const TASKS = join(import.meta.dirname, 'tasks');

export function loadStages(): Stage[] {
  return readdirSync(TASKS)
    .sort()
    .map((dir) => {
      const stage = dir.replace(/^\d+-/, '');
      const tasks = readdirSync(join(TASKS, dir))
        .filter((f) => f.endsWith('.sql'))
        .sort()
        .map((f): Task => {
          const name = basename(f, '.sql');
          const sql = readFileSync(join(TASKS, dir, f), 'utf8');
          const fetch = stage === 'validate' || stage === 'query';
          return {
            stage,
            name,
            sql,
            kind: fetch ? 'fetch' : 'exec',
            ...(stage === 'ingest' ? { source: name } : {}),
            ...(fetch ? {} : { output: name }),
          };
        });
      return { name: stage, tasks };
    });
}

/** The S3 key of a source table's Parquet file at a scale factor. */
export function sourceKey(sf: number, table: string): string {
  return `tpcds/sf${sf}/${table}.parquet`;
}

/** The SQL split around its `${source}` marker: template strings for millrace, or one `$1` for the raw side. */
export function splitSource(sql: string): string[] {
  return sql.split('${source}');
}

/**
 * One value as text that is the same whatever the client turned it into: numbers rounded to
 * 2 decimals (DuckDB's DECIMAL, a JS number, a bigint, a DOUBLE from avg() in any summation
 * order), dates as YYYY-MM-DD.
 */
export function normalize(v: unknown): string {
  if (v === null || v === undefined) return 'NULL';
  if (v instanceof Date) return v.toISOString().replace(/T00:00:00\.000Z$/, '');
  const s = typeof v === 'object' ? String(v) : String(v);
  if (/^-?\d+(\.\d+)?(e[-+]?\d+)?$/i.test(s)) return (Math.round(Number(s) * 100) / 100).toFixed(2);
  return s;
}

/** Row count and an order-insensitive checksum of rows given as arrays of values. */
export function checksum(rows: unknown[][]): { rows: number; checksum: string } {
  const lines = rows.map((r) => r.map(normalize).join('\u001f')).sort();
  const hash = createHash('sha256');
  for (const line of lines) hash.update(line + '\n');
  return { rows: rows.length, checksum: hash.digest('hex').slice(0, 16) };
}

/** The untimed check of a run's output table: its row count and DuckDB's hash of every row. */
export function outputCheckSql(table: string): string {
  return `SELECT count(*)::BIGINT AS n, coalesce(sum(hash(t)), 0)::VARCHAR AS h FROM ${table} t`;
}
