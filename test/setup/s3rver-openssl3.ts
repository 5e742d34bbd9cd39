/**
 * s3rver 3.7 encrypts ListObjectsV2 continuation tokens with single DES, which OpenSSL 3 (Node >= 17)
 * refuses, so every truncated listing fails with a 500. Two-key triple DES with both keys equal is
 * the same cipher and is still available, so the token format does not change.
 * Affects only the process that runs s3rver (the global setup, or a benchmark).
 */
import crypto from 'node:crypto';

const patched = Symbol.for('millrace.s3rver-des');
const c = crypto as unknown as Record<string | symbol, unknown>;
if (!c[patched]) {
  c[patched] = true;
  const createCipheriv = crypto.createCipheriv;
  const createDecipheriv = crypto.createDecipheriv;
  const widen = (alg: string, key: crypto.CipherKey): [string, crypto.CipherKey] =>
    alg === 'des' && Buffer.isBuffer(key) && key.length === 8 ? ['des-ede-cbc', Buffer.concat([key, key])] : [alg, key];
  c.createCipheriv = (alg: string, key: crypto.CipherKey, ...rest: unknown[]) =>
    (createCipheriv as (...a: unknown[]) => unknown)(...widen(alg, key), ...rest);
  c.createDecipheriv = (alg: string, key: crypto.CipherKey, ...rest: unknown[]) =>
    (createDecipheriv as (...a: unknown[]) => unknown)(...widen(alg, key), ...rest);
}
