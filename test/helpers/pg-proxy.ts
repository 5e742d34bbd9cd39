/**
 * A loopback TCP proxy in front of a PostgreSQL server that records the SQL text of every statement
 * its clients execute: each simple query ('Q') and each Bind ('B') of a parsed statement, prepared
 * statements included (their Parse is sent once per connection, their Bind on every run).
 */
import { connect, createServer, type Socket } from 'node:net';

/** A statement a client ran, and the application_name its connection gave at startup. */
export type Seen = { text: string; app: string };

export type PgProxy = { url: string; statements: Seen[]; close(): Promise<void> };

const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;

export async function pgProxy(target: string): Promise<PgProxy> {
  const to = new URL(target);
  const statements: Seen[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(Number(to.port || 5432), to.hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => (s === client ? upstream : client).destroy());
    }
    const record = recorder(statements);
    client.on('data', (chunk: Buffer) => {
      record(chunk);
      upstream.write(chunk);
    });
    upstream.pipe(client);
    client.on('end', () => upstream.end());
    upstream.on('end', () => client.end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = new URL(target);
  url.hostname = '127.0.0.1';
  url.port = String((server.address() as { port: number }).port);
  return {
    url: url.toString(),
    statements,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** Reads one connection's client-to-server messages, pushing each executed statement's text. */
function recorder(statements: Seen[]): (chunk: Buffer) => void {
  let buf = Buffer.alloc(0);
  let startup = true;
  let app = '';
  const parsed = new Map<string, string>(); // statement name ('' is the unnamed one) -> text
  const cstrings = (body: Buffer, n: number) => {
    const out: string[] = [];
    for (let at = 0; out.length < n; ) {
      const end = body.indexOf(0, at);
      out.push(body.toString('utf8', at, end));
      at = end + 1;
    }
    return out;
  };
  return (chunk) => {
    buf = Buffer.concat([buf, chunk]);
    for (;;) {
      if (startup) {
        // Untyped: length, then the protocol code; an SSL or GSS request (refused here) precedes the startup.
        if (buf.length < 8 || buf.length < buf.readInt32BE(0)) return;
        const code = buf.readInt32BE(4);
        const params = buf.toString('utf8', 8, buf.readInt32BE(0)).split('\0');
        buf = buf.subarray(buf.readInt32BE(0));
        if (code === SSL_REQUEST || code === GSSENC_REQUEST) continue;
        startup = false;
        const at = params.indexOf('application_name');
        app = at >= 0 ? params[at + 1]! : '';
        continue;
      }
      if (buf.length < 5 || buf.length < 1 + buf.readInt32BE(1)) return;
      const type = String.fromCharCode(buf[0]!);
      const body = buf.subarray(5, 1 + buf.readInt32BE(1));
      buf = buf.subarray(1 + buf.readInt32BE(1));
      if (type === 'Q') statements.push({ text: cstrings(body, 1)[0]!, app });
      else if (type === 'P') {
        const [name, text] = cstrings(body, 2);
        parsed.set(name!, text!);
      } else if (type === 'B') statements.push({ text: parsed.get(cstrings(body, 2)[1]!) ?? '(unknown statement)', app });
    }
  };
}
