import { MillraceError } from './errors.js';

/** `s3://<storage>/<key>`; `s3:///<key>` is the default storage. */
export type S3ObjectURI = `s3://${string}/${string}`;
export type S3ObjectRecord = {
  /** The object's key in its storage. */
  s3: string;
  /** A secondary storage name; absent means the default storage. */
  storage?: string;
  /** A presigned query string, set by `signS3Object`. */
  presigned?: string;
};
export type S3Object = S3ObjectURI | S3ObjectRecord;

const URI = /^s3:\/\/([^/]*)\/(.+)$/s;

function invalid(message: string): MillraceError {
  return new MillraceError('InvalidS3Object', message);
}

/** Throws `InvalidS3Object` for keys that could escape or alias another key. */
export function validateKey(key: unknown): string {
  if (typeof key !== 'string' || key.length === 0) throw invalid('S3 key must be a non-empty string');
  if (key.startsWith('/')) throw invalid(`S3 key ${JSON.stringify(key)} must not start with "/"`);
  if (key.includes('\0')) throw invalid('S3 key must not contain a NUL character');
  if (key.includes('\\')) throw invalid(`S3 key ${JSON.stringify(key)} must not contain a backslash`);
  const segments = key.split('/');
  if (segments.includes('..')) throw invalid(`S3 key ${JSON.stringify(key)} must not contain a ".." segment`);
  // "a//b", "a/./b" and "a/" would name one file on fs and another object on S3: one key, one object, everywhere.
  if (segments.includes('')) throw invalid(`S3 key ${JSON.stringify(key)} must not contain an empty segment ("//" or a trailing "/")`);
  if (segments.includes('.')) throw invalid(`S3 key ${JSON.stringify(key)} must not contain a "." segment`);
  return key;
}

/**
 * Throws `InvalidS3Object` unless `prefix` is empty, a valid key, or a valid key followed by "/":
 * a listing stays inside what its prefix names.
 */
export function validatePrefix(prefix: unknown): string {
  if (prefix === '') return prefix;
  if (typeof prefix !== 'string') throw invalid('A prefix must be a string');
  try {
    validateKey(prefix.endsWith('/') ? prefix.slice(0, -1) : prefix);
  } catch (e) {
    throw invalid(`Prefix ${JSON.stringify(prefix)} is not a key or a key followed by "/": ${(e as Error).message}`);
  }
  return prefix;
}

/** The record form of an S3Object. Strict: bare strings and malformed URIs throw `InvalidS3Object`. */
export function parseS3Object(obj: S3Object): S3ObjectRecord {
  if (typeof obj === 'string') {
    const m = URI.exec(obj);
    if (!m) {
      if (obj.startsWith('s3://')) {
        throw invalid(`Invalid S3 URI ${JSON.stringify(obj)}: expected s3://<storage>/<key> with a non-empty key (s3:///<key> for the default storage)`);
      }
      throw invalid(`Invalid S3 object ${JSON.stringify(obj)}: expected an s3://<storage>/<key> URI or { s3: <key> }`);
    }
    return { s3: validateKey(m[2]), storage: m[1] || undefined };
  }
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) {
    throw invalid(`Invalid S3 object: expected a URI string or { s3: <key> }, got ${obj === null ? 'null' : typeof obj}`);
  }
  const { s3, storage, presigned } = obj as Record<string, unknown>;
  if (storage !== undefined && storage !== null && typeof storage !== 'string') throw invalid('S3 object "storage" must be a string');
  if (presigned !== undefined && presigned !== null && typeof presigned !== 'string') throw invalid('S3 object "presigned" must be a string');
  const record: S3ObjectRecord = { s3: validateKey(s3) };
  if (storage) record.storage = storage;
  if (presigned) record.presigned = presigned;
  return record;
}

/** The URI form: `s3://<storage>/<key>`, or `s3:///<key>` for the default storage. */
export function formatS3Object(obj: S3Object): S3ObjectURI {
  const { s3, storage } = parseS3Object(obj);
  return `s3://${storage ?? ''}/${s3}`;
}

/** Type guard for untrusted input (a webhook's JSON): true only for a valid URI or record. */
export function isS3Object(x: unknown): x is S3Object {
  if (typeof x !== 'string' && (x === null || typeof x !== 'object')) return false;
  try {
    parseS3Object(x as S3Object);
    return true;
  } catch {
    return false;
  }
}
