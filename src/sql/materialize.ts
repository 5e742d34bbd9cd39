/** upsertPartition / appendPartition: windmill-client's DuckLake materializations, as SQL statements on ducklake(). */
import { MillraceError } from '../errors.js';
import { ducklake } from './ducklake.js';
import type { SqlStatement } from './statement.js';
import { raw } from './template.js';

/** Options of `upsertPartition` / `appendPartition`, as in windmill-client. */
export interface DucklakeMaterializeOptions {
  /** The lake (default "main"), optionally "name:schema". */
  ducklake?: string;
  /** Target table in the lake (trusted SQL text). */
  table: string;
  /** The SELECT producing this slice's rows (trusted SQL text). */
  selectSql: string;
  /** The partition value, bound as a parameter. Omit for a whole-table materialization. */
  partition?: string;
  /** With a key: upsert inside the slice (delete by key, insert); without: replace the slice. */
  uniqueKey?: string;
  /** The partition column (default "_wm_partition"). */
  partitionCol?: string;
}

function materializeParts(opts: DucklakeMaterializeOptions) {
  if (!opts || typeof opts.table !== 'string' || !opts.table || typeof opts.selectSql !== 'string' || !opts.selectSql.trim()) {
    throw new MillraceError('InvalidArgument', 'upsertPartition/appendPartition need { table, selectSql }');
  }
  const sql = ducklake(opts.ducklake ?? 'main');
  return {
    sql,
    t: raw(opts.table),
    body: raw(opts.selectSql),
    pcol: raw(opts.partitionCol ?? '_wm_partition'),
  };
}

/**
 * Materializes `selectSql` into a lake table for one partition (or the whole table), safe to re-run:
 * with `uniqueKey` it upserts the slice, otherwise it replaces it. Lazy: call `.execute()`.
 * @example
 * await upsertPartition({ table: 'daily', selectSql: 'SELECT * FROM events', partition: '2026-11-21', uniqueKey: 'id' }).execute();
 */
export function upsertPartition(opts: DucklakeMaterializeOptions): SqlStatement<any> {
  const { sql, t, body, pcol } = materializeParts(opts);
  const p = opts.partition;
  if (p === undefined) {
    if (opts.uniqueKey) {
      const uk = raw(opts.uniqueKey);
      return sql`CREATE TABLE IF NOT EXISTS ${t} AS SELECT * FROM (${body}) WHERE false;
BEGIN TRANSACTION;
DELETE FROM ${t} WHERE ${uk} IN (SELECT ${uk} FROM (${body}));
INSERT INTO ${t} SELECT * FROM (${body});
COMMIT;`;
    }
    return sql`CREATE OR REPLACE TABLE ${t} AS SELECT * FROM (${body});`;
  }
  const create = sql`CREATE TABLE IF NOT EXISTS ${t} AS SELECT *, CAST(NULL AS VARCHAR) AS ${pcol} FROM (${body}) WHERE false;
ALTER TABLE ${t} SET PARTITIONED BY (${pcol})`;
  if (opts.uniqueKey) {
    const uk = raw(opts.uniqueKey);
    return sql`${create};
BEGIN TRANSACTION;
DELETE FROM ${t} WHERE ${pcol} = ${p} AND ${uk} IN (SELECT ${uk} FROM (${body}));
INSERT INTO ${t} SELECT *, ${p} AS ${pcol} FROM (${body});
COMMIT;`;
  }
  return sql`${create};
BEGIN TRANSACTION;
DELETE FROM ${t} WHERE ${pcol} = ${p};
INSERT INTO ${t} SELECT *, ${p} AS ${pcol} FROM (${body});
COMMIT;`;
}

/**
 * Appends `selectSql`'s rows to a lake table (for one partition, or the whole table). Re-running
 * the same partition duplicates rows: for immutable event logs. Lazy: call `.execute()`.
 */
export function appendPartition(opts: Omit<DucklakeMaterializeOptions, 'uniqueKey'>): SqlStatement<any> {
  const { sql, t, body, pcol } = materializeParts(opts);
  if (opts.partition === undefined) {
    return sql`CREATE TABLE IF NOT EXISTS ${t} AS SELECT * FROM (${body}) WHERE false;
INSERT INTO ${t} SELECT * FROM (${body});`;
  }
  return sql`CREATE TABLE IF NOT EXISTS ${t} AS SELECT *, CAST(NULL AS VARCHAR) AS ${pcol} FROM (${body}) WHERE false;
ALTER TABLE ${t} SET PARTITIONED BY (${pcol});
INSERT INTO ${t} SELECT *, ${opts.partition} AS ${pcol} FROM (${body});`;
}
