/**
 * ducklake(): windmill-client's DuckLake API on the process's DuckDB: name -> config -> engine
 * (the DuckDB engine attaches each lake once and gives each schema its own connection).
 */
import { getConfig } from '../config.js';
import { MillraceError } from '../errors.js';
import { cache } from '../runtime.js';
import type { DucklakeConfig } from './duckdb/config.js';
import type { OpenDriver, SqlEngine } from './engine.js';
import { ENGINES } from './registry.js';
import { parseName, templateFunction, type SqlTemplateFunction } from './statement.js';

export { lakeAlias } from './duckdb/engine.js';

/** One driver per lake, its lake attached; dropped with the DuckDB instance by close() or a config change. */
const drivers = cache<OpenDriver>((d) => d.close());

function lakeConfig(name: string): DucklakeConfig {
  const lakes = getConfig().ducklakes;
  const lake = lakes[name];
  if (!lake) {
    throw new MillraceError('Config', `Unknown ducklake ${JSON.stringify(name)}; configured ducklakes: ${Object.keys(lakes).join(', ')}`);
  }
  return lake;
}

/**
 * SQL against a DuckLake: `ducklake()` is the lake `main`, `ducklake('lake2')` a configured lake,
 * `ducklake('lake2:analytics')` its schema `analytics`. Unqualified table names are in the lake.
 * @example
 * const sql = ducklake();
 * const friend = await sql`SELECT * FROM friend WHERE id = ${id}`.fetchOne();
 */
export function ducklake(name = 'main'): SqlTemplateFunction {
  const { name: lake, schema } = parseName(name);
  const { dialect } = ENGINES.duckdb;
  const engine: SqlEngine = {
    dialect,
    run: (statements, signal) => {
      const ctx = { schema, signal };
      const open = drivers.ready(lake);
      if (open) return open.driver.run(statements, ctx);
      // Unknown names fail before anything starts.
      return drivers.get(lake, async () => ENGINES.duckdb.open(lakeConfig(lake), `ducklake ${JSON.stringify(lake)}`, lake)).then((d) => d.driver.run(statements, ctx));
    },
  };
  return templateFunction(() => engine, dialect);
}
