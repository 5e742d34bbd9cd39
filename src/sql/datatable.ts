/**
 * `datatable()`: windmill-client's SQL template tag on PostgreSQL. One pool per configured
 * datatable, made on first use and reused; `name:schema` sets the search path and `role` runs
 * each statement as that role, both inside the statement's own transaction.
 */
import { getConfig } from '../config.js';
import { MillraceError } from '../errors.js';
import { cache } from '../runtime.js';
import type { OpenDriver, RunContext, SqlDriver, SqlEngine } from './engine.js';
import { ENGINES } from './registry.js';
import { parseName, queryStatement, templateFunction, type DatatableSqlTemplateFunction } from './statement.js';

export interface DatatableOptions {
  /** Run each statement as this PostgreSQL role (`SET LOCAL ROLE`); the connecting user must be allowed to. */
  role?: string;
}

const ROLE_NAME = /^[A-Za-z0-9_-]{1,63}$/;

/**
 * A SQL template tag for the datatable `name` (default `main`); `"name:schema"` or `":schema"`
 * makes unqualified tables resolve in that schema.
 *
 * ```ts
 * const sql = datatable();
 * const friend = await sql`SELECT * FROM friend WHERE id = ${id}`.fetchOne();
 * ```
 */
export function datatable(name = 'main', opts: DatatableOptions = {}): DatatableSqlTemplateFunction {
  if (typeof name !== 'string') throw new MillraceError('InvalidArgument', 'datatable() takes a name such as "main" or "main:schema"');
  const role = opts?.role;
  if (role !== undefined && (typeof role !== 'string' || !ROLE_NAME.test(role))) {
    throw new MillraceError('InvalidArgument', `Invalid datatable role ${JSON.stringify(role)}: 1 to 63 letters, digits, '_' or '-'`);
  }
  const { name: dt, schema } = parseName(name);
  const ctx: RunContext = { schema, role };
  const { dialect } = ENGINES[DATATABLE_ENGINE];
  const engine: SqlEngine = {
    dialect,
    run: (statements, signal) => {
      const context = signal ? { ...ctx, signal } : ctx;
      // Once the pool is open, statements go straight to it: no promise to wait on per statement.
      const open = drivers.ready(dt);
      return open ? open.driver.run(statements, context) : driver(dt).then((p) => p.run(statements, context));
    },
  };
  const getEngine = () => engine;
  const fn = templateFunction(getEngine, dialect) as DatatableSqlTemplateFunction;
  fn.query = (text, ...params) => queryStatement(getEngine, dialect, text, params);
  return fn;
}

/** The engine every configured datatable runs on (a PostgreSQL server, or the embedded one). */
const DATATABLE_ENGINE = 'postgres';

/** One driver per datatable; a failed open is not cached: the next statement tries again (the server may be up by then). */
const drivers = cache<OpenDriver>((d) => d.close());

function driver(name: string): Promise<SqlDriver> {
  return drivers.get(name, () => openDriver(name)).then((d) => d.driver);
}

async function openDriver(name: string): Promise<OpenDriver> {
  const config = getConfig();
  const dt = config.datatables[name];
  if (!dt) {
    throw new MillraceError('Config', `datatable ${JSON.stringify(name)} is not configured; configured: ${Object.keys(config.datatables).join(', ') || '(none)'}`);
  }
  return ENGINES[DATATABLE_ENGINE].open(dt, `datatable ${JSON.stringify(name)}`, name);
}
