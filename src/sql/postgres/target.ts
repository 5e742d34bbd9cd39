/** A configured PostgreSQL (a URL or Windmill's `postgresql` resource fields) as postgres.js options. */
import type { Options, PostgresType } from 'postgres';
import { MillraceError } from '../../errors.js';
import type { PostgresConfig } from './config.js';
import type { PostgresTarget } from './driver.js';

/** Postgres config (URL or Windmill's `postgresql` resource fields) to postgres.js options. */
export function postgresTarget(label: string, config: PostgresConfig): PostgresTarget {
  if (typeof config === 'string') return { label, url: config, options: {}, max: 10 };
  const ssl = sslOption(label, config.sslmode ?? "prefer", config.root_certificate_pem);
  return {
    label,
    max: 10,
    options: {
      host: config.host,
      port: config.port ?? 5432,
      user: config.user,
      password: config.password ?? '',
      database: config.dbname,
      ssl: ssl as Options<Record<string, PostgresType>>['ssl'],
    },
  };
}

/** libpq's sslmode semantics; with a root certificate, `require` verifies the chain like `verify-ca`. */
function sslOption(label: string, mode: string, ca: string | undefined): unknown {
  switch (mode) {
    case 'disable':
      return false;
    case 'allow':
    case 'prefer':
      return 'prefer';
    case 'require':
      return ca ? { ca, rejectUnauthorized: true, checkServerIdentity: () => undefined } : 'require';
    case 'verify-ca':
      return { ...(ca ? { ca } : {}), rejectUnauthorized: true, checkServerIdentity: () => undefined };
    case 'verify-full':
      return { ...(ca ? { ca } : {}), rejectUnauthorized: true };
    default:
      throw new MillraceError('Config', `${label}: sslmode: unknown value ${JSON.stringify(mode)} (expected disable, allow, prefer, require, verify-ca or verify-full)`);
  }
}
