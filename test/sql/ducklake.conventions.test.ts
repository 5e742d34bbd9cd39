/**
 * Windmill's DuckDB conventions inside ducklake(): the statement's lake is `dl`, `ATTACH
 * 'ducklake://name'` and `ATTACH 'datatable://name'` reach configured lakes and datatables,
 * `'s3://storage/key'` literals resolve to millrace storages, `.query()` takes `$n` text, and a
 * misspelt `name:schema` says which schema is missing (datatable too).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { close, configure, datatable, ducklake, listS3Files, loadS3File, writeS3File } from '../../src/index.js';
import { caught, ensureExtensions, freshHome } from '../helpers/ducklake.js';
import { freshDatabase } from '../setup/pgdb.js';
import { planConventions } from '../../src/sql/duckdb/conventions.js';
import { main as sentiment, SCRIPT } from '../../examples/u7-sentiment-script.js';

const home = freshHome('dlconventions');

let pgUrl = '';

beforeAll(async () => {
  pgUrl = await freshDatabase(inject('pgUrl'), 'millrace_dl_conventions');
  const storage1 = { type: 'fs' as const, root: mkdtempSync(join(tmpdir(), 'millrace-storage1-')) };
  await configure({
    secondaryStorage: { storage_1: storage1 },
    datatables: { pg: pgUrl },
    ducklakes: {
      other: { catalog: { type: 'duckdb', path: join(home, 'ducklake', 'other.ducklake') }, prefix: 'ducklake/other/' },
    },
    duckdb: { extensionDirectory: await ensureExtensions() },
  });
  await ducklake()`CREATE TABLE IF NOT EXISTS friend (id VARCHAR, name VARCHAR)`.execute();
  await ducklake()`INSERT INTO friend VALUES ('u1', 'Robin'), ('u2', 'Ada')`.execute();
  await ducklake('other')`CREATE TABLE IF NOT EXISTS score (id VARCHAR, points INTEGER)`.execute();
  await ducklake('other')`INSERT INTO score VALUES ('u1', 10), ('u2', 20)`.execute();
});
afterAll(() => close());

describe('dl is the statement\'s lake', () => {
  it('dl.table, USE dl and unqualified names all reach the lake', async () => {
    expect(await ducklake()`SELECT name FROM dl.friend WHERE id = ${'u2'}`.fetchOneScalar()).toBe('Ada');
    expect(await ducklake()`SELECT count(*) FROM dl.main.friend`.fetchOneScalar()).toBe(2);
    expect(await ducklake()`USE dl; SELECT count(*) FROM friend`.fetchOneScalar()).toBe(2);
    expect(await ducklake()`SELECT count(*) FROM friend`.fetchOneScalar()).toBe(2);
    expect(await ducklake()`SELECT count(*) > 0 FROM dl.snapshots()`.fetchOneScalar()).toBe(true);
  });

  it('in ducklake("other"), dl is that lake', async () => {
    expect(await ducklake('other')`SELECT sum(points) FROM dl.score`.fetchOneScalar()).toBe(30);
    expect(await ducklake('other')`SELECT sum(points) FROM score`.fetchOneScalar()).toBe(30);
  });

  it('a USE of another catalog does not outlive its statement', async () => {
    await ducklake()`ATTACH 'ducklake://other' AS o; USE o; SELECT 1`.execute();
    expect(await ducklake()`SELECT count(*) FROM friend`.fetchOneScalar()).toBe(2);
  });
});

describe("ATTACH 'ducklake://name'", () => {
  it('attaches another configured lake for a join', async () => {
    const rows = await ducklake()`ATTACH 'ducklake://other' AS o;
      SELECT f.name, s.points FROM dl.friend f JOIN o.score s ON s.id = f.id ORDER BY f.id`.fetch();
    expect(rows).toEqual([{ name: 'Robin', points: 10 }, { name: 'Ada', points: 20 }]);
    // Again, in a new text: attaching twice is harmless.
    expect(await ducklake()`ATTACH 'ducklake://other' AS o; SELECT count(*) FROM o.score`.fetchOneScalar()).toBe(2);
  });

  it("ATTACH 'ducklake://main' AS dl (and 'ducklake' AS dl) when dl is attached is harmless", async () => {
    expect(await ducklake()`ATTACH 'ducklake://main' AS dl; USE dl; SELECT count(*) FROM friend`.fetchOneScalar()).toBe(2);
    expect(await ducklake()`ATTACH 'ducklake' AS dl; SELECT count(*) FROM dl.friend`.fetchOneScalar()).toBe(2);
    expect(await ducklake('other')`ATTACH 'ducklake://main' AS dl; SELECT count(*) FROM dl.friend`.fetchOneScalar()).toBe(2);
  });

  it('an unknown lake is a typed error naming it, before anything runs', async () => {
    const e = await caught(ducklake()`ATTACH 'ducklake://nope' AS x; SELECT 1`.fetch());
    expect(e.code).toBe('Config');
    expect(e.message).toContain('"nope"');
  });
});

describe("ATTACH 'datatable://name'", () => {
  it('joins lake tables with a PostgreSQL datatable', async () => {
    await datatable('pg')`CREATE TABLE IF NOT EXISTS account (id TEXT PRIMARY KEY, email TEXT)`.execute();
    await datatable('pg')`INSERT INTO account VALUES ('u1', 'robin@example.com') ON CONFLICT DO NOTHING`.execute();
    const rows = await ducklake()`ATTACH 'datatable://pg' AS pg;
      SELECT f.name, a.email FROM dl.friend f JOIN pg.account a ON a.id = f.id`.fetch();
    expect(rows).toEqual([{ name: 'Robin', email: 'robin@example.com' }]);
    expect(await ducklake()`ATTACH 'datatable://pg' AS pg; SELECT count(*) FROM pg.public.account`.fetchOneScalar()).toBe(1);
  });

  it('reaches the embedded default datatable (read-only from DuckDB)', async () => {
    await datatable()`CREATE TABLE IF NOT EXISTS prefs (id TEXT, theme TEXT)`.execute();
    await datatable()`DELETE FROM prefs`.execute();
    await datatable()`INSERT INTO prefs VALUES ('u2', 'dark')`.execute();
    const rows = await ducklake()`ATTACH 'datatable://main' AS pg;
      SELECT f.name, p.theme FROM dl.friend f JOIN pg.prefs p ON p.id = f.id`.fetch();
    expect(rows).toEqual([{ name: 'Ada', theme: 'dark' }]);
    const e = await caught(ducklake()`ATTACH 'datatable' AS pg; INSERT INTO pg.prefs VALUES ('u1', 'light')`.execute());
    expect(e.code).toBe('Unsupported');
    expect(e.message).toMatch(/embedded/);
    // The datatable still works for its own client afterwards.
    expect(await datatable()`SELECT count(*)::int AS n FROM prefs`.fetchOneScalar()).toBe(1);
  });

  it('an unknown datatable is a typed error naming it', async () => {
    const e = await caught(ducklake()`ATTACH 'datatable://nope' AS x; SELECT 1`.fetch());
    expect(e.code).toBe('Config');
    expect(e.message).toContain('"nope"');
  });
});

describe("'s3://storage/key' literals", () => {
  it('resolve to the default storage and to a secondary storage, for reads and COPY ... TO', async () => {
    await writeS3File({ s3: 'lit/in.csv' }, 'n\n1\n2\n');
    await writeS3File({ s3: 'lit/in.csv', storage: 'storage_1' }, 'n\n10\n');
    expect(await ducklake()`SELECT sum(n) FROM read_csv('s3:///lit/in.csv')`.fetchOneScalar()).toBe(3);
    expect(await ducklake()`SELECT sum(n) FROM read_csv('s3://storage_1/lit/in.csv')`.fetchOneScalar()).toBe(10);
    await ducklake()`COPY (SELECT 7 AS n) TO 's3://storage_1/lit/out.csv' (FORMAT csv)`.execute();
    expect(new TextDecoder().decode(await loadS3File({ s3: 'lit/out.csv', storage: 'storage_1' }))).toBe('n\n7\n');
    await ducklake().query("COPY (SELECT 8 AS n) TO 's3:///lit/out.csv' (FORMAT csv)").execute();
    expect(new TextDecoder().decode(await loadS3File({ s3: 'lit/out.csv' }))).toBe('n\n8\n');
  });

  it('leave other strings alone', async () => {
    expect(await ducklake()`SELECT 's3:///lit/in.csv' AS s, '''s3:///x''' AS t`.fetchOne()).toEqual({ s: 's3:///lit/in.csv', t: "'s3:///x'" });
  });

  it('an unknown storage name is left to DuckDB as a bucket URL', async () => {
    const e = await caught(ducklake()`SELECT * FROM read_csv('s3://no-such-storage/x.csv')`.fetch());
    expect(e.code).not.toBe('InvalidS3Object');
  });
});

describe('query() and listS3Files records', () => {
  it('ducklake().query takes $n text and positional parameters', async () => {
    expect(await ducklake().query('SELECT name FROM dl.friend WHERE id = $1', 'u1').fetchOneScalar()).toBe('Robin');
    expect(await ducklake('other').query('SELECT $1::INT + $2 AS n', 1, 2).fetchOneScalar()).toBe(3);
  });

  it('a listS3Files record binds as an S3Object', async () => {
    const found = [];
    for await (const f of listS3Files({ prefix: 'lit/in.csv' })) found.push(f);
    expect(found[0]).toMatchObject({ s3: 'lit/in.csv', size: 6 });
    expect(await ducklake()`SELECT sum(n) FROM read_csv(${found[0]})`.fetchOneScalar()).toBe(3);
  });
});

describe('a misspelt schema names itself', () => {
  it('ducklake(":analytcs")', async () => {
    const e = await caught(ducklake(':analytcs')`SELECT * FROM events`.fetch());
    expect(e.code).toBe('NotFound');
    expect(e.message).toContain('analytcs');
    expect(e.message).not.toContain('events');
  });

  it('datatable(":analytcs"), on the embedded default and on PostgreSQL', async () => {
    for (const name of [':analytcs', 'pg:analytcs']) {
      const e = await caught(datatable(name)`SELECT * FROM events`.fetch());
      expect(e.code).toBe('NotFound');
      expect(e.message).toContain('analytcs');
    }
    await datatable('pg')`CREATE SCHEMA IF NOT EXISTS analytics; CREATE TABLE IF NOT EXISTS analytics.events (n int)`.execute();
    expect(await datatable('pg:analytics')`SELECT count(*)::int FROM events`.fetchOneScalar()).toBe(0);
  });
});

describe('the seeds\' sentiment script', () => {
  it('runs as written through ducklake(), twice', async () => {
    expect(SCRIPT).toContain("ATTACH 'ducklake://main' AS dl;");
    const batch = [
      { content: 'love it', author: 'ada', date: '2026-11-20' },
      { content: "it's 'fine'; DROP TABLE messages; --", author: 'bob', date: '2026-11-21' },
    ];
    expect(await sentiment(batch)).toBe(2);
    expect(await sentiment(batch.slice(0, 1))).toBe(3);
    const rows = await ducklake()`SELECT content, author FROM dl.messages ORDER BY author, content`.fetch();
    expect(rows).toEqual([
      { content: 'love it', author: 'ada' },
      { content: 'love it', author: 'ada' },
      { content: "it's 'fine'; DROP TABLE messages; --", author: 'bob' },
    ]);
  });
});

describe('the rewrite, read from the text alone', () => {
  const ctx = { lake: 'main', lakeCatalog: (n: string) => `lake_${n}`, datatableCatalog: (n: string) => `datatable_${n}`, isStorage: (n: string) => n === '' || n === 'storage_1' };

  it('rewrites catalogs and file literals only in code, never in strings, comments or other positions', () => {
    const plan = planConventions([
      "-- $x (text)\nATTACH 'ducklake://other' AS o",
      `SELECT dl.a, t.dl.b, 'dl.c', "dl".d, o.e /* dl.f */, E'dl.g', $$dl.h$$, $1 -- dl.i
       FROM dl.t JOIN read_csv(['s3:///k1.csv', 's3://storage_1/k2.csv']) ON true
       WHERE s = 's3:///not-a-file' AND u = 's3://bucket/k'`,
      "COPY (SELECT 1) TO 's3:///out.csv'",
      'DETACH o',
      'SELECT o.x FROM t o',
    ], ctx);
    expect(plan.lakes).toEqual(new Set(['other']));
    expect(plan.objects).toEqual([{ storage: undefined, key: 'k1.csv' }, { storage: 'storage_1', key: 'k2.csv' }, { storage: undefined, key: 'out.csv' }]);
    const out = plan.render(['<1>', '<2>', '<3>']);
    expect(out[0]).toBe('SELECT 1 WHERE false');
    expect(out[1]).toBe(`SELECT "lake_main".a, t.dl.b, 'dl.c', "lake_main".d, "lake_other".e /* dl.f */, E'dl.g', $$dl.h$$, $1 -- dl.i
       FROM "lake_main".t JOIN read_csv([<1>, <2>]) ON true
       WHERE s = 's3:///not-a-file' AND u = 's3://bucket/k'`);
    expect(out[2]).toBe('COPY (SELECT 1) TO <3>');
    expect(out[3]).toBe('SELECT 1 WHERE false');
    expect(out[4]).toBe('SELECT o.x FROM t o');
  });

  it('notices USE and temporary tables', () => {
    expect(planConventions(['USE dl', 'SELECT 1'], ctx)).toMatchObject({ uses: true, temporary: false });
    expect(planConventions(['CREATE OR REPLACE TEMP TABLE t AS SELECT 1'], ctx)).toMatchObject({ uses: false, temporary: true });
    expect(planConventions(['CREATE TEMPORARY TABLE t (a INT)'], ctx).temporary).toBe(true);
    expect(planConventions(['CREATE TABLE temp (a INT)'], ctx).temporary).toBe(false);
  });

  it('ATTACH with options is Unsupported, without an alias InvalidArgument', () => {
    expect(() => planConventions(["ATTACH 'ducklake://other' AS o (READ_ONLY)"], ctx)).toThrow(expect.objectContaining({ code: 'Unsupported' }));
    expect(() => planConventions(["ATTACH 'datatable'"], ctx)).toThrow(expect.objectContaining({ code: 'InvalidArgument' }));
  });
});
