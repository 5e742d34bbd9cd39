/**
 * ducklake(): windmill-client's DuckLake API on the process's DuckDB. Each configured lake is
 * attached once (as `lake_<name>`) with its data in a millrace storage, and reused; every
 * `name:schema` gets its own connection so `USE` never leaks between callers.
 */
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { getConfig, onConfigChange, type CatalogConfig, type DucklakeConfig } from '../config.js';
import { MillraceError, sanitizedCause, scrub } from '../errors.js';
import { onClose } from '../lifecycle.js';
import { Connection, DuckDBEngine, getDuckDB, onDuckDBClose, sqlLiteral, type DuckDB } from './duckdb.js';
import { parseName, templateFunction, type SqlStatement, type SqlTemplateFunction, type Row } from './statement.js';
import { duckdbDialect, quoteIdent, raw } from './template.js';

/** The DuckDB catalog name a lake is attached as: `lake_main`, `lake_<name>`. */
export function lakeAlias(name: string): string {
  return `lake_${name}`;
}

const attached = new Map<string, Promise<void>>();
const engines = new Map<string, Promise<DuckDBEngine>>();

function forget(): void {
  attached.clear();
  engines.clear();
}
onDuckDBClose(forget);
onConfigChange(forget);
onClose(async () => forget());

function lakeConfig(name: string): DucklakeConfig {
  const lakes = getConfig().ducklakes;
  const lake = lakes[name];
  if (!lake) {
    throw new MillraceError('Config', `Unknown ducklake ${JSON.stringify(name)}; configured ducklakes: ${Object.keys(lakes).join(', ')}`);
  }
  return lake;
}

/** The ATTACH target for a catalog; passwords stay out of any error (see `scrub`). */
function catalogTarget(catalog: CatalogConfig): { target: string; extension?: 'postgres_scanner' | 'sqlite_scanner'; secrets: unknown[] } {
  switch (catalog.type) {
    case 'duckdb':
      return { target: `ducklake:${catalog.path}`, secrets: [] };
    case 'sqlite':
      return { target: `ducklake:sqlite:${catalog.path}`, extension: 'sqlite_scanner', secrets: [] };
    case 'postgresql': {
      if ('url' in catalog) return { target: `ducklake:postgres:${catalog.url}`, extension: 'postgres_scanner', secrets: [catalog.url] };
      const c = catalog as Exclude<CatalogConfig, { url: string } | { path: string }>;
      const kv: Record<string, string | number | undefined> = {
        host: c.host, port: c.port, user: c.user, password: c.password, dbname: c.dbname, sslmode: c.sslmode,
        // An unreachable catalog must fail, not hang.
        connect_timeout: 10,
      };
      const conninfo = Object.entries(kv)
        .filter(([, v]) => v !== undefined && v !== '')
        .map(([k, v]) => `${k}=${libpqValue(String(v))}`)
        .join(' ');
      return { target: `ducklake:postgres:${conninfo}`, extension: 'postgres_scanner', secrets: [c.password] };
    }
  }
}

/** libpq conninfo quoting: single quotes, with `\` and `'` escaped by a backslash. */
function libpqValue(v: string): string {
  return /^[A-Za-z0-9_.\-/:@]+$/.test(v) ? v : `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** The storage URL of a key prefix (a folder), e.g. `s3://bucket/ducklake/main/`. */
function folderUrl(url: (key: string) => string, prefix: string): string {
  // Backends give URLs of keys, not folders: take the URL of a key inside the folder and drop its name.
  const probe = url(`${prefix}_`);
  return probe.slice(0, -1);
}

async function attach(db: DuckDB, name: string): Promise<void> {
  const lake = lakeConfig(name);
  const { duckdb } = getConfig();
  await db.loadExtension('ducklake');
  await db.applySettings(duckdb.settings);
  const { target, extension, secrets } = catalogTarget(lake.catalog);
  if (extension) await db.loadExtension(extension);
  if (lake.catalog.type !== 'postgresql') await mkdir(dirname(lake.catalog.path), { recursive: true });
  const access = await db.storageAccess(lake.storage);
  let prefix = lake.prefix ?? '';
  if (prefix && !prefix.endsWith('/')) prefix += '/';
  const dataPath = folderUrl(access.url, prefix);
  const options = [`DATA_PATH ${sqlLiteral(dataPath)}`];
  // Every insert writes Parquet files unless the user asked for DuckLake's data inlining.
  if (duckdb.settings?.ducklake_default_data_inlining_row_limit === undefined) options.push('DATA_INLINING_ROW_LIMIT 0');
  const sql = `ATTACH IF NOT EXISTS ${sqlLiteral(target)} AS ${quoteIdent(lakeAlias(name))} (${options.join(', ')})`;
  try {
    await db.admin(sql);
  } catch (e) {
    const err = e as MillraceError;
    const message = scrub(err.message, secrets);
    const where = `ducklakes.${name}.catalog (${lake.catalog.type})`;
    const connection = err.code === 'Connection' || /connect|could not translate host|timeout|refused|unable to open|No such file/i.test(message);
    throw new MillraceError(connection ? 'Connection' : err.code === 'ExtensionMissing' ? 'ExtensionMissing' : 'Sql', `Cannot attach ducklake ${JSON.stringify(name)} from ${where}: ${message}`, {
      cause: sanitizedCause(err.cause ?? e, (text) => scrub(text, secrets)),
    });
  }
}

/** The engine for `name[:schema]`: the lake attached once, a connection that has `USE`d it. */
function engineFor(name: string): Promise<DuckDBEngine> {
  const { name: lake, schema } = parseName(name);
  const key = `${lake}:${schema ?? ''}`;
  let p = engines.get(key);
  if (!p) {
    p = (async () => {
      lakeConfig(lake); // unknown names fail before anything starts
      const db = await getDuckDB();
      let a = attached.get(lake);
      if (!a) {
        a = attach(db, lake);
        a.catch(() => attached.delete(lake));
        attached.set(lake, a);
      }
      await a;
      const conn: Connection = await db.connect();
      const use = quoteIdent(lakeAlias(lake)) + (schema ? `.${quoteIdent(schema)}` : '');
      try {
        await conn.exec(`USE ${use}`);
      } catch (e) {
        conn.close();
        throw e;
      }
      return new DuckDBEngine(conn);
    })();
    p.catch(() => engines.delete(key));
    engines.set(key, p);
  }
  return p;
}

/**
 * SQL against a DuckLake: `ducklake()` is the lake `main`, `ducklake('lake2')` a configured lake,
 * `ducklake('lake2:analytics')` its schema `analytics`. Unqualified table names are in the lake.
 * @example
 * const sql = ducklake();
 * const friend = await sql`SELECT * FROM friend WHERE id = ${id}`.fetchOne();
 */
export function ducklake(name = 'main'): SqlTemplateFunction {
  return templateFunction(() => engineFor(name), duckdbDialect);
}

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
export function upsertPartition(opts: DucklakeMaterializeOptions): SqlStatement<Row> {
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
export function appendPartition(opts: Omit<DucklakeMaterializeOptions, 'uniqueKey'>): SqlStatement<Row> {
  const { sql, t, body, pcol } = materializeParts(opts);
  if (opts.partition === undefined) {
    return sql`CREATE TABLE IF NOT EXISTS ${t} AS SELECT * FROM (${body}) WHERE false;
INSERT INTO ${t} SELECT * FROM (${body});`;
  }
  return sql`CREATE TABLE IF NOT EXISTS ${t} AS SELECT *, CAST(NULL AS VARCHAR) AS ${pcol} FROM (${body}) WHERE false;
ALTER TABLE ${t} SET PARTITIONED BY (${pcol});
INSERT INTO ${t} SELECT *, ${opts.partition} AS ${pcol} FROM (${body});`;
}
