/** A writer that never finishes: streams to an fs storage until it is killed (argv: root, key). */
import { configure, writeS3File } from '../../src/entries/s3.js';

const [root, key] = process.argv.slice(2);
await configure({ storage: { type: 'fs', root: root! } });
await writeS3File({ s3: key! }, (async function* () {
  for (;;) {
    yield new Uint8Array(1024 * 1024);
    await new Promise((r) => setTimeout(r, 20));
  }
})());
