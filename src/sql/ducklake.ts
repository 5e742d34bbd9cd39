/**
 * ducklake(): windmill-client's DuckLake API on the process's DuckDB: name -> config -> engine
 * (the DuckDB engine attaches each lake once and gives each schema its own connection), and
 * Windmill's DuckDB conventions read from the text before it runs.
 */
import { getConfig, namedEntry } from '../config.js';
import { MillraceError } from '../errors.js';
import { cache } from '../runtime.js';
import type { DucklakeConfig } from './duckdb/config.js';
import { datatableLibpq } from './datatable.js';
import { planConventions, type ConventionsPlan } from './duckdb/conventions.js';
import { attachDatatable, datatableAlias, lakeAlias, type LakeDriver } from './duckdb/engine.js';
import { isManagedStorage } from './duckdb/storage-access.js';
import type { CompiledSql, OpenDriver, Row, RunContext, SqlEngine, StreamOptions } from './engine.js';
import { ENGINES } from './registry.js';
import { parseName, queryStatement, templateFunction, type DatatableSqlTemplateFunction } from './statement.js';

export { lakeAlias } from './duckdb/engine.js';

/** One driver per lake, its lake attached; dropped with the DuckDB instance by close() or a config change. */
const drivers = cache<OpenDriver<LakeDriver>>((d) => d.close());

function lakeConfig(name: string): DucklakeConfig {
  const lakes = getConfig().ducklakes;
  const lake = namedEntry(lakes, name);
  if (!lake) {
    throw new MillraceError('Config', `Unknown ducklake ${JSON.stringify(name)}; configured ducklakes: ${Object.keys(lakes).join(', ')}`);
  }
  return lake;
}

/**
 * SQL against a DuckLake: `ducklake()` is the lake `main`, `ducklake('lake2')` a configured lake,
 * `ducklake('lake2:analytics')` its schema `analytics`. Unqualified table names are in the lake,
 * which is also `dl`; Windmill's `ATTACH 'ducklake://name'`, `ATTACH 'datatable://name'` and
 * `'s3://storage/key'` literals work as in Windmill (see conventions.ts).
 * @example
 * const sql = ducklake();
 * const friend = await sql`SELECT * FROM friend WHERE id = ${id}`.fetchOne();
 * const same = await sql.query('SELECT * FROM dl.friend WHERE id = $1', id).fetchOne();
 */
export function ducklake(name = 'main'): DatatableSqlTemplateFunction {
  if (typeof name !== 'string') throw new MillraceError('InvalidArgument', 'ducklake() takes a name such as "main" or "main:schema"');
  const { name: lake, schema } = parseName(name);
  const { dialect } = ENGINES.duckdb;
  const engine: SqlEngine = {
    dialect,
    run: (statements, signal) => {
      const ctx = { schema, signal };
      if (statements.some((s) => MAY_USE_CONVENTIONS.test(s.text))) return runWithConventions(lake, statements, ctx);
      const ready = drivers.ready(lake);
      if (ready) return ready.driver.run(statements, ctx);
      return lakeDriver(lake).then((d) => d.run(statements, ctx));
    },
    async *stream(statement, options) {
      const ctx = { schema, signal: options.signal };
      if (MAY_USE_CONVENTIONS.test(statement.text)) yield* streamWithConventions(lake, statement, ctx, options);
      else yield* (await lakeDriver(lake)).stream(statement, ctx, options);
    },
  };
  const getEngine = () => engine;
  const fn = templateFunction(getEngine, dialect) as DatatableSqlTemplateFunction;
  fn.query = (text, ...params) => queryStatement(getEngine, dialect, text, params);
  return fn;
}

/** A cheap test before the scan: texts without any of these words need no rewriting. */
const MAY_USE_CONVENTIONS = /\bdl\b|\battach\b|\bdetach\b|\buse\b|'s3:\/\/|\btemp(orary)?\b/i;

/** The lake's driver, its lake attached; unknown names fail before anything starts. */
function lakeDriver(name: string): Promise<LakeDriver> {
  return drivers.get(name, () => ENGINES.duckdb.open(lakeConfig(name), `ducklake ${JSON.stringify(name)}`, name)).then((d) => d.driver);
}

async function runWithConventions(lake: string, statements: CompiledSql[], ctx: RunContext): Promise<Row[][]> {
  const { driver, plan } = await planned(lake, statements);
  return driver.run(statements, { ...ctx, conventions: plan });
}

/** `.stream()` of a text that may use the conventions: planned and rewritten as `run` does. */
async function* streamWithConventions(lake: string, statement: CompiledSql, ctx: RunContext, options: StreamOptions): AsyncGenerator<Row[]> {
  const { driver, plan } = await planned(lake, [statement]);
  yield* driver.stream(statement, { ...ctx, conventions: plan }, options);
}

/** The conventions of a text, with the lakes and datatables it names attached. */
async function planned(lake: string, statements: CompiledSql[]): Promise<{ driver: LakeDriver; plan: ConventionsPlan }> {
  const plan = planConventions(
    statements.map((s) => s.text),
    { lake, lakeCatalog: lakeAlias, datatableCatalog: datatableAlias, isStorage: isManagedStorage },
  );
  const driver = await lakeDriver(lake);
  for (const other of plan.lakes) await lakeDriver(other);
  for (const dt of plan.datatables) await attachDatatable(dt, await datatableLibpq(dt));
  return { driver, plan };
}
