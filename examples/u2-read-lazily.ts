/**
 * U2: the same input as a Blob that is read only when asked: `.slice(0, 1024)` peeks at the head
 * of a large file with one range read, `.stream()` pipes it somewhere without buffering it whole.
 */
import { createHash } from 'node:crypto';
import * as wmill from 'millrace';
import type { S3Object } from 'millrace';

export async function main(input: S3Object) {
  const blob = await wmill.loadS3FileStream(input); // nothing downloaded yet
  const head = await blob.slice(0, 1024).text();
  const firstLine = head.split('\n', 1)[0];

  const sha256 = createHash('sha256');
  await blob.stream().pipeTo(new WritableStream({ write: (chunk) => void sha256.update(chunk) }));

  return { size: blob.size, type: blob.type, firstLine, sha256: sha256.digest('hex') };
}
