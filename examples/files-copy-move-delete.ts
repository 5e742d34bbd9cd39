/** Copy a file to another storage, move it within that storage, then delete the original. */
import * as wmill from 'millrace';
import type { S3Object } from 'millrace';

export async function main(input: S3Object, archiveStorage: string) {
  const copy = await wmill.copyS3File(input, { s3: 'archive/copy.bin', storage: archiveStorage });
  const moved = await wmill.moveS3File(copy, { s3: 'archive/final.bin', storage: archiveStorage });
  await wmill.deleteS3File(input);
  return {
    moved,
    copyStillThere: (await wmill.statS3File(copy)) !== undefined,
    originalStillThere: (await wmill.statS3File(input)) !== undefined,
  };
}
