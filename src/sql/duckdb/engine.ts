/**
 * The DuckDB engine for DuckLakes: each lake is attached once to the process's DuckDB (as
 * `lake_<name>`) with its data in a millrace storage; every schema gets its own connection so
 * `USE` never leaks between callers.
 */
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { getConfig } from '../../config.js';
import { MillraceError, sanitizedCause, scrub } from '../../errors.js';
import { Cache } from '../../runtime.js';
import type { CompiledSql, Engine, Row, RunContext, SqlDriver } from '../engine.js';
import { quoteIdent } from '../template.js';
import { catalogTarget, type DucklakeConfig } from './config.js';
import { duckdbDialect } from './dialect.js';
import { DuckDBEngine } from './driver.js';
import { getDuckDB, sqlLiteral, type DuckDB } from './instance.js';
import { storageAccess } from './storage-access.js';

/** The DuckDB catalog name a lake is attached as: `lake_main`, `lake_<name>`. */
export function lakeAlias(name: string): string {
  return `lake_${name}`;
}

export const duckdbEngine: Engine<DucklakeConfig> = {
  dialect: duckdbDialect,
  async open(lake, _label, name) {
    const db = await getDuckDB();
    await attach(db, name, lake);
    // Connections close with the instance (the process's DuckDB, see instance.ts).
    return { driver: new LakeDriver(db, name), close: async () => undefined };
  },
};

/** A lake's connections, one per schema, each opened once. */
class LakeDriver implements SqlDriver {
  readonly #sessions = new Cache<DuckDBEngine>();

  constructor(
    readonly db: DuckDB,
    readonly name: string,
  ) {}

  run(statements: CompiledSql[], ctx: RunContext): Promise<Row[][]> {
    return this.session(ctx.schema).then((s) => s.run(statements, ctx.signal));
  }

  /** The connection that has `USE`d this lake (and schema). */
  session(schema: string | undefined): Promise<DuckDBEngine> {
    return this.#sessions.get(schema ?? '', async () => {
      const conn = await this.db.connect();
      const use = quoteIdent(lakeAlias(this.name)) + (schema ? `.${quoteIdent(schema)}` : '');
      try {
        await conn.exec(`USE ${use}`);
      } catch (e) {
        conn.close();
        throw e;
      }
      return new DuckDBEngine(conn);
    });
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
