/** Runs the ducklake usage scenarios U6..U9 from examples/ exactly as a user would, and checks what they return and leave behind. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configure, close, ducklake, listS3Files, loadS3File, writeS3File } from '../src/index.js';
import { ensureExtensions, freshHome } from './helpers/ducklake.js';
import { main as u6 } from '../examples/u6-ducklake-lookup.js';
import { main as u7, type Message } from '../examples/u7-load-messages.js';
import { main as u8 } from '../examples/u8-query-file.js';
import { main as u9 } from '../examples/u9-materialize-partition.js';

freshHome('dlexamples');
beforeAll(async () => configure({ duckdb: { extensionDirectory: await ensureExtensions() } }));
afterAll(() => close());

async function lakeFiles(): Promise<string[]> {
  const out: string[] = [];
  for await (const f of listS3Files({ prefix: 'ducklake/main/' })) out.push(f.s3);
  return out;
}

describe('ducklake usage scenarios', () => {
  it('U6 looks up a row on the lake', async () => {
    const sql = ducklake();
    await sql`CREATE TABLE friend (id VARCHAR, name VARCHAR)`.execute();
    await sql`INSERT INTO friend VALUES ('u1', 'Robin'), ('u2', 'Ada')`.execute();
    expect(await u6('u2')).toEqual({ id: 'u2', name: 'Ada' });
    expect(await u6('nobody')).toBeNull();
  });

  it('U7 loads a batch in one statement; each insert adds Parquet files and a snapshot', async () => {
    const batch: Message[] = [
      { content: 'love it', author: 'ada', date: '2026-11-20', sentiment: 0.9 },
      { content: "it's 'fine'; DROP TABLE messages; --", author: 'bob', date: '2026-11-21', sentiment: 0.1 },
      { content: 'meh', author: 'ada', date: '2026-11-21', sentiment: null },
    ];
    const filesBefore = await lakeFiles();
    const first = await u7(batch);
    const filesAfterFirst = await lakeFiles();
    expect(first.total).toBe(3);
    const newFiles = filesAfterFirst.filter((k) => !filesBefore.includes(k));
    expect(newFiles.length).toBeGreaterThan(0);
    expect(newFiles.every((k) => k.startsWith('ducklake/main/main/messages/') && k.endsWith('.parquet'))).toBe(true);

    const second = await u7(batch.slice(0, 2));
    expect(second.total).toBe(5);
    expect(second.snapshot).toBe((first.snapshot as number) + 1);
    expect((await lakeFiles()).length).toBeGreaterThan(filesAfterFirst.length);

    const rows = await ducklake()`SELECT content, author, date, sentiment FROM messages ORDER BY date, author, content LIMIT 3`.fetch();
    expect(rows).toEqual([
      { content: 'love it', author: 'ada', date: '2026-11-20', sentiment: 0.9 },
      { content: 'love it', author: 'ada', date: '2026-11-20', sentiment: 0.9 },
      { content: 'meh', author: 'ada', date: '2026-11-21', sentiment: null },
    ]);
    // The NOT NULL columns refuse a message without an author.
    await expect(u7([{ content: 'x', author: null as unknown as string, date: '2026-11-21', sentiment: 1 }])).rejects.toMatchObject({ code: 'Sql' });
    expect(await ducklake()`SELECT count(*) FROM messages`.fetchOneScalar()).toBe(5);
  });

  it('U8 queries a Parquet file in storage directly', async () => {
    const file = { s3: 'inputs/numbers.parquet' };
    await ducklake()`COPY (SELECT range AS n FROM range(42)) TO ${file} (FORMAT parquet)`.execute();
    expect(await u8(file)).toBe(42);
    // A file written with writeS3File (here a copy of those bytes) is read the same way.
    const copy = await writeS3File({ s3: 'inputs/copy.parquet' }, await loadS3File(file));
    expect(await u8(copy)).toBe(42);
  });

  it('U9 re-running a partition leaves the same rows', async () => {
    const once = await u9('2026-11-21');
    const twice = await u9('2026-11-21');
    expect(twice).toEqual(once);
    expect(once).toEqual([
      { id: 'ada', sentiment: 0.9, messages: 3 },
      { id: 'bob', sentiment: 0.1, messages: 2 },
    ]);
    await u9('2026-11-22');
    expect(await ducklake()`SELECT count(*) FROM daily_sentiment`.fetchOneScalar()).toBe(4);
  });
});
