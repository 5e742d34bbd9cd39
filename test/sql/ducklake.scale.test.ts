/**
 * ducklake() under load: concurrent statements on one lake run at the same time (a small pool of
 * connections per lake and schema), a transaction spanning calls keeps its connection, big
 * results convert exactly, and `.stream()` reads rows in batches and gives its connection back.
 */
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { close, configure, ducklake } from '../../src/index.js';
import { ensureExtensions, freshHome } from '../helpers/ducklake.js';

freshHome('ducklake-scale');

/** An HTTP server that holds every request `delayMs` and records the most it held at once. */
function slowCsvServer(delayMs: number) {
  const state = { inFlight: 0, most: 0, url: '' };
  const body = 'a,b\n1,2\n3,4\n';
  const server: Server = createServer((req, res) => {
    state.inFlight++;
    state.most = Math.max(state.most, state.inFlight);
    setTimeout(() => {
      state.inFlight--;
      res.writeHead(200, { 'content-type': 'text/csv', 'content-length': Buffer.byteLength(body) });
      res.end(req.method === 'HEAD' ? undefined : body);
    }, delayMs);
  });
  return {
    state,
    start: () => new Promise<void>((r) => server.listen(0, '127.0.0.1', () => ((state.url = `http://127.0.0.1:${(server.address() as { port: number }).port}`), r()))),
    stop: () => new Promise<void>((r) => server.close(() => r())),
  };
}

const slow = slowCsvServer(300);

beforeAll(async () => {
  await configure({ duckdb: { extensionDirectory: await ensureExtensions() } });
  await slow.start();
});
afterAll(async () => {
  await close();
  await slow.stop();
});

describe('concurrent statements on one lake', () => {
  it('two statements started together run at the same time, each on its own connection', async () => {
    const sql = ducklake();
    await sql`SELECT count(*) FROM read_csv(${`${slow.state.url}/warm.csv`})`.fetch();
    slow.state.most = 0;
    const [a, b] = await Promise.all([
      sql`SELECT count(*) AS n FROM read_csv(${`${slow.state.url}/a.csv`})`.fetchOneScalar(),
      sql`SELECT count(*) AS n FROM read_csv(${`${slow.state.url}/b.csv`})`.fetchOneScalar(),
    ]);
    expect([a, b]).toEqual([2, 2]);
    // One connection would have sent the second statement's requests only after the first finished.
    expect(slow.state.most).toBe(2);
  });

  it('each concurrent statement sees its schema (USE) and the lake', async () => {
    const sql = ducklake();
    await sql`CREATE SCHEMA IF NOT EXISTS pooled`.execute();
    await sql`CREATE OR REPLACE TABLE pooled.t AS SELECT 'in schema' AS v`.execute();
    await sql`CREATE OR REPLACE TABLE t AS SELECT 'in main' AS v`.execute();
    const inSchema = ducklake(':pooled');
    const got = await Promise.all(Array.from({ length: 12 }, (_, i) => (i % 2 ? inSchema : sql)`SELECT v FROM t`.fetchOneScalar()));
    expect(got).toEqual(Array.from({ length: 12 }, (_, i) => (i % 2 ? 'in schema' : 'in main')));
  });

  it('a transaction opened by one call keeps its connection until it ends, whatever runs meanwhile', async () => {
    const sql = ducklake();
    await sql`CREATE OR REPLACE TABLE tx (id INTEGER)`.execute();
    await sql`BEGIN TRANSACTION`.execute();
    await sql`INSERT INTO tx VALUES (1)`.execute();
    // Concurrent statements go to the transaction's connection too: they see its uncommitted row.
    const seen = await Promise.all([sql`SELECT count(*) FROM tx`.fetchOneScalar(), sql`SELECT count(*) FROM tx`.fetchOneScalar()]);
    expect(seen).toEqual([1, 1]);
    await sql`ROLLBACK`.execute();
    expect(await sql`SELECT count(*) FROM tx`.fetchOneScalar()).toBe(0);
    // And once it ended, statements run concurrently again.
    slow.state.most = 0;
    await Promise.all([1, 2].map((i) => sql`SELECT count(*) FROM read_csv(${`${slow.state.url}/after${i}.csv`})`.fetch()));
    expect(slow.state.most).toBe(2);
  });
});

describe('concurrent writes in one process', () => {
  it('300 inserts into one table started together all commit (DuckLake retries the commits that conflict)', async () => {
    const sql = ducklake();
    await sql`CREATE OR REPLACE TABLE hits (w INTEGER, i INTEGER)`.execute();
    const settled = await Promise.allSettled(Array.from({ length: 300 }, (_, i) => sql`INSERT INTO hits VALUES (1, ${i})`.execute()));
    expect(settled.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason.message)).toEqual([]);
    expect(await sql`SELECT count(DISTINCT i) FROM hits`.fetchOneScalar()).toBe(300);
  }, 300_000);
});

describe('big results', () => {
  it('rows over many chunks convert column by column exactly: decimals as Number(text), wide integers as bigint, nulls, JSON, __proto__', async () => {
    const sql = ducklake();
    await sql`CREATE OR REPLACE TABLE big_types AS SELECT i, ((i * 7919 % 100003 - 50000) / 100)::DECIMAL(7,2) AS d72, (i * 1000.001)::DECIMAL(15,3) AS d153,
        ((i % 32) * 31.1)::DECIMAL(4,1) AS d41, (i * 2.0001)::DECIMAL(18,4) AS d184, CASE WHEN i % 5 = 0 THEN NULL ELSE i END AS maybe,
        i::BIGINT * 1844674407370955 AS wide, ('{"k":' || i || '}')::JSON AS j, i::INTEGER AS "__proto__", 'v' || i AS s
      FROM range(5000) t(i)`.execute();
    const rows = (await sql`SELECT * FROM big_types ORDER BY i`.fetch()) as Record<string, unknown>[];
    expect(rows).toHaveLength(5000);
    const text = (await sql`SELECT d72::VARCHAR AS d72, d153::VARCHAR AS d153, d41::VARCHAR AS d41, d184::VARCHAR AS d184 FROM big_types ORDER BY i`.fetch()) as Record<string, unknown>[];
    for (let i = 0; i < 5000; i++) {
      const r = rows[i]!;
      expect(r.i).toBe(i);
      expect(r.d72).toBe(Number(text[i]!.d72));
      expect(r.d153).toBe(Number(text[i]!.d153));
      expect(r.d41).toBe(Number(text[i]!.d41));
      // Wider than 15 digits stays exact text.
      expect(r.d184).toBe(text[i]!.d184);
      expect(r.maybe).toBe(i % 5 === 0 ? null : i);
      const wide = BigInt(i) * 1844674407370955n;
      expect(r.wide).toEqual(wide <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(wide) : wide);
      expect(r.j).toEqual({ k: i });
      expect(Object.getPrototypeOf(r)).toBe(Object.prototype);
      expect(Object.hasOwn(r, '__proto__')).toBe(true);
      expect(Object.getOwnPropertyDescriptor(r, '__proto__')!.value).toBe(i);
      expect(r.s).toBe(`v${i}`);
    }
    expect(Object.keys(rows[0]!)).toEqual(['i', 'd72', 'd153', 'd41', 'd184', 'maybe', 'wide', 'j', '__proto__', 's']);
  });
});
