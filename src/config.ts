import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { inspect } from 'node:util';
import { type ParseError, parse as parseJsonc, printParseErrorCode } from 'jsonc-parser';
import { MillraceError, scrub } from './errors.js';
import { BACKENDS, type FieldType, type StorageConfig } from './storage/registry.js';

export type { S3StorageConfig, AzureBlobStorageConfig, FsStorageConfig, StorageConfig } from './storage/registry.js';

export type PostgresConfig =
  | string
  | {
      host: string;
      port?: number;
      user: string;
      password?: string;
      dbname: string;
      sslmode?: string;
      root_certificate_pem?: string;
    };
/** The embedded PostgreSQL (PGlite) persisted in `dataDir`; what `main` is when no datatable is configured. */
export type EmbeddedPostgresConfig = { type: 'embedded'; dataDir: string };

export type CatalogConfig =
  | ({ type: 'postgresql' } & Exclude<PostgresConfig, string>)
  | { type: 'postgresql'; url: string }
  | { type: 'duckdb'; path: string }
  | { type: 'sqlite'; path: string };

export type DucklakeConfig = { catalog: CatalogConfig; storage?: string; prefix?: string };

export type DuckDBConfig = {
  /** A folder holding `<version>/<platform>/<name>.duckdb_extension` files; see `npx millrace-duckdb-extensions`. */
  extensionDirectory?: string;
  settings?: Record<string, string | number | boolean>;
};

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
const listeners = new Set<() => void | Promise<void>>();

/**
 * Sets the config in code; it wins over `MILLRACE_CONFIG` and `./millrace.config.json`.
 * Clients made from the previous config are closed. `configure(undefined)` goes back to the other sources.
 */
export async function configure(config: MillraceConfig | undefined): Promise<void> {
  fromCode = config;
  resolved = undefined;
  await Promise.all([...listeners].map((l) => l()));
}

/** Called when the config changes, so caches of clients can be dropped. */
export function onConfigChange(listener: () => void | Promise<void>): void {
  listeners.add(listener);
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
    if (lake.storage !== undefined && !(lake.storage in out.secondaryStorage)) {
      throw configError(`ducklakes.${name}.storage`, `unknown storage ${JSON.stringify(lake.storage)}; configured: ${storageNames(out)}`);
    }
  }
  return redacted(out);
}

export function storageNames(c: ResolvedConfig): string {
  return ['(default)', ...Object.keys(c.secondaryStorage)].join(', ');
}

export function configError(field: string, message: string): MillraceError {
  return new MillraceError('Config', `${field ? field + ': ' : ''}${message}`);
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

function mapOf<T>(value: unknown, field: string, check: (v: unknown, field: string) => T): Record<string, T> {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw configError(field, 'must be an object of named entries');
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, check(v, `${field}.${k}`)]));
}

/**
 * Checks an object's fields: required ones present, every one of its type, and no unknown
 * field (a typo such as `endpoint` for `endPoint` must not silently fall back to a default).
 * Returns a copy with `path` fields made absolute.
 */
function fields<T>(v: unknown, field: string, required: Record<string, FieldType>, optional: Record<string, FieldType>, extra: string[] = []): T {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw configError(field, 'must be an object');
  const o = { ...(v as Record<string, unknown>) };
  const known = new Set([...Object.keys(required), ...Object.keys(optional), ...extra]);
  const at = (k: string) => (field ? `${field}.${k}` : k);
  for (const k of Object.keys(o)) {
    if (!known.has(k)) throw configError(at(k), `unknown field; expected one of ${[...known].join(', ')}`);
  }
  const check = (k: string, t: FieldType) => {
    if (typeof o[k] !== (t === 'path' ? 'string' : t)) throw configError(at(k), `must be a ${t === 'path' ? 'string' : t}`);
    if (t === 'path') o[k] = resolve(o[k] as string);
  };
  for (const [k, t] of Object.entries(required)) {
    if (o[k] === undefined || o[k] === null || o[k] === '') throw configError(at(k), 'required');
    check(k, t);
  }
  for (const [k, t] of Object.entries(optional)) if (o[k] !== undefined && o[k] !== null) check(k, t);
  return o as T;
}

function checkStorage(v: unknown, field: string): StorageConfig {
  const type = (v as { type?: unknown } | null)?.type;
  const types = Object.keys(BACKENDS).map((t) => JSON.stringify(t)).join(', ');
  if (type === undefined || type === null) throw configError(`${field}.type`, `required (one of ${types})`);
  if (typeof type !== 'string' || !Object.hasOwn(BACKENDS, type)) {
    throw configError(`${field}.type`, `unknown storage type ${JSON.stringify(type)} (expected one of ${types})`);
  }
  const backend = BACKENDS[type as keyof typeof BACKENDS];
  return fields<StorageConfig>(v, field, backend.required, backend.optional, ['type']);
}

const POSTGRES_REQUIRED = { host: 'string', user: 'string', dbname: 'string' } as const;
const POSTGRES_OPTIONAL = { port: 'number', password: 'string', sslmode: 'string', root_certificate_pem: 'string' } as const;

function checkPostgres(v: unknown, field: string): PostgresConfig | EmbeddedPostgresConfig {
  if (typeof v === 'string') {
    if (!/^postgres(ql)?:\/\//.test(v)) throw configError(field, 'must be a postgres:// URL or an object');
    return v;
  }
  if ((v as { type?: unknown } | null)?.type === 'embedded') return fields(v, field, { dataDir: 'path' }, {}, ['type']);
  return fields(v, field, POSTGRES_REQUIRED, POSTGRES_OPTIONAL);
}

function checkDucklake(v: unknown, field: string): DucklakeConfig {
  const lake = fields<DucklakeConfig>(v, field, {}, { storage: 'string', prefix: 'string' }, ['catalog']);
  const catalog = lake.catalog as unknown;
  const cfield = `${field}.catalog`;
  if (catalog === undefined || catalog === null) throw configError(cfield, 'required');
  const type = (catalog as { type?: unknown }).type;
  switch (type) {
    case 'duckdb':
    case 'sqlite':
      return { ...lake, catalog: fields(catalog, cfield, { path: 'path' }, {}, ['type']) };
    case 'postgresql':
      if ((catalog as { url?: unknown }).url !== undefined) return { ...lake, catalog: fields(catalog, cfield, { url: 'string' }, {}, ['type']) };
      return { ...lake, catalog: fields(catalog, cfield, POSTGRES_REQUIRED, POSTGRES_OPTIONAL, ['type']) };
    case undefined:
      throw configError(`${cfield}.type`, 'required ("postgresql", "duckdb" or "sqlite")');
    default:
      throw configError(`${cfield}.type`, `unknown catalog type ${JSON.stringify(type)} (expected "postgresql", "duckdb" or "sqlite")`);
  }
}

function checkDuckDB(v: unknown, field: string): DuckDBConfig {
  const d = fields<DuckDBConfig>(v, field, {}, { extensionDirectory: 'path' }, ['settings']);
  if (d.settings !== undefined && (typeof d.settings !== 'object' || d.settings === null || Array.isArray(d.settings))) {
    throw configError(`${field}.settings`, 'must be an object');
  }
  return d;
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

/** Makes `util.inspect` (and so console.log) of a config object show it redacted, recursively. */
export function redacted<T extends object>(obj: T): T {
  for (const v of Object.values(obj)) if (v && typeof v === 'object') redacted(v);
  Object.defineProperty(obj, inspect.custom, { value: () => redact({ ...obj }), enumerable: false });
  return obj;
}
