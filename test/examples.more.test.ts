/** Runs examples/datatable-features.ts on a real PostgreSQL and examples/s3object-and-config.ts on fs storages. */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import * as wmill from '../src/index.js';
import { main as features, asReader } from '../examples/datatable-features.js';
import { main as s3objects } from '../examples/s3object-and-config.js';
import { freshDatabase } from './setup/pgdb.js';

process.env.MILLRACE_HOME = mkdtempSync(join(tmpdir(), 'millrace-more-examples-'));
let url: string;

beforeAll(async () => {
  url = await freshDatabase(inject('pgUrl'), 'millrace_more_examples');
});
afterAll(() => wmill.close());

describe('datatable features example', () => {
  it('queries with fragments, identifiers, modes and $1 text', async () => {
    await wmill.configure({ datatables: { main: url } });
    const result = await features(30, 'name');
    expect(result).toEqual({
      rows: [{ name: 'Ada', age: 36 }],
      names: ['Ada', 'Robin'],
      count: 1,
      perStatement: [1, 2],
      oldest: 'Ada',
    });
    // Running it again changes nothing (ON CONFLICT DO NOTHING), and the other sort key works.
    expect((await features(0, 'age')).rows).toEqual([{ name: 'Robin', age: 21 }, { name: 'Ada', age: 36 }]);
  });

  it('runs as a role, and fails rather than fall back when the role cannot read', async () => {
    await wmill.configure({ datatables: { main: url } });
    // Roles are cluster-wide and other test files make their own: this one has a name of its own.
    const role = 'millrace_examples_reader';
    const ident = wmill.datatable().ident(role);
    await wmill.datatable()`DROP ROLE IF EXISTS ${ident}; CREATE ROLE ${ident}`.execute();
    await expect(asReader(role)).rejects.toMatchObject({ code: 'PermissionDenied' });
    await wmill.datatable()`GRANT SELECT ON people TO ${ident}`.execute();
    expect(await asReader(role)).toBe(2);
  });
});

describe('S3Object and configure example', () => {
  it('accepts either form from untrusted JSON and writes to the storage it names', async () => {
    const root = mkdtempSync(join(tmpdir(), 'millrace-s3o-'));
    const fromUri = await s3objects(JSON.parse('{"file":"s3://storage_1/inbox/a.txt"}'), root);
    expect(fromUri).toEqual({
      accepted: true,
      record: { s3: 'inbox/a.txt', storage: 'storage_1' },
      uri: 's3://storage_1/inbox/a.txt',
      storages: ['(default)', 'storage_1'],
    });
    expect(readFileSync(join(root, 'storage_1', 'inbox', 'a.txt'), 'utf8')).toBe('received');

    const fromRecord = await s3objects({ file: { s3: 'inbox/b.txt' } }, root);
    expect(fromRecord).toMatchObject({ accepted: true, uri: 's3:///inbox/b.txt' });
    expect(existsSync(join(root, 'default', 'inbox', 'b.txt'))).toBe(true);

    expect(await s3objects({ file: '../../etc/passwd' }, root)).toEqual({ accepted: false });
    expect(await s3objects({ file: { s3: 'a/../../b' } }, root)).toEqual({ accepted: false });
    expect(await s3objects({}, root)).toEqual({ accepted: false });
  });
});
