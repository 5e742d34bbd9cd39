/**
 * The same lake suite on every catalog (DuckDB file, SQLite, PostgreSQL) and every data location
 * (the fs folder, S3 on s3rver): the Parquet files really land in the storage, snapshots in the catalog.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { configure, close, ducklake, upsertPartition, appendPartition, listS3Files, type MillraceConfig } from '../../src/index.js';
import { createBucket, ensureExtensions, freshHome, pgCatalog } from '../helpers/ducklake.js';
import { freshDatabase } from '../setup/pgdb.js';

const home = freshHome('dlmatrix');
const BUCKET = 'ducklake-matrix';

type Lake = { name: string; storage?: string; prefix: string };
const lakes: Lake[] = [];
for (const catalog of ['duckdb', 'sqlite', 'postgresql'] as const) {
  for (const location of ['fs', 's3'] as const) {
    lakes.push({ name: `${catalog}_${location}`, storage: location === 's3' ? 'lakes3' : undefined, prefix: `lakes/${catalog}/` });
  }
}

beforeAll(async () => {
  const s3 = inject('s3');
  await createBucket(s3, BUCKET);
  const pgUrl = await freshDatabase(inject('pgUrl'), 'millrace_dlmatrix_fs');
  const pgUrl2 = await freshDatabase(inject('pgUrl'), 'millrace_dlmatrix_s3');
  const catalogs = {
    duckdb_fs: { type: 'duckdb', path: join(home, 'cat', 'fs.ducklake') },
    duckdb_s3: { type: 'duckdb', path: join(home, 'cat', 's3.ducklake') },
    sqlite_fs: { type: 'sqlite', path: join(home, 'cat', 'fs.sqlite') },
    sqlite_s3: { type: 'sqlite', path: join(home, 'cat', 's3.sqlite') },
    // One in the field form, one as a URL: both configs a user can paste.
    postgresql_fs: pgCatalog(pgUrl),
    postgresql_s3: { type: 'postgresql', url: pgUrl2 },
  } as const;
  const config: MillraceConfig = {
    secondaryStorage: {
      lakes3: { type: 's3', bucket: BUCKET, endPoint: s3.endPoint, region: s3.region, accessKey: s3.accessKey, secretKey: s3.secretKey, pathStyle: true },
    },
    ducklakes: Object.fromEntries(lakes.map((l) => [l.name, { catalog: catalogs[l.name as keyof typeof catalogs], storage: l.storage, prefix: l.prefix }])),
    duckdb: { extensionDirectory: await ensureExtensions() },
  };
  await configure(config);
});

afterAll(() => close());

async function keys(storage: string | undefined, prefix: string): Promise<string[]> {
  const out: string[] = [];
  for await (const f of listS3Files({ storage, prefix })) out.push(f.s3);
  return out;
}

describe.each(lakes)('ducklake $name', (lake) => {
  const sql = ducklake(lake.name);

  it('creates a table, inserts, and writes Parquet files into the storage with a snapshot each', async () => {
    await sql`CREATE TABLE IF NOT EXISTS events (id BIGINT NOT NULL, kind VARCHAR, happened TIMESTAMPTZ, score DOUBLE)`.execute();
    const before = await keys(lake.storage, lake.prefix);
    const snapshotsBefore = await sql`SELECT count(*) FROM ${sql.ident(`lake_${lake.name}`)}.snapshots()`.fetchOneScalar();

    const at = new Date('2026-11-21T10:00:00.000Z');
    await sql`INSERT INTO events VALUES (${1}, ${'click'}, ${at}, ${0.5}), (${2}, ${'view'}, ${at}, ${1.5})`.execute();

    const after = await keys(lake.storage, lake.prefix);
    const added = after.filter((k) => !before.includes(k));
    expect(added.length).toBeGreaterThan(0);
    expect(added.every((k) => k.startsWith(`${lake.prefix}main/events/`) && k.endsWith('.parquet'))).toBe(true);
    const snapshotsAfter = await sql`SELECT count(*) FROM ${sql.ident(`lake_${lake.name}`)}.snapshots()`.fetchOneScalar();
    expect(snapshotsAfter).toBe((snapshotsBefore as number) + 1);

    const rows = await sql`SELECT id, kind, happened, score FROM events ORDER BY id`.fetch();
    expect(rows).toEqual([
      { id: 1, kind: "click", happened: at, score: 0.5 },
      { id: 2, kind: "view", happened: at, score: 1.5 },
    ]);
  });

  it('time travels: AT (VERSION => n) sees the older snapshot', async () => {
    const v = (await sql`SELECT max(snapshot_id) FROM ${sql.ident(`lake_${lake.name}`)}.snapshots()`.fetchOneScalar()) as number;
    const n = (await sql`SELECT count(*) FROM events`.fetchOneScalar()) as number;
    await sql`INSERT INTO events VALUES (${100}, ${'later'}, ${null}, ${null})`.execute();
    expect(await sql`SELECT count(*) FROM events`.fetchOneScalar()).toBe(n + 1);
    expect(await sql`SELECT count(*) FROM events AT (VERSION => ${v})`.fetchOneScalar()).toBe(n);
  });

  it('upsertPartition is idempotent and appendPartition appends', async () => {
    const opts = { ducklake: lake.name, table: 'daily', selectSql: 'SELECT id, kind FROM events WHERE id < 100', partition: '2026-11-21', uniqueKey: 'id' };
    await upsertPartition(opts).execute();
    await upsertPartition(opts).execute();
    const rows = await sql`SELECT id, kind, _wm_partition FROM daily ORDER BY id`.fetch();
    expect(rows).toEqual([
      { id: 1, kind: 'click', _wm_partition: '2026-11-21' },
      { id: 2, kind: 'view', _wm_partition: '2026-11-21' },
    ]);
    // The partition column is physical: files land under _wm_partition=<value>/.
    const files = await keys(lake.storage, `${lake.prefix}main/daily/`);
    expect(files.some((k) => k.includes('_wm_partition=2026-11-21/') && k.endsWith('.parquet'))).toBe(true);

    const log = { ducklake: lake.name, table: 'log', selectSql: 'SELECT id FROM events WHERE id < 100', partition: 'p1' };
    await appendPartition(log).execute();
    await appendPartition(log).execute();
    expect(await sql`SELECT count(*) FROM log`.fetchOneScalar()).toBe(4);
  });

  it('reads and writes S3Objects in its storage', async () => {
    const file = { s3: `exports/${lake.name}/events.parquet`, ...(lake.storage ? { storage: lake.storage } : {}) };
    await sql`COPY (SELECT * FROM events) TO ${file} (FORMAT parquet)`.execute();
    expect(await keys(lake.storage, `exports/${lake.name}/`)).toEqual([file.s3]);
    const n = await sql`SELECT count(*) AS n FROM read_parquet(${file})`.fetchOneScalar();
    expect(n).toBe(await sql`SELECT count(*) FROM events`.fetchOneScalar());
    // The URI form of the same S3Object: s3:///key for the default storage, s3://<storage>/key.
    const uri = `s3://${lake.storage ?? ''}/${file.s3}`;
    expect(await sql`SELECT count(*) AS n FROM read_parquet(${uri})`.fetchOneScalar()).toBe(n);
  });
});
