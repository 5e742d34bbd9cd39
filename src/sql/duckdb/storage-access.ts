/**
 * The bridge from DuckDB to millrace's storages: each storage's extensions and secret, and an
 * interpolated S3Object turned into its storage's URL.
 */
import { getConfig } from '../../config.js';
import { MillraceError, errorMessage, sanitizedCause, scrub } from '../../errors.js';
import { parseS3Object, type S3Object, type S3ObjectRecord } from '../../s3object.js';
import { getStorage, storageConfig, type DuckDBAccess } from '../../storage/index.js';
import { sqlLiteral, type DuckDB, type ExtensionName } from './instance.js';

/**
 * How DuckDB reaches a storage: loads the extensions its backend names and creates its secret once.
 * `storage` is a secondary storage name, or undefined for the default storage.
 */
export function storageAccess(db: DuckDB, storage: string | undefined): Promise<DuckDBAccess> {
  const { id } = storageConfig({ storage });
  return db.storages.get(id, async () => {
    const access = (await getStorage({ storage })).duckdb();
    for (const extension of access.extensions ?? []) await db.loadExtension(extension as ExtensionName);
    if (access.secret) {
      const { type, scope, options } = access.secret;
      const name = `millrace_${id.replace(/[^A-Za-z0-9_]/g, '_')}`;
      const parts = [`TYPE ${identifierOnly(type)}`, `SCOPE ${sqlLiteral(scope)}`];
      for (const [k, v] of Object.entries(options)) parts.push(`${identifierOnly(k)} ${sqlLiteral(v)}`);
      try {
        await db.admin(`CREATE OR REPLACE TEMPORARY SECRET ${name} (${parts.join(', ')})`);
      } catch (e) {
        // The statement holds keys: never let it, or DuckDB's echo of it, into the error.
        const clean = (text: string) => scrub(text, Object.values(options));
        throw new MillraceError('Config', `Cannot set up DuckDB access to storage ${id}: ${clean(errorMessage(e))}`, { cause: sanitizedCause(e, clean) });
      }
    }
    return access;
  });
}

function identifierOnly(s: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(s)) throw new MillraceError('InvalidArgument', `Not a DuckDB option name: ${JSON.stringify(s)}`);
  return s;
}

/**
 * The S3Object an interpolated value is: the record form, or a URI naming a storage millrace
 * manages (`s3:///key`, `s3://<secondary storage>/key`). Any other string, a real
 * `s3://bucket/key` included, is an ordinary string.
 */
export function asS3Object(v: unknown): S3ObjectRecord | undefined {
  if (typeof v === 'string') {
    if (!v.startsWith('s3://')) return undefined;
    let record: S3ObjectRecord;
    try {
      record = parseS3Object(v as S3Object);
    } catch {
      return undefined;
    }
    return record.storage === undefined || Object.hasOwn(getConfig().secondaryStorage, record.storage) ? record : undefined;
  }
  return isS3ObjectRecord(v) ? parseS3Object(v) : undefined;
}

function isS3ObjectRecord(v: unknown): v is S3ObjectRecord {
  if (v === null || typeof v !== 'object' || Array.isArray(v) || v instanceof Date || v instanceof Uint8Array) return false;
  const keys = Object.keys(v);
  return typeof (v as { s3?: unknown }).s3 === 'string' && keys.every((k) => k === 's3' || k === 'storage' || k === 'presigned');
}
