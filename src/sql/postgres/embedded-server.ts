/**
 * The embedded database's wire server: PGlite (one PostgreSQL session) served on a unix socket to any
 * number of connections, from this process and from others on the same MILLRACE_HOME.
 *
 * One session, so connections take turns: a connection holds the session from its first message until
 * the server is ready for a query outside a transaction (after a Sync or a simple query), and messages
 * of the others wait. Extended-protocol sequences (Parse, Bind, Execute, Sync) and transactions are
 * never interleaved. A connection that goes away mid-way is cleaned up (Sync, ROLLBACK) and its prepared
 * statements deallocated, so the session is as the next connection expects.
 *
 * Every open connection of a millrace process holds this process's event loop: a process serving others
 * stays up while they are connected (they close idle connections after a moment), and exits when no one is.
 */
import { createServer, type Server, type Socket } from 'node:net';

/** The parts of PGlite the server uses. */
export type Session = {
  runExclusive<T>(fn: () => Promise<T>): Promise<T>;
  execProtocolRawStream(message: Uint8Array, options: { onRawData: (data: Uint8Array) => void }): Promise<void>;
  isInTransaction(): boolean;
};

type Message = { type: string; bytes: Buffer };
type Connection = { socket: Socket; buffer: Buffer; started: boolean; queue: Message[]; statements: Set<string>; midSequence: boolean; closed: boolean };

const SSL_REQUEST = 80877103;
const GSS_REQUEST = 80877104;
const CANCEL_REQUEST = 80877102;
const SYNC = Buffer.from([0x53, 0, 0, 0, 4]);

export class EmbeddedServer {
  readonly #session: Session;
  readonly #server: Server;
  readonly #connections = new Set<Connection>();
  /** Connections with messages waiting for the session, in arrival order. */
  readonly #waiting: Connection[] = [];
  #holder: Connection | undefined;
  #running = false;
  #idle: (() => void)[] = [];

  constructor(session: Session) {
    this.#session = session;
    this.#server = createServer((socket) => this.#accept(socket));
    // Listening alone never keeps a process alive; open connections do.
    this.#server.unref();
  }

  listen(path: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(path, () => {
        this.#server.off('error', reject);
        resolve();
      });
    });
  }

  /** Stops accepting connections (the socket file goes) and resolves once every open one has closed. */
  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
    if (this.#connections.size || this.#running) await new Promise<void>((resolve) => this.#idle.push(resolve));
  }

  #accept(socket: Socket): void {
    const c: Connection = { socket, buffer: Buffer.alloc(0), started: false, queue: [], statements: new Set(), midSequence: false, closed: false };
    this.#connections.add(c);
    // Held only once it shows it is a millrace client (it opens with an SSL request, which libpq never
    // sends over a unix socket): a foreign client (DuckDB's postgres extension, psql) keeps no one alive.
    socket.unref();
    socket.setNoDelay(true);
    socket.on('error', () => undefined);
    socket.on('data', (data: Buffer) => this.#receive(c, data));
    socket.on('close', () => {
      c.closed = true;
      c.queue.length = 0;
      this.#wait(c);
      this.#pump();
    });
  }

  #receive(c: Connection, data: Buffer): void {
    c.buffer = c.buffer.length ? Buffer.concat([c.buffer, data]) : data;
    for (;;) {
      if (!c.started) {
        if (c.buffer.length < 8) break;
        const length = c.buffer.readInt32BE(0);
        const code = c.buffer.readInt32BE(4);
        if (code === SSL_REQUEST || code === GSS_REQUEST) {
          c.buffer = c.buffer.subarray(8);
          if (code === SSL_REQUEST) c.socket.ref();
          c.socket.write('N');
          continue;
        }
        if (code === CANCEL_REQUEST) {
          // A running statement cannot be interrupted inside PGlite; the request is answered by closing.
          c.socket.end();
          return;
        }
        if (c.buffer.length < length) break;
        c.queue.push({ type: 'startup', bytes: c.buffer.subarray(0, length) });
        c.buffer = c.buffer.subarray(length);
        c.started = true;
        continue;
      }
      if (c.buffer.length < 5) break;
      const length = 1 + c.buffer.readInt32BE(1);
      if (c.buffer.length < length) break;
      c.queue.push({ type: String.fromCharCode(c.buffer[0]!), bytes: c.buffer.subarray(0, length) });
      c.buffer = c.buffer.subarray(length);
    }
    if (c.queue.length) {
      this.#wait(c);
      this.#pump();
    }
  }

  /** Queues `c` for the session (once): for its messages, or, when it closed, for its cleanup. */
  #wait(c: Connection): void {
    if (this.#holder !== c && !this.#waiting.includes(c)) this.#waiting.push(c);
  }

  async #pump(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    try {
      for (;;) {
        if (!this.#holder) this.#holder = this.#waiting.shift();
        const c = this.#holder;
        if (!c) break;
        if (c.closed) {
          await this.#cleanUp(c);
          this.#release(c);
          continue;
        }
        const m = c.queue.shift();
        if (!m) break; // the holder is mid-transaction or mid-sequence: its next message comes
        if (m.type === 'X') {
          c.socket.end();
          continue;
        }
        if (!(await this.#exec(m.bytes, (out) => c.closed || c.socket.write(out)))) {
          // PGlite failed on this message: the connection is dropped and cleaned up, the session goes on.
          c.socket.destroy();
          c.closed = true;
          c.queue.length = 0;
          continue;
        }
        if (m.type === 'P') {
          const name = m.bytes.toString('utf8', 5, m.bytes.indexOf(0, 5));
          if (name) c.statements.add(name);
        }
        c.midSequence = m.type !== 'S' && m.type !== 'Q' && m.type !== 'startup';
        if (!c.midSequence && !this.#session.isInTransaction()) {
          this.#release(c);
          if (c.queue.length) this.#waiting.push(c);
        }
      }
    } finally {
      this.#running = false;
      if (!this.#connections.size) this.#idle.splice(0).forEach((resolve) => resolve());
    }
  }

  #release(c: Connection): void {
    if (this.#holder === c) this.#holder = undefined;
    if (c.closed) {
      this.#connections.delete(c);
      const i = this.#waiting.indexOf(c);
      if (i !== -1) this.#waiting.splice(i, 1);
    }
  }

  /** A connection that went away: end its sequence and transaction, drop its prepared statements. */
  async #cleanUp(c: Connection): Promise<void> {
    const discard = () => undefined;
    if (c.midSequence) await this.#exec(SYNC, discard);
    if (this.#session.isInTransaction()) await this.#exec(query('ROLLBACK'), discard);
    for (const name of c.statements) await this.#exec(query(`DEALLOCATE "${name.replace(/"/g, '""')}"`), discard);
    c.statements.clear();
    c.midSequence = false;
  }

  /** Runs one message on the session; false when PGlite failed on it. */
  #exec(message: Uint8Array, onData: (data: Buffer) => unknown): Promise<boolean> {
    return this.#session
      .runExclusive(() => this.#session.execProtocolRawStream(message, { onRawData: (d) => onData(Buffer.from(d)) }))
      .then(() => true, () => false);
  }
}

/** A simple-protocol Query message. */
function query(text: string): Buffer {
  const body = Buffer.from(text + '\0', 'utf8');
  const head = Buffer.alloc(5);
  head[0] = 0x51;
  head.writeInt32BE(4 + body.length, 1);
  return Buffer.concat([head, body]);
}
