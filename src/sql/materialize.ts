/** upsertPartition / appendPartition: windmill-client's DuckLake materializations, as SQL statements on ducklake(). */
import { MillraceError } from '../errors.js';
import { duckdbDialect } from './duckdb/dialect.js';
import { ducklake } from './ducklake.js';
import type { SqlStatement } from './statement.js';
import { quoteIdent, raw } from './template.js';

/** Options of `upsertPartition` / `appendPartition`, as in windmill-client. */
export interface DucklakeMaterializeOptions {
  /** The lake (default "main"), optionally "name:schema". */
  ducklake?: string;
  /** Target table: `name`, `schema.name` or `catalog.schema.name`, validated and quoted (parts may come `"double-quoted"`). */
  table: string;
  /** The SELECT producing this slice's rows: trusted SQL text, inlined as written (as in windmill-client). */
  selectSql: string;
  /** The partition value, bound as a parameter. Omit for a whole-table materialization. */
  partition?: string;
  /** A column: with it, upsert inside the slice (delete by key, insert); without: replace the slice. Validated and quoted. */
  uniqueKey?: string;
  /** The partition column (default "_wm_partition"). Validated and quoted. */
  partitionCol?: string;
}

function materializeParts(opts: DucklakeMaterializeOptions, withKey: boolean) {
  if (!opts || typeof opts.table !== 'string' || !opts.table || typeof opts.selectSql !== 'string' || !opts.selectSql.trim()) {
    throw new MillraceError('InvalidArgument', 'upsertPartition/appendPartition need { table, selectSql }');
  }
  // Names are validated before anything else, so a hostile one never reaches the engine.
  const t = raw(identifier('table', opts.table, 3));
  const pcol = raw(identifier('partitionCol', opts.partitionCol ?? '_wm_partition', 1));
  const uk = withKey && opts.uniqueKey ? raw(identifier('uniqueKey', opts.uniqueKey, 1)) : undefined;
  // The partition column holds the partition, a string: its type is the one DuckDB binds a string as.
  const ptype = raw(duckdbDialect.typeName('TEXT'));
  return { sql: ducklake(opts.ducklake ?? 'main'), t, pcol, uk, ptype, body: raw(opts.selectSql) };
}

/** A plain name part (what windmill-client's users write unquoted) or a double-quoted one. */
const PART = /(?:[\p{L}_][\p{L}\p{N}_$]*|"(?:[^"\0]|"")+")/uy;

/**
 * `name`, `schema.name` (up to `maxParts` dot-separated parts), each part plain or double-quoted, as
 * SQL with every part quoted. DuckDB matches identifiers case-insensitively, quoted or not, so an
 * ordinary name resolves exactly as windmill-client's inlined text did.
 */
function identifier(option: string, text: unknown, maxParts: number): string {
  const parts: string[] = [];
  let at = 0;
  while (typeof text === 'string') {
    PART.lastIndex = at;
    const m = PART.exec(text);
    if (!m) break;
    parts.push(m[0].startsWith('"') ? m[0] : quoteIdent(m[0]));
    at = PART.lastIndex;
    if (at === text.length && parts.length <= maxParts) return parts.join('.');
    if (text[at] !== '.') break;
    at++;
  }
  const shape = maxParts > 1 ? 'name, schema.name or catalog.schema.name' : 'a column name';
  throw new MillraceError('InvalidArgument', `upsertPartition/appendPartition: ${option} must be ${shape} (letters, digits, _ and $, or "double-quoted"); got ${JSON.stringify(text)}`);
}

/**
 * Materializes `selectSql` into a lake table for one partition (or the whole table), safe to re-run:
 * with `uniqueKey` it upserts the slice, otherwise it replaces it. Lazy: call `.execute()`.
 * `table`, `uniqueKey` and `partitionCol` are identifiers (validated, quoted; `InvalidArgument`
 * otherwise); `selectSql` is trusted SQL text, inlined as written, as in windmill-client.
 * @example
 * await upsertPartition({ table: 'daily', selectSql: 'SELECT * FROM events', partition: '2026-11-21', uniqueKey: 'id' }).execute();
 */
export function upsertPartition(opts: DucklakeMaterializeOptions): SqlStatement<any> {
  const { sql, t, body, pcol, uk, ptype } = materializeParts(opts, true);
  const p = opts.partition;
  if (p === undefined) {
    if (uk) {
      return sql`CREATE TABLE IF NOT EXISTS ${t} AS SELECT * FROM (${body}) WHERE false;
BEGIN TRANSACTION;
DELETE FROM ${t} WHERE ${uk} IN (SELECT ${uk} FROM (${body}));
INSERT INTO ${t} SELECT * FROM (${body});
COMMIT;`;
    }
    return sql`CREATE OR REPLACE TABLE ${t} AS SELECT * FROM (${body});`;
  }
  const create = sql`CREATE TABLE IF NOT EXISTS ${t} AS SELECT *, CAST(NULL AS ${ptype}) AS ${pcol} FROM (${body}) WHERE false;
ALTER TABLE ${t} SET PARTITIONED BY (${pcol})`;
  if (uk) {
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
  const { sql, t, body, pcol, ptype } = materializeParts(opts, false);
  if (opts.partition === undefined) {
    return sql`CREATE TABLE IF NOT EXISTS ${t} AS SELECT * FROM (${body}) WHERE false;
INSERT INTO ${t} SELECT * FROM (${body});`;
  }
  return sql`CREATE TABLE IF NOT EXISTS ${t} AS SELECT *, CAST(NULL AS ${ptype}) AS ${pcol} FROM (${body}) WHERE false;
ALTER TABLE ${t} SET PARTITIONED BY (${pcol});
INSERT INTO ${t} SELECT *, ${opts.partition} AS ${pcol} FROM (${body});`;
}
