/**
 * The embedded default datatable: PGlite (PostgreSQL compiled to WebAssembly) persisted in a folder,
 * served in-process on a private unix socket so the regular postgres.js driver reaches it exactly
 * like a real server. PGlite runs one connection at a time, so its pool has one connection.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import type { Server, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MillraceError } from '../../errors.js';
import { importBackend } from '../../lazy.js';
import type { LibpqTarget } from '../engine.js';
import type { PostgresTarget } from './driver.js';

export type EmbeddedPostgres = { target: PostgresTarget; libpq: LibpqTarget; close(): Promise<void> };

export async function startEmbeddedPostgres(label: string, dataDir: string): Promise<EmbeddedPostgres> {
  const { PGlite } = await importBackend<typeof import('@electric-sql/pglite')>('@electric-sql/pglite');
  const { PGLiteSocketServer } = await importBackend<typeof import('@electric-sql/pglite-socket')>('@electric-sql/pglite-socket');
  mkdirSync(dataDir, { recursive: true });
  let db: InstanceType<typeof PGlite>;
  try {
    db = await PGlite.create(dataDir);
  } catch (e) {
    throw new MillraceError('Connection', `${label}: cannot open the embedded PostgreSQL in ${dataDir}: ${(e as Error).message}`, { cause: e });
  }
  unrefTimers(db as unknown as Executor);
  // A private folder (mode 0700) keeps other local users off the socket; TCP loopback is the fallback on Windows.
  const socketDir = process.platform === 'win32' ? undefined : mkdtempSync(join(tmpdir(), 'millrace-pg-'));
  const path = socketDir ? join(socketDir, '.s.PGSQL.5432') : undefined;
  // The pool holds one connection; DuckDB's postgres extension (ATTACH 'datatable://main') opens others.
  // PGlite still runs one query at a time: pglite-socket queues them, an open transaction's first.
  const server = new PGLiteSocketServer({ db, ...(path ? { path } : { host: '127.0.0.1', port: 0 }), maxConnections: 16 });
  try {
    await server.start();
  } catch (e) {
    // Nothing may be left behind: the database is closed (its data dir unlocked) and the socket folder removed.
    await db.close().catch(() => undefined);
    if (socketDir) rmSync(socketDir, { recursive: true, force: true });
    throw new MillraceError('Connection', `${label}: cannot serve the embedded PostgreSQL: ${(e as Error).message}`, { cause: e });
  }
  // Our in-process server must never keep a finished script alive; the client side holds the loop while it waits.
  const net = (server as unknown as { server: Server }).server;
  net.unref();
  net.on('connection', (s: Socket) => s.unref());
  const [host, port] = path ? ['localhost', 5432] : server.getServerConn().split(':');
  return {
    target: {
      label,
      max: 1,
      options: {
        ...(path ? { path } : { host, port: Number(port) }),
        user: 'postgres',
        database: 'postgres',
        ssl: false,
      },
    },
    // Read-only: DuckDB writes to PostgreSQL with COPY FROM STDIN, which PGlite's socket server cannot take.
    libpq: { conninfo: `host=${socketDir ?? host} port=${port} user=postgres dbname=postgres connect_timeout=10`, readOnly: true, secrets: [] },
    async close() {
      await server.stop();
      await db.close();
      if (socketDir) rmSync(socketDir, { recursive: true, force: true });
    },
  };
}

type Executor = { execProtocolRawSync(...args: unknown[]): unknown };

/**
 * The PostgreSQL inside PGlite arms timers (its 10 s idle statistics flush, statement timeouts)
 * with the global setTimeout while it runs a message. Unreferenced, they still fire in a process
 * that keeps running, but never keep a finished script alive.
 */
function unrefTimers(db: Executor): void {
  const run = db.execProtocolRawSync.bind(db);
  db.execProtocolRawSync = (...args: unknown[]) => {
    const original = globalThis.setTimeout;
    globalThis.setTimeout = ((fn: () => void, ms?: number, ...rest: unknown[]) => (original(fn, ms, ...rest) as unknown as NodeJS.Timeout).unref()) as unknown as typeof setTimeout;
    try {
      return run(...args);
    } finally {
      globalThis.setTimeout = original;
    }
  };
}
