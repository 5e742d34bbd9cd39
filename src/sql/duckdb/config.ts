/** The config of the process's DuckDB (`duckdb`) and of each DuckLake (`ducklakes`): types, field checks, catalog targets. */
import { configError, fields } from '../../fields.js';
import { libpqConninfo, POSTGRES_FIELDS, type PostgresConfig } from '../postgres/config.js';

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

export function checkDucklake(v: unknown, field: string): DucklakeConfig {
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
      return { ...lake, catalog: fields(catalog, cfield, POSTGRES_FIELDS.required, POSTGRES_FIELDS.optional, ['type']) };
    case undefined:
      throw configError(`${cfield}.type`, 'required ("postgresql", "duckdb" or "sqlite")');
    default:
      throw configError(`${cfield}.type`, `unknown catalog type ${JSON.stringify(type)} (expected "postgresql", "duckdb" or "sqlite")`);
  }
}

export function checkDuckDB(v: unknown, field: string): DuckDBConfig {
  const d = fields<DuckDBConfig>(v, field, {}, { extensionDirectory: 'path' }, ['settings']);
  if (d.settings !== undefined && (typeof d.settings !== 'object' || d.settings === null || Array.isArray(d.settings))) {
    throw configError(`${field}.settings`, 'must be an object');
  }
  return d;
}

/** The ATTACH target for a catalog; passwords stay out of any error (see `scrub`). */
export function catalogTarget(catalog: CatalogConfig): { target: string; extension?: 'postgres_scanner' | 'sqlite_scanner'; secrets: unknown[] } {
  switch (catalog.type) {
    case 'duckdb':
      return { target: `ducklake:${catalog.path}`, secrets: [] };
    case 'sqlite':
      return { target: `ducklake:sqlite:${catalog.path}`, extension: 'sqlite_scanner', secrets: [] };
    case 'postgresql': {
      if ('url' in catalog) return { target: `ducklake:postgres:${catalog.url}`, extension: 'postgres_scanner', secrets: [catalog.url] };
      const c = catalog as Exclude<CatalogConfig, { url: string } | { path: string }>;
      const conninfo = libpqConninfo(c);
      return { target: `ducklake:postgres:${conninfo}`, extension: 'postgres_scanner', secrets: [c.password] };
    }
  }
}
