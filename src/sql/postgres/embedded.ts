/**
 * The embedded default datatable: PGlite (PostgreSQL compiled to WebAssembly) persisted in a folder,
 * served on a unix socket so the regular postgres.js driver reaches it exactly like a real server.
 * The first process that needs it serves it; other processes on the same folder connect to that
 * server, and take over when it exits (embedded-share.ts).
 */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { MillraceError } from '../../errors.js';
import { importBackend } from '../../lazy.js';
import { shareEmbedded } from './embedded-share.js';
import { emptyFolder, plantSeed } from './pglite-seed.js';
import { openWithUnrefTimers, withUnrefTimers } from './pglite-timers.js';
import type { LibpqTarget } from '../engine.js';
import type { PostgresTarget } from './driver.js';

export type EmbeddedPostgres = { target: PostgresTarget; libpq: LibpqTarget; close(): Promise<void> };

/** Idle connections close after this many seconds: a process serving others exits soon after they are done. */
const IDLE_S = 0.05;

export async function startEmbeddedPostgres(label: string, dataDir: string): Promise<EmbeddedPostgres> {
  // The lock file sits beside the data folder: a fresh project has neither yet.
  mkdirSync(dirname(resolve(dataDir)), { recursive: true });
  const shared = shareEmbedded(label, resolve(dataDir), () => openPGlite(label, dataDir));
  return {
    target: {
      label,
      // The server runs one statement at a time; a second connection of ours would only queue there.
      max: 1,
      idleTimeout: IDLE_S,
      connect: shared.connect,
      options: { host: 'localhost', port: 5432, user: 'postgres', database: 'postgres', ssl: false },
    },
    libpq: {
      // Whichever process serves the database now (ours or another's): read when DuckDB attaches.
      get conninfo() {
        const socket = shared.socket();
        if (!socket) throw new MillraceError('Connection', `${label}: the embedded PostgreSQL is not being served`);
        return `host=${dirname(socket)} port=5432 user=postgres dbname=postgres connect_timeout=10`;
      },
      // Read-only: DuckDB writes to PostgreSQL with COPY FROM STDIN, which the embedded server cannot take.
      readOnly: true,
      secrets: [],
    },
    close: shared.close,
  };
}

async function openPGlite(label: string, dataDir: string, seed = true): Promise<InstanceType<typeof import('@electric-sql/pglite').PGlite>> {
  const { PGlite } = await importBackend<typeof import('@electric-sql/pglite')>('@electric-sql/pglite');
  // The first creation unpacks the build's seed cluster, when there is one, instead of running initdb.
  const seeded = seed && plantSeed(dataDir);
  // Otherwise initdb makes the cluster in it; the owner's alone, as initdb would make it.
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  let db: InstanceType<typeof PGlite>;
  try {
    db = await openWithUnrefTimers(() => PGlite.create(dataDir));
  } catch (e) {
    if (!seeded) throw new MillraceError('Connection', `${label}: cannot open the embedded PostgreSQL in ${dataDir}: ${(e as Error).message}`, { cause: e });
    // A seed PGlite cannot open: the folder was empty, so empty it again and let initdb make the cluster.
    emptyFolder(dataDir);
    return openPGlite(label, dataDir, false);
  }
  unrefTimers(db as unknown as Executor);
  return db;
}

type Executor = { execProtocolRawSync(...args: unknown[]): unknown };

/** Each message PGlite executes runs with its timers unreferenced (see pglite-timers.ts). */
function unrefTimers(db: Executor): void {
  const run = db.execProtocolRawSync.bind(db);
  db.execProtocolRawSync = (...args: unknown[]) => withUnrefTimers(() => run(...args));
}
