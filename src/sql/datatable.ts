/**
 * `datatable()`: windmill-client's SQL template tag on PostgreSQL. One pool per configured
 * datatable, made on first use and reused; `name:schema` sets the search path and `role` runs
 * each statement as that role, both inside the statement's own transaction.
 */
import { getConfig, onConfigChange, type EmbeddedPostgresConfig, type PostgresConfig } from '../config.js';
import { MillraceError } from '../errors.js';
import { onClose } from '../lifecycle.js';
import { startEmbeddedPostgres } from './embedded-postgres.js';
import { PostgresPool, postgresTarget, type RunContext } from './postgres.js';
import { parseName, queryStatement, templateFunction, type DatatableSqlTemplateFunction, type SqlEngine } from './statement.js';
import { postgresDialect } from './template.js';

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
  const engine: SqlEngine = {
    dialect: postgresDialect,
    run: (statements, signal) => {
      const context = signal ? { ...ctx, signal } : ctx;
      // Once the pool is open, statements go straight to it: no promise to wait on per statement.
      const open = openPools.get(dt);
      return open ? open.run(statements, context) : pool(dt).then((p) => p.run(statements, context));
    },
  };
  const getEngine = () => engine;
  const fn = templateFunction(getEngine, postgresDialect) as DatatableSqlTemplateFunction;
  fn.query = (text, ...params) => queryStatement(getEngine, postgresDialect, text, params);
  return fn;
}

type Entry = { pool: PostgresPool; close(): Promise<void> };
const pools = new Map<string, Promise<Entry>>();
/** The pools of `pools` that have finished opening. */
const openPools = new Map<string, PostgresPool>();

function pool(name: string): Promise<PostgresPool> {
  let entry = pools.get(name);
  if (!entry) {
    entry = openPool(name);
    pools.set(name, entry);
    // A failed open is not cached: the next statement tries again (the server may be up by then).
    entry.then(
      (e) => pools.get(name) === entry && openPools.set(name, e.pool),
      () => pools.get(name) === entry && pools.delete(name),
    );
  }
  return entry.then((e) => e.pool);
}

async function openPool(name: string): Promise<Entry> {
  const config = getConfig();
  const dt = config.datatables[name];
  if (!dt) {
    throw new MillraceError('Config', `datatable ${JSON.stringify(name)} is not configured; configured: ${Object.keys(config.datatables).join(', ') || '(none)'}`);
  }
  const label = `datatable ${JSON.stringify(name)}`;
  if (isEmbedded(dt)) {
    const embedded = await startEmbeddedPostgres(label, dt.dataDir);
    let p: PostgresPool;
    try {
      p = await PostgresPool.open(embedded.target);
    } catch (e) {
      await embedded.close().catch(() => undefined);
      throw e;
    }
    return { pool: p, close: async () => { await p.close(); await embedded.close(); } };
  }
  const p = await PostgresPool.open(postgresTarget(label, dt));
  return { pool: p, close: () => p.close() };
}

function isEmbedded(c: PostgresConfig | EmbeddedPostgresConfig): c is EmbeddedPostgresConfig {
  return typeof c === 'object' && (c as EmbeddedPostgresConfig).type === 'embedded';
}

async function closeAll(): Promise<void> {
  const entries = [...pools.values()];
  pools.clear();
  openPools.clear();
  await Promise.allSettled(entries.map(async (e) => (await e).close()));
}

onClose(closeAll);
onConfigChange(closeAll);
