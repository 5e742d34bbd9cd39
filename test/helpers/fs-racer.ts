/**
 * One of several processes writing one key of an fs storage (argv: root, id, batches): batches of
 * concurrent writes, each value with its own content type (every fourth with none), and after each
 * batch a read that must find the type of the data it reads. Exits 1 on a mismatch.
 */
import { configure, loadS3FileStream, writeS3File } from '../../src/entries/s3.js';

const [root, id, batches] = process.argv.slice(2);
await configure({ storage: { type: 'fs', root: root! } });
const expectedType = (v: string) => (Number(v.split('-')[1]) % 4 === 3 ? '' : `text/x-${v}`);
for (let b = 0; b < Number(batches); b++) {
  await Promise.all(Array.from({ length: 20 }, (_, i) => {
    const v = `${id}.${b}-${i}`;
    return writeS3File({ s3: 'race/shared' }, `${v};`.repeat(1 + (i % 5)), expectedType(v) ? { contentType: expectedType(v) } : {});
  }));
  const blob = await loadS3FileStream({ s3: 'race/shared' });
  const v = (await blob.text().catch(() => undefined))?.split(';')[0];
  if (v !== undefined && blob.type !== expectedType(v)) {
    console.error(`mismatch: data ${v} with type ${JSON.stringify(blob.type)}`);
    process.exit(1);
  }
}
