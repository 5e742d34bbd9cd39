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
