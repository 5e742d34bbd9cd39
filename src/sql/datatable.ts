/**
 * `datatable()`: windmill-client's SQL template tag on PostgreSQL. One pool per configured
 * datatable, made on first use and reused; `name:schema` sets the search path and `role` runs
 * each statement as that role, both inside the statement's own transaction.
 */
import { getConfig, namedEntry } from '../config.js';
import { MillraceError } from '../errors.js';
import { cache } from '../runtime.js';
import type { LibpqTarget, OpenDriver, RunContext, SqlDriver, SqlEngine } from './engine.js';
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
      // Once the pool is open (and the schema known to exist), statements go straight to it: no promise to wait on.
      const open = drivers.ready(dt);
      if (open && (schema === undefined || schemas.ready(`${dt}:${schema}`))) return open.driver.run(statements, context);
      return driver(dt, schema).then((p) => p.run(statements, context));
    },
    async *stream(statement, options) {
      yield* (await driver(dt)).stream!(statement, { ...ctx, signal: options.signal }, options);
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

/** `name:schema` pairs whose schema was found, each checked on first use. */
const schemas = cache<true>();

/** The datatable's driver; with a schema, once it is known to exist (a typo names the schema, not a missing table). */
async function driver(name: string, schema?: string): Promise<SqlDriver> {
  const d = (await drivers.get(name, () => openDriver(name))).driver;
  if (schema !== undefined) {
    await schemas.get(`${name}:${schema}`, async () => {
      const [rows] = await d.run([{ text: 'SELECT 1 AS found FROM pg_namespace WHERE nspname = $1', params: [{ value: schema, type: 'TEXT', explicit: true }] }], {});
      if (!rows?.length) throw new MillraceError('NotFound', `Schema ${JSON.stringify(schema)} does not exist in datatable ${JSON.stringify(name)} (create it with CREATE SCHEMA first)`);
      return true;
    });
  }
  return d;
}

/** Each datatable's libpq target, found answering once per process (not on every ATTACH); a failed probe is not kept. */
const libpqTargets = cache<LibpqTarget>();

/** How DuckDB's postgres extension reaches a datatable (`ATTACH 'datatable://name'` in ducklake()); opens it if needed. */
export function datatableLibpq(name: string): Promise<LibpqTarget> {
  return libpqTargets.get(name, async () => {
    const d = await drivers.get(name, () => openDriver(name));
    // The embedded database is served from its first connection on: make sure it is.
    await d.driver.run([{ text: 'SELECT 1', params: [] }], {});
    if (!d.libpq) throw new MillraceError('Unsupported', `datatable ${JSON.stringify(name)} cannot be attached to DuckDB`);
    return d.libpq;
  });
}

async function openDriver(name: string): Promise<OpenDriver> {
  const config = getConfig();
  const dt = namedEntry(config.datatables, name);
  if (!dt) {
    throw new MillraceError('Config', `datatable ${JSON.stringify(name)} is not configured; configured: ${Object.keys(config.datatables).join(', ') || '(none)'}`);
  }
  return ENGINES[DATATABLE_ENGINE].open(dt, `datatable ${JSON.stringify(name)}`, name);
}
