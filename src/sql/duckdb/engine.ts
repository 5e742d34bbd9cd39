/**
 * The DuckDB engine for DuckLakes: each lake is attached once to the process's DuckDB (as
 * `lake_<name>`) with its data in a millrace storage, each datatable a text attaches as
 * `datatable_<name>`; every schema gets its own small pool of connections so `USE` never leaks
 * between callers.
 */
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { getConfig } from '../../config.js';
import { MillraceError, sanitizedCause, scrub } from '../../errors.js';
import { parseS3Object } from '../../s3object.js';
import { cache } from '../../runtime.js';
import type { CompiledSql, Engine, LibpqTarget, Row, RunContext, SqlDriver, StreamOptions } from '../engine.js';
import { quoteIdent } from '../template.js';
import { catalogTarget, type DucklakeConfig } from './config.js';
import { duckdbDialect } from './dialect.js';
import { DuckDBEngine } from './driver.js';
import type { ConventionsPlan } from './conventions.js';
import { SessionPool } from './pool.js';
import { getDuckDB, sqlLiteral, type Connection, type DuckDB } from './instance.js';
import { objectLocation, storageAccess } from './storage-access.js';

/** DuckLake's commit retries when the config sets none (see the README, Concurrent writers). */
const COMMIT_RETRIES = { ducklake_max_retry_count: 100, ducklake_retry_wait_ms: 20, ducklake_retry_backoff: 1.2 };

/** The DuckDB catalog name a lake is attached as: `lake_main`, `lake_<name>`. */
export function lakeAlias(name: string): string {
  return `lake_${name}`;
}

export const duckdbEngine: Engine<DucklakeConfig, LakeDriver> = {
  dialect: duckdbDialect,
  async open(lake, _label, name) {
    const db = await getDuckDB();
    await attach(db, name, lake);
    const driver = new LakeDriver(db, name);
    // Connections also close with the instance (the process's DuckDB, see instance.ts).
    return { driver, close: async () => driver.close() };
  },
};

/** A run of a lake's statements, with the conventions read from their text (see conventions.ts). */
export type LakeRunContext = RunContext & { conventions?: ConventionsPlan };

/** A lake's connections: a small pool per schema, so concurrent statements run at the same time. */
export class LakeDriver implements SqlDriver {
  readonly #pools = new Map<string, SessionPool<DuckDBEngine>>();

  constructor(
    readonly db: DuckDB,
    readonly name: string,
  ) {}

  run(statements: CompiledSql[], ctx: LakeRunContext): Promise<Row[][]> {
    if (ctx.conventions) return this.#runPlanned(statements, ctx, ctx.conventions);
    return this.pool(ctx.schema).use((s) => s.run(statements, ctx.signal));
  }

  /** A connection of the pool for the stream alone, given back when it ends or the caller stops reading. */
  async *stream(statement: CompiledSql, ctx: LakeRunContext, options: StreamOptions): AsyncGenerator<Row[]> {
    const plan = ctx.conventions;
    const s = plan ? (await this.#render([statement], plan))[0]! : statement;
    try {
      if (plan?.temporary) {
        const session = await this.session(ctx.schema);
        try {
          yield* session.stream(s, { ...options, signal: ctx.signal });
        } finally {
          session.close();
        }
        return;
      }
      const pool = this.pool(ctx.schema);
      const session = await pool.acquire();
      try {
        yield* session.stream(s, { ...options, signal: ctx.signal });
      } finally {
        if (plan?.uses) await session.connection.raw.run(useStatement(this.name, ctx.schema)).catch(() => undefined);
        pool.release(session);
      }
    } catch (e) {
      throw readOnlyDatatable(e);
    }
  }

  async #runPlanned(statements: CompiledSql[], ctx: LakeRunContext, plan: ConventionsPlan): Promise<Row[][]> {
    const rewritten = await this.#render(statements, plan);
    try {
      if (plan.temporary) {
        // Its temporary tables live as long as the text, as in Windmill, where each script has its own DuckDB.
        const session = await this.session(ctx.schema);
        try {
          return await session.run(rewritten, ctx.signal);
        } finally {
          session.close();
        }
      }
      const after = plan.uses ? useStatement(this.name, ctx.schema) : undefined;
      return await this.pool(ctx.schema).use((s) => s.run(rewritten, ctx.signal, after));
    } catch (e) {
      throw readOnlyDatatable(e);
    }
  }

  /** The statements with the conventions' rewriting applied (`'s3://storage/key'` literals as the storages' URLs). */
  async #render(statements: CompiledSql[], plan: ConventionsPlan): Promise<CompiledSql[]> {
    const urls: string[] = [];
    for (const o of plan.objects) urls.push(sqlLiteral(await objectLocation(this.db, parseS3Object(o.storage ? { s3: o.key, storage: o.storage } : { s3: o.key }))));
    const texts = plan.render(urls);
    return statements.map((s, i) => ({ text: texts[i]!, params: s.params }));
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

  /** One connection set up for this lake and schema (`setUp`): the pool's, or a text's own when it creates temporary tables. */
  async session(schema: string | undefined): Promise<DuckDBEngine> {
    const conn = await this.db.connect();
    try {
      await this.setUp(conn, schema);
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

  /**
   * Everything a new connection needs to run this lake's statements: the lake (and schema) as its
   * default catalog. Lakes and datatables a text ATTACHes are attached to the instance, not here.
   */
  async setUp(conn: Connection, schema: string | undefined): Promise<void> {
    try {
      await conn.exec(useStatement(this.name, schema));
    } catch (e) {
      const catalog = sqlLiteral(lakeAlias(this.name));
      const known = schema && (await this.db.admin(`SELECT 1 FROM duckdb_schemas() WHERE database_name = ${catalog} AND schema_name = ${sqlLiteral(schema)}`));
      if (known && known.length === 0) {
        throw new MillraceError('NotFound', `Schema ${JSON.stringify(schema)} does not exist in ducklake ${JSON.stringify(this.name)} (create it with CREATE SCHEMA first)`, { cause: e });
      }
      throw e;
    }
  }
}

function useStatement(lake: string, schema: string | undefined): string {
  return `USE ${quoteIdent(lakeAlias(lake))}${schema ? `.${quoteIdent(schema)}` : ''}`;
}

/** The DuckDB catalog name a datatable is attached as: `datatable_main`, `datatable_<name>`. */
export function datatableAlias(name: string): string {
  return `datatable_${name}`;
}

/** Datatables attached to the process's DuckDB (through its postgres extension), each once. */
const datatables = cache<void>();

/** Attaches a datatable as `datatable_<name>`, from what its driver says reaches it. */
export async function attachDatatable(name: string, libpq: LibpqTarget): Promise<void> {
  const db = await getDuckDB();
  return datatables.get(name, async () => {
    await db.loadExtension('postgres_scanner');
    const options = libpq.readOnly ? 'TYPE postgres, READ_ONLY' : 'TYPE postgres';
    try {
      await db.admin(`ATTACH IF NOT EXISTS ${sqlLiteral(libpq.conninfo)} AS ${quoteIdent(datatableAlias(name))} (${options})`);
    } catch (e) {
      const err = e as MillraceError;
      const clean = (text: string) => scrub(text, libpq.secrets);
      throw new MillraceError(err.code === 'Connection' || /connect|timeout|refused/i.test(err.message) ? 'Connection' : err.code, `Cannot attach datatable ${JSON.stringify(name)} to DuckDB: ${clean(err.message)}`, {
        cause: sanitizedCause(err.cause ?? e, clean),
      });
    }
  });
}

/** A write to the embedded datatable from DuckDB meets its read-only attachment: say why, and what works. */
function readOnlyDatatable(e: unknown): unknown {
  const m = e instanceof MillraceError && /database "datatable_(.+)" which is attached in read-only mode/.exec(e.message);
  if (!m) return e;
  return new MillraceError('Unsupported', `The embedded datatable ${JSON.stringify(m[1])} is read-only from DuckDB: DuckDB's postgres extension writes with COPY FROM STDIN, which PGlite cannot serve. Write with datatable(), or configure a PostgreSQL server as the datatable`, { cause: e });
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
