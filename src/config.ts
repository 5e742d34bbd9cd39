import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { inspect } from 'node:util';
import { type ParseError, parse as parseJsonc, printParseErrorCode } from 'jsonc-parser';
import { MillraceError, scrub } from './errors.js';
import { checkedType, configError, fields } from './fields.js';
import { close } from './runtime.js';
import { checkDuckDB, checkDucklake, type DuckDBConfig, type DucklakeConfig } from './sql/duckdb/config.js';
import { checkPostgres, type EmbeddedPostgresConfig, type PostgresConfig } from './sql/postgres/config.js';
import type { StorageConfig } from './storage/config.js';
import { BACKENDS } from './storage/registry.js';

export type { S3StorageConfig, AzureBlobStorageConfig, FsStorageConfig, StorageConfig } from './storage/config.js';
export type { PostgresConfig, EmbeddedPostgresConfig } from './sql/postgres/config.js';
export type { CatalogConfig, DucklakeConfig, DuckDBConfig } from './sql/duckdb/config.js';
export { configError } from './fields.js';

export type MillraceConfig = {
  storage?: StorageConfig;
  secondaryStorage?: Record<string, StorageConfig>;
  resources?: Record<string, StorageConfig>;
  datatables?: Record<string, PostgresConfig | EmbeddedPostgresConfig>;
  ducklakes?: Record<string, DucklakeConfig>;
  duckdb?: DuckDBConfig;
};

/** The config after sources, `$env:` references, validation and embedded defaults. */
export type ResolvedConfig = {
  source: string;
  home: string;
  storage: StorageConfig;
  secondaryStorage: Record<string, StorageConfig>;
  resources: Record<string, StorageConfig>;
  datatables: Record<string, PostgresConfig | EmbeddedPostgresConfig>;
  ducklakes: Record<string, DucklakeConfig>;
  duckdb: DuckDBConfig;
};

let fromCode: MillraceConfig | undefined;
let resolved: ResolvedConfig | undefined;

/**
 * Sets the config in code; it wins over `MILLRACE_CONFIG` and `./millrace.config.json`.
 * Clients made from the previous config are closed. `configure(undefined)` goes back to the other sources.
 */
export async function configure(config: MillraceConfig | undefined): Promise<void> {
  fromCode = config;
  resolved = undefined;
  // Every cache (runtime.ts) is dropped: clients, pools and the DuckDB instance reopen from the new config.
  await close();
}

export function getConfig(): ResolvedConfig {
  resolved ??= resolveConfig(readSources());
  return resolved;
}

function readSources(): { config: MillraceConfig; source: string } {
  if (fromCode) return { config: fromCode, source: 'configure()' };
  const env = process.env.MILLRACE_CONFIG;
  if (env && env.trim()) {
    const text = env.trim();
    if (text.startsWith('{')) return { config: parseJson(text, 'MILLRACE_CONFIG'), source: 'MILLRACE_CONFIG' };
    return { config: parseJson(readFile(text, 'MILLRACE_CONFIG'), text), source: text };
  }
  const local = resolve('millrace.config.json');
  if (existsSync(local)) return { config: parseJson(readFile(local, local), local), source: local };
  return { config: {}, source: 'embedded default' };
}

function readFile(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new MillraceError('Config', `${what}: cannot read config file ${path}`, { cause: e });
  }
}

/** JSON with comments and trailing commas (JSONC), as the README's examples are written. */
function parseJson(text: string, where: string): MillraceConfig {
  const errors: ParseError[] = [];
  const value = parseJsonc(text, errors, { allowTrailingComma: true, disallowComments: false }) as MillraceConfig;
  const first = errors[0];
  if (first) {
    // Say where and what kind of error, never the text around it: a config may hold a secret.
    const before = text.slice(0, first.offset).split('\n');
    const what = printParseErrorCode(first.error).replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase();
    throw new MillraceError('Config', `${where}: invalid JSON at line ${before.length}, column ${before.at(-1)!.length + 1}: ${what}`);
  }
  return value;
}

/** `./.millrace` unless `MILLRACE_HOME` moves it. */
export function millraceHome(): string {
  return resolve(process.env.MILLRACE_HOME || '.millrace');
}

export function resolveConfig({ config, source }: { config: MillraceConfig; source: string }): ResolvedConfig {
  const c = substituteEnv(config, '') as MillraceConfig;
  if (c === null || typeof c !== 'object' || Array.isArray(c)) throw configError('', 'must be an object');
  fields(c, '', {}, {}, ['storage', 'secondaryStorage', 'resources', 'datatables', 'ducklakes', 'duckdb']);
  const home = millraceHome();
  const out: ResolvedConfig = {
    source,
    home,
    storage: c.storage ? checkStorage(c.storage, 'storage') : { type: 'fs', root: resolve(home, 'storage') },
    secondaryStorage: mapOf(c.secondaryStorage, 'secondaryStorage', checkStorage),
    resources: mapOf(c.resources, 'resources', checkStorage),
    datatables: mapOf(c.datatables, 'datatables', checkPostgres),
    ducklakes: mapOf(c.ducklakes, 'ducklakes', checkDucklake),
    duckdb: checkDuckDB(c.duckdb ?? {}, 'duckdb'),
  };
  // Extensions provisioned into the home folder (`npx millrace-duckdb-extensions`) are used without any config.
  const homeExtensions = resolve(home, 'duckdb-extensions');
  if (out.duckdb.extensionDirectory === undefined && existsSync(homeExtensions)) out.duckdb.extensionDirectory = homeExtensions;
  out.datatables.main ??= { type: 'embedded', dataDir: resolve(home, 'datatable') };
  out.ducklakes.main ??= { catalog: { type: 'duckdb', path: resolve(home, 'ducklake', 'main.ducklake') }, prefix: 'ducklake/main/' };
  for (const [name, lake] of Object.entries(out.ducklakes)) {
    if (lake.storage !== undefined && namedEntry(out.secondaryStorage, lake.storage) === undefined) {
      throw configError(`ducklakes.${name}.storage`, `unknown storage ${JSON.stringify(lake.storage)}; configured: ${storageNames(out)}`);
    }
  }
  return redacted(out);
}

export function storageNames(c: ResolvedConfig): string {
  return ['(default)', ...Object.keys(c.secondaryStorage)].join(', ');
}

function substituteEnv(value: unknown, field: string): unknown {
  if (typeof value === 'string' && value.startsWith('$env:')) {
    const name = value.slice(5);
    const v = process.env[name];
    if (v === undefined) throw configError(field, `environment variable ${name} is not set`);
    return v;
  }
  if (Array.isArray(value)) return value.map((v, i) => substituteEnv(v, `${field}[${i}]`));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substituteEnv(v, field ? `${field}.${k}` : k)]));
  }
  return value;
}

/**
 * A map of named entries without a prototype: a name given by a user (`toString`, `__proto__`,
 * `constructor`) finds only an entry configured under that name.
 */
function mapOf<T>(value: unknown, field: string, check: (v: unknown, field: string) => T): Record<string, T> {
  const out = Object.create(null) as Record<string, T>;
  if (value === undefined || value === null) return out;
  if (typeof value !== 'object' || Array.isArray(value)) throw configError(field, 'must be an object of named entries');
  for (const [k, v] of Object.entries(value)) Object.defineProperty(out, k, { value: check(v, `${field}.${k}`), enumerable: true, writable: true, configurable: true });
  return out;
}

function checkStorage(v: unknown, field: string): StorageConfig {
  const backend = BACKENDS[checkedType(v, field, BACKENDS, 'storage')];
  return fields<StorageConfig>(v, field, backend.required, backend.optional, ['type']);
}

const SECRET_KEYS = new Set(['accessKey', 'secretKey', 'token', 'password', 'connectionString', 'sasToken', 'root_certificate_pem']);

/** Replaces secrets (and passwords inside URLs) with `***` for messages and inspection. */
export function redact(value: unknown): unknown {
  if (typeof value === 'string') return scrub(value);
  if (Array.isArray(value)) return value.map(redact);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, SECRET_KEYS.has(k) && v ? '***' : redact(v)]));
  }
  return value;
}

/**
 * Makes every printable form of a config object redacted, recursively: `util.inspect` (and so
 * console.log), `JSON.stringify` and `String`. The real values stay readable as properties.
 * Maps of named entries get a hidden `toJSON` too; names are looked up with `namedEntry`, which never finds it.
 */
export function redacted<T extends object>(obj: T): T {
  for (const v of Object.values(obj)) if (v && typeof v === 'object') redacted(v);
  const hidden = (value: unknown) => ({ value, enumerable: false, configurable: true });
  Object.defineProperty(obj, inspect.custom, hidden(() => redact({ ...obj })));
  Object.defineProperty(obj, Symbol.toPrimitive, hidden(() => '[object Object]'));
  Object.defineProperty(obj, 'toJSON', hidden(() => redact({ ...obj })));
  return obj;
}

/**
 * The entry a user-given name finds in a map of named entries: an entry configured under that name,
 * never a prototype member or the map's own hidden `toJSON`.
 */
export function namedEntry<T>(map: Record<string, T>, name: string): T | undefined {
  return Object.prototype.propertyIsEnumerable.call(map, name) ? map[name] : undefined;
}
