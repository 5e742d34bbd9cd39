/**
 * The bridge from DuckDB to millrace's storages: each storage's extensions and secret, and an
 * interpolated S3Object (or an `'s3://storage/key'` literal) turned into the URL of that one object.
 */
import { mkdir } from 'node:fs/promises';
import { dirname, isAbsolute } from 'node:path';
import { getConfig, namedEntry } from '../../config.js';
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

/** An S3Object's URL in DuckDB, its storage's secret in place (on fs, its folder made: COPY TO does not). */
export async function objectLocation(db: DuckDB, record: S3ObjectRecord): Promise<string> {
  const access = await storageAccess(db, record.storage);
  const url = objectUrl(access, record);
  if (isAbsolute(url)) await mkdir(dirname(url), { recursive: true });
  return url;
}

/**
 * The DuckDB URL of exactly one object. DuckDB reads a path as more than a name: on S3 a `?` starts
 * URL parameters (`s3_endpoint=` sends the request, signed, to another host), and on every backend
 * `*`, `**`, `?` and `[...]` expand as a pattern, while a write takes the same characters literally.
 * No escape means the same for reads and writes, so keys with `?`, `*` or `[` are refused here,
 * before DuckDB sees them. `{`, `#`, `%`, `+` and spaces are literal in DuckDB 1.5's paths on every
 * backend (test/security/duckdb-urls.test.ts) and stay allowed.
 */
function objectUrl(access: DuckDBAccess, record: S3ObjectRecord): string {
  const bad = NOT_ONE_OBJECT.exec(record.s3);
  if (bad) {
    const why = bad[0] === '?' ? 'starts URL parameters on S3 and is a pattern elsewhere' : 'is a pattern';
    throw new MillraceError('InvalidS3Object', `S3 key ${JSON.stringify(record.s3)} cannot be used in DuckDB SQL: "${bad[0]}" ${why} in DuckDB paths, so the URL would not name one object`);
  }
  return access.url(record.s3);
}

const NOT_ONE_OBJECT = /[?*[]/;

/** What `listS3Files` yields is an S3Object with its metadata: such a record is an S3Object too. */
const RECORD_FIELDS = new Set(['s3', 'storage', 'presigned', 'size', 'etag', 'lastModified', 'contentType', 'contentDisposition']);

/**
 * The S3Object an interpolated value is: a record (a `listS3Files` item included), or a URI naming
 * a storage millrace manages (`s3:///key`, `s3://<secondary storage>/key`). Any other string, a real
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
    return isManagedStorage(record.storage ?? '') ? record : undefined;
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v) || v instanceof Date || v instanceof Uint8Array) return undefined;
  if (typeof (v as { s3?: unknown }).s3 !== 'string' || !Object.keys(v).every((k) => RECORD_FIELDS.has(k))) return undefined;
  return parseS3Object(v as S3ObjectRecord);
}

/** '' (the default storage) or a configured secondary storage name: what `s3://<name>/key` may name. */
export function isManagedStorage(name: string): boolean {
  return name === '' || namedEntry(getConfig().secondaryStorage, name) !== undefined;
}
