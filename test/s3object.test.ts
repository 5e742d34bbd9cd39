/** S3Object: the URI and record forms, strict parsing, key validation, the type guard. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatS3Object, isS3Object, parseS3Object, validateKey, type S3Object } from '../src/s3object.js';

const invalid = (fn: () => unknown) => expect(fn).toThrow(expect.objectContaining({ name: 'MillraceError', code: 'InvalidS3Object' }));

describe('parseS3Object', () => {
  it('reads URIs and records', () => {
    expect(parseS3Object('s3:///a/b.csv')).toEqual({ s3: 'a/b.csv', storage: undefined });
    expect(parseS3Object('s3://storage_1/data.csv')).toEqual({ s3: 'data.csv', storage: 'storage_1' });
    expect(parseS3Object('s3://s/dir/with spaces/ünï.txt')).toEqual({ s3: 'dir/with spaces/ünï.txt', storage: 's' });
    expect(parseS3Object({ s3: 'k', storage: 'x', presigned: 'sig=1' })).toEqual({ s3: 'k', storage: 'x', presigned: 'sig=1' });
    expect(parseS3Object({ s3: 'k', storage: '' })).toEqual({ s3: 'k' });
  });

  it('rejects bare strings and malformed URIs', () => {
    for (const bad of ['data.csv', 's3://', 's3:///', 's3://only-storage', 'S3://a/b', 'https://a/b', '', ' s3:///a']) invalid(() => parseS3Object(bad as S3Object));
    expect(() => parseS3Object('data.csv' as S3Object)).toThrow(/expected an s3:\/\/<storage>\/<key> URI/);
    for (const bad of [null, undefined, 1, [], { s3: 1 }, { s3: 'k', storage: 1 }, { s3: 'k', presigned: 2 }]) invalid(() => parseS3Object(bad as never));
  });

  it('rejects unsafe keys', () => {
    for (const key of ['', '/abs', '..', 'a/..', '../a', 'a/../b', 'nul\0', 'back\\slash', 'a//b', 'a/', 'dir//', '.', './a', 'a/./b', 'a/.']) {
      invalid(() => validateKey(key));
      invalid(() => parseS3Object({ s3: key }));
    }
    for (const key of ['a..b', '...', 'a/.../b', '.hidden', 'a/.x/b', 'a/x.']) expect(validateKey(key)).toBe(key);
  });
});

describe('formatS3Object and isS3Object', () => {
  it('formats the URI form', () => {
    expect(formatS3Object({ s3: 'a.csv' })).toBe('s3:///a.csv');
    expect(formatS3Object({ s3: 'a/b.csv', storage: 'storage_1' })).toBe('s3://storage_1/a/b.csv');
    expect(formatS3Object('s3://x/y')).toBe('s3://x/y');
  });

  it('guards untrusted input', () => {
    expect(isS3Object({ s3: 'a' })).toBe(true);
    expect(isS3Object('s3:///a')).toBe(true);
    for (const x of ['a', { s3: '../a' }, {}, null, 5, { s3: 'a', storage: [] }]) expect(isS3Object(x)).toBe(false);
  });

  it('round-trips any valid key and storage name', () => {
    const segment = fc.string({ minLength: 1 }).filter((s) => !s.includes('/') && !s.includes('\\') && !s.includes('\0') && s !== '..' && s !== '.');
    const key = fc.array(segment, { minLength: 1, maxLength: 4 }).map((p) => p.join('/'));
    const storage = fc.option(fc.stringMatching(/^[a-z_][a-z0-9_]{0,10}$/), { nil: undefined });
    fc.assert(
      fc.property(key, storage, (s3, name) => {
        const record = name ? { s3, storage: name } : { s3 };
        const uri = formatS3Object(record);
        expect(parseS3Object(uri)).toEqual({ s3, storage: name });
        expect(formatS3Object(parseS3Object(uri))).toBe(uri);
      }),
    );
  });
});
