/** The config of a datatable: a PostgreSQL server (URL or Windmill's `postgresql` resource fields) or the embedded one. */
import { configError, fields } from '../../fields.js';

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

export type DatatableConfig = PostgresConfig | EmbeddedPostgresConfig;

export const POSTGRES_FIELDS = {
  required: { host: 'string', user: 'string', dbname: 'string' },
  optional: { port: 'number', password: 'string', sslmode: 'string', root_certificate_pem: 'string' },
} as const;

export function checkPostgres(v: unknown, field: string): DatatableConfig {
  if (typeof v === 'string') {
    if (!/^postgres(ql)?:\/\//.test(v)) throw configError(field, 'must be a postgres:// URL or an object');
    return v;
  }
  if ((v as { type?: unknown } | null)?.type === 'embedded') return fields(v, field, { dataDir: 'path' }, {}, ['type']);
  return fields(v, field, POSTGRES_FIELDS.required, POSTGRES_FIELDS.optional);
}

export function isEmbedded(c: DatatableConfig): c is EmbeddedPostgresConfig {
  return typeof c === 'object' && (c as EmbeddedPostgresConfig).type === 'embedded';
}

/** A libpq connection string for a server (what DuckDB's postgres extension takes); an unreachable server fails within 10 s. */
export function libpqConninfo(c: PostgresConfig): string {
  if (typeof c === 'string') return c;
  const kv: Record<string, string | number | undefined> = {
    host: c.host, port: c.port, user: c.user, password: c.password, dbname: c.dbname, sslmode: c.sslmode, connect_timeout: 10,
  };
  return Object.entries(kv)
    .filter(([, v]) => v !== undefined && v !== '')
    .map(([k, v]) => `${k}=${libpqValue(String(v))}`)
    .join(' ');
}

/** libpq conninfo quoting: single quotes, with `\` and `'` escaped by a backslash. */
function libpqValue(v: string): string {
  return /^[A-Za-z0-9_.\-/:@]+$/.test(v) ? v : `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}
