/**
 * s3rver in a process of its own, for the files benchmark: a storage server never shares the
 * client's process, and in one process the server's garbage is collected on the client's time.
 * Prints `{"port": n}` once listening; closes when its stdin ends (the parent exited or closed it).
 *
 *   node --import tsx bench/s3rver-process.ts <directory> [address]   (default 127.0.0.1)
 */
import '../test/setup/s3rver-openssl3.js';

const { default: S3rver } = (await import('s3rver')) as unknown as {
  default: new (o: object) => { run(): Promise<{ port: number }>; close(): Promise<void> };
};
// S3RVER_BUCKETS (comma separated): buckets to create at start, for a server no client outside can reach first.
const configureBuckets = (process.env.S3RVER_BUCKETS ?? '').split(',').filter(Boolean).map((name) => ({ name }));
const server = new S3rver({ address: process.argv[3] ?? '127.0.0.1', port: 0, silent: true, directory: process.argv[2], configureBuckets });
const { port } = await server.run();
process.stdout.write(JSON.stringify({ port }) + '\n');
process.stdin.resume();
process.stdin.on('end', () => void server.close().then(() => process.exit(0)));
