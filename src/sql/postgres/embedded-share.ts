/**
 * Several processes on one embedded database. PGlite opens its data folder in one process only (two
 * would each overwrite the other's writes), so the first process that needs the database serves it on
 * a unix socket and records itself in `<dataDir>.lock` (its pid and socket); later processes connect
 * to that socket as clients. When the serving process exits (it stays up while others are connected),
 * the next process that needs the database takes over: the lock of a process that is gone, killed
 * included, is broken and the data folder reopened.
 */
import { closeSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, statSync, writeSync } from 'node:fs';
import { connect as netConnect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { MillraceError } from '../../errors.js';
import { isAlive } from '../../pid.js';
import { EmbeddedServer, type Session } from './embedded-server.js';

type Holder = { pid: number; socket: string };
type Database = Session & { close(): Promise<void> };
type Serving = { server: EmbeddedServer; db: Database; socket: string; socketDir?: string; onExit: () => void };

export type SharedEmbedded = {
  /** A socket to the database's server, ready for the startup message: ours, another process's, or ours after taking over. */
  connect(): Promise<Socket>;
  /** Stops serving (after the connected processes are done) and frees the data folder. */
  close(): Promise<void>;
  /** The socket the database is served on now (by this process or the lock's holder), if any. */
  socket(): string | undefined;
};

/** How long a process waits for another that holds the database to answer (it may be opening it on a slow machine). */
const WAIT_MS = 120_000;
const SSL_REQUEST = Buffer.from([0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f]);
/** Locks held by servers of this process, open or still draining: a lock with our pid is a leftover only when not here. */
const servingHere = new Set<string>();

export function shareEmbedded(label: string, dataDir: string, open: () => Promise<Database>): SharedEmbedded {
  const lockPath = `${dataDir}.lock`;
  let serving: Serving | undefined;
  let starting: Promise<Serving | undefined> | undefined;

  async function serve(): Promise<Serving | undefined> {
    const windows = process.platform === 'win32';
    // A private folder (mode 0700) keeps other local users off the socket; its name carries our pid, so
    // the folder of a killed process is recognised and removed.
    removeStaleSocketDirs();
    const socketDir = windows ? undefined : mkdtempSync(join(tmpdir(), `millrace-pg-${process.pid}-`));
    const socket = socketDir ? join(socketDir, '.s.PGSQL.5432') : `\\\\.\\pipe\\millrace-pg-${process.pid}-${Date.now()}`;
    if (!acquire(lockPath, { pid: process.pid, socket })) {
      if (socketDir) rmSync(socketDir, { recursive: true, force: true });
      return undefined;
    }
    const release = () => {
      if (sameHolder(readHolder(lockPath), { pid: process.pid, socket })) rmSync(lockPath, { force: true });
      if (socketDir) rmSync(socketDir, { recursive: true, force: true });
    };
    let db: Database | undefined;
    try {
      db = await open();
      const server = new EmbeddedServer(db);
      await server.listen(socket);
      // A process that ends without close() leaves no lock and no socket folder behind.
      process.once('exit', release);
      servingHere.add(lockPath);
      return { server, db, socket, socketDir, onExit: release };
    } catch (e) {
      await db?.close().catch(() => undefined);
      release();
      if (e instanceof MillraceError) throw e;
      throw new MillraceError('Connection', `${label}: cannot serve the embedded PostgreSQL: ${(e as Error).message}`, { cause: e });
    }
  }

  async function connect(): Promise<Socket> {
    const deadline = Date.now() + WAIT_MS;
    let holder: Holder | undefined;
    for (;;) {
      // Another call of ours is opening the database: its server is ours too.
      if (!serving && starting) await starting.catch(() => undefined);
      let path = serving?.socket;
      if (!path) {
        const h = readHolder(lockPath);
        if (h === undefined) {
          starting ??= serve()
            .then((s) => (s ? (serving = s) : undefined))
            .finally(() => (starting = undefined));
          path = (await starting)?.socket;
        } else if (h === 'unreadable' || (h.pid === process.pid && !servingHere.has(lockPath)) || !isAlive(h.pid)) {
          // Being written, a leftover of ours, or its process is gone.
          if (h !== 'unreadable' || ageMs(lockPath) > 5_000) breakStale(lockPath, h);
        } else {
          holder = h;
          path = h.socket;
        }
      }
      if (path) {
        const socket = await probe(path, deadline - Date.now());
        if (socket) return socket;
      }
      if (Date.now() > deadline) {
        throw new MillraceError(
          'Connection',
          `${label}: the embedded database in ${dataDir} is held by process ${holder?.pid ?? '?'} (see ${lockPath}), which does not answer on ${path ?? holder?.socket}`,
        );
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async function close(): Promise<void> {
    await starting?.catch(() => undefined);
    const s = serving;
    serving = undefined;
    if (!s) return;
    await s.server.close();
    await s.db.close().catch(() => undefined);
    process.off('exit', s.onExit);
    s.onExit();
    servingHere.delete(lockPath);
  }

  function socket(): string | undefined {
    if (serving) return serving.socket;
    const h = readHolder(lockPath);
    return h && h !== 'unreadable' ? h.socket : undefined;
  }

  return { connect, close, socket };
}

/** Connects and checks that a live server accepted us (it answers an SSL request with `N`); undefined when not. */
function probe(path: string, timeoutMs: number): Promise<Socket | undefined> {
  return new Promise((resolve) => {
    const socket = netConnect(path);
    const done = (ok: boolean) => {
      clearTimeout(timer);
      socket.removeAllListeners('data');
      socket.removeAllListeners('error');
      socket.removeAllListeners('close');
      if (!ok) socket.destroy();
      resolve(ok ? socket : undefined);
    };
    const timer = setTimeout(() => done(false), Math.max(timeoutMs, 1000));
    socket.on('error', () => done(false));
    socket.on('close', () => done(false));
    socket.once('data', (d: Buffer) => done(d.length === 1 && d[0] === 0x4e));
    socket.once('connect', () => socket.write(SSL_REQUEST));
  });
}

function acquire(lockPath: string, holder: Holder): boolean {
  let fd: number;
  try {
    fd = openSync(lockPath, 'wx', 0o600);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  }
  try {
    writeSync(fd, JSON.stringify(holder));
  } finally {
    closeSync(fd);
  }
  return true;
}

function readHolder(lockPath: string): Holder | 'unreadable' | undefined {
  let text: string;
  try {
    text = readFileSync(lockPath, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  try {
    const h = JSON.parse(text) as Holder;
    return typeof h.pid === 'number' && typeof h.socket === 'string' ? h : 'unreadable';
  } catch {
    return 'unreadable';
  }
}

function sameHolder(a: Holder | 'unreadable' | undefined, b: Holder | 'unreadable'): boolean {
  if (a === undefined) return false;
  if (a === 'unreadable' || b === 'unreadable') return a === b;
  return a.pid === b.pid && a.socket === b.socket;
}

/**
 * Removes the lock of a process that is gone. Breakers take turns through `<lock>.break`, and the lock
 * is removed only if it still names the same holder: two processes never both take over.
 */
function breakStale(lockPath: string, stale: Holder | 'unreadable'): void {
  const breaker = `${lockPath}.break`;
  if (!acquire(breaker, { pid: process.pid, socket: '' })) {
    const other = readHolder(breaker);
    // A breaker killed mid-way (the window is a few instructions) is cleared after a while.
    if ((other !== undefined && other !== 'unreadable' && !isAlive(other.pid)) || ageMs(breaker) > 5_000) rmSync(breaker, { force: true });
    return;
  }
  try {
    if (!sameHolder(readHolder(lockPath), stale)) return;
    rmSync(lockPath, { force: true });
    if (stale !== 'unreadable' && basename(dirname(stale.socket)).startsWith('millrace-pg-')) rmSync(dirname(stale.socket), { recursive: true, force: true });
  } finally {
    rmSync(breaker, { force: true });
  }
}

/** Socket folders (`millrace-pg-<pid>-*`) of our user's processes that are gone: killed runs leave them. */
function removeStaleSocketDirs(): void {
  const dir = tmpdir();
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    const m = /^millrace-pg-(\d+)-[^-]+$/.exec(name);
    if (!m || isAlive(Number(m[1]))) continue;
    try {
      const path = join(dir, name);
      const st = statSync(path);
      if (!st.isDirectory() || (process.getuid && st.uid !== process.getuid())) continue;
      // Only a folder that holds nothing but a socket is ours to remove.
      if (readdirSync(path).every((f) => f === '.s.PGSQL.5432')) rmSync(path, { recursive: true, force: true });
    } catch {
      // gone meanwhile, or not ours
    }
  }
}

function ageMs(path: string): number {
  try {
    return Date.now() - statSync(path).mtimeMs;
  } catch {
    return 0;
  }
}
