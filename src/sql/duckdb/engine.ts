/**
 * The DuckDB engine for DuckLakes: each lake is attached once to the process's DuckDB (as
 * `lake_<name>`) with its data in a millrace storage; every schema gets its own connection so
 * `USE` never leaks between callers.
 */
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { getConfig } from '../../config.js';
import { MillraceError, sanitizedCause, scrub } from '../../errors.js';
import type { CompiledSql, Engine, Row, RunContext, SqlDriver, StreamOptions } from '../engine.js';
import { quoteIdent } from '../template.js';
import { catalogTarget, type DucklakeConfig } from './config.js';
import { duckdbDialect } from './dialect.js';
import { DuckDBEngine } from './driver.js';
import { SessionPool } from './pool.js';
import { getDuckDB, sqlLiteral, type DuckDB } from './instance.js';
import { storageAccess } from './storage-access.js';

/** DuckLake's commit retries when the config sets none (see the README, Concurrent writers). */
const COMMIT_RETRIES = { ducklake_max_retry_count: 100, ducklake_retry_wait_ms: 20, ducklake_retry_backoff: 1.2 };

/** The DuckDB catalog name a lake is attached as: `lake_main`, `lake_<name>`. */
export function lakeAlias(name: string): string {
  return `lake_${name}`;
}

export const duckdbEngine: Engine<DucklakeConfig> = {
  dialect: duckdbDialect,
  async open(lake, _label, name) {
    const db = await getDuckDB();
    await attach(db, name, lake);
    const driver = new LakeDriver(db, name);
    // Connections also close with the instance (the process's DuckDB, see instance.ts).
    return { driver, close: async () => driver.close() };
  },
};

/** A lake's connections: a small pool per schema, so concurrent statements run at the same time. */
class LakeDriver implements SqlDriver {
  readonly #pools = new Map<string, SessionPool<DuckDBEngine>>();

  constructor(
    readonly db: DuckDB,
    readonly name: string,
  ) {}

  run(statements: CompiledSql[], ctx: RunContext): Promise<Row[][]> {
    return this.pool(ctx.schema).use((s) => s.run(statements, ctx.signal));
  }

  /** A connection of the pool for the stream alone, given back when it ends or the caller stops reading. */
  async *stream(statement: CompiledSql, ctx: RunContext, options: StreamOptions): AsyncGenerator<Row[]> {
    const pool = this.pool(ctx.schema);
    const session = await pool.acquire();
    try {
      yield* session.stream(statement, { ...options, signal: ctx.signal });
    } finally {
      pool.release(session);
    }
  }

  pool(schema: string | undefined): SessionPool<DuckDBEngine> {
    const key = schema ?? '';
    let pool = this.#pools.get(key);
    if (!pool) {
      pool = new SessionPool(() => this.session(schema));
      this.#pools.set(key, pool);
    }
    return pool;
  }

  /** One connection set up for this lake and schema: everything a connection needs before a user statement runs on it. */
  async session(schema: string | undefined): Promise<DuckDBEngine> {
    const conn = await this.db.connect();
    const use = quoteIdent(lakeAlias(this.name)) + (schema ? `.${quoteIdent(schema)}` : '');
    try {
      await conn.exec(`USE ${use}`);
    } catch (e) {
      conn.close();
      throw e;
    }
    return new DuckDBEngine(conn);
  }

  close(): void {
    for (const pool of this.#pools.values()) pool.close();
    this.#pools.clear();
  }
}

/** The storage URL of a key prefix (a folder), e.g. `s3://bucket/ducklake/main/`. */
function folderUrl(url: (key: string) => string, prefix: string): string {
  // Backends give URLs of keys, not folders: take the URL of a key inside the folder and drop its name.
  const probe = url(`${prefix}_`);
  return probe.slice(0, -1);
}

async function attach(db: DuckDB, name: string, lake: DucklakeConfig): Promise<void> {
  const { duckdb } = getConfig();
  await db.loadExtension('ducklake');
  await db.applySettings(duckdb.settings);
  // Statements of one process commit concurrently (the pool), and conflicting commits are retried by DuckLake:
  // its default of 10 quick retries runs out under a few hundred concurrent inserts. The user's settings win.
  await db.applySettings(Object.fromEntries(Object.entries(COMMIT_RETRIES).filter(([k]) => duckdb.settings?.[k] === undefined)));
  const { target, extension, secrets } = catalogTarget(lake.catalog);
  if (extension) await db.loadExtension(extension);
  if (lake.catalog.type !== 'postgresql') await mkdir(dirname(lake.catalog.path), { recursive: true });
  const access = await storageAccess(db, lake.storage);
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
