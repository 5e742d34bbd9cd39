/**
 * The Postgres driver under faults a real server produces: refused connections, a terminated backend,
 * cancels fired at random moments, and a server restart (on a private cluster, stopped and started here).
 */
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { configure } from '../src/config.js';
import { close } from '../src/lifecycle.js';
import { datatable } from '../src/sql/datatable.js';
import { MillraceError } from '../src/errors.js';
import { freshDatabase } from './setup/pgdb.js';

process.env.MILLRACE_HOME = mkdtempSync(join(tmpdir(), 'millrace-dt-faults-'));

let url: string;

function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/** Settles within `ms` or reports that it did not. */
function settleWithin<T>(p: Promise<T>, ms: number): Promise<{ ok: T } | { error: unknown } | 'pending'> {
  return Promise.race([
    p.then((ok) => ({ ok }), (error) => ({ error })),
    new Promise<'pending'>((r) => setTimeout(() => r('pending'), ms).unref()),
  ]);
}

beforeAll(async () => {
  url = await freshDatabase(inject('pgUrl'), 'millrace_faults');
  await configure({ datatables: { main: url, admin: url, down: `postgres://postgres@127.0.0.1:${await closedPort()}/nothing` } });
});

afterAll(async () => {
  await close();
});

describe('refused connections', () => {
  it('rejects every one of 12 concurrent statements with a Connection error', async () => {
    const sql = datatable('down');
    const settled = await Promise.all(Array.from({ length: 12 }, (_, i) => settleWithin(sql`SELECT ${i}::int AS v`.fetchOneScalar(), 30_000)));
    expect(settled.filter((s) => s === 'pending')).toHaveLength(0);
    for (const s of settled) expect((s as { error: MillraceError }).error).toMatchObject({ name: 'MillraceError', code: 'Connection' });
  });
});

describe('a terminated backend (57P01)', () => {
  it('is a Connection error, and the pool keeps serving', async () => {
    const sql = datatable();
    // Another session terminates the one running the sleep, as an administrator or a failover would.
    const running = sql`SELECT pg_sleep(30)`.execute().then(() => undefined, (e) => e);
    const admin = datatable('admin');
    for (let i = 0; i < 100; i++) {
      const n = await admin`SELECT pg_terminate_backend(pid) AS n FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(30)%' AND pid <> pg_backend_pid()`.fetch({ resultCollection: 'last_statement_all_rows' });
      if (n.length) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const err = await running;
    expect(err).toMatchObject({ code: 'Connection' });
    expect(await sql`SELECT 1 AS v`.fetchOneScalar()).toBe(1);
  });
});
