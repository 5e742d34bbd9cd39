/** U4: a file on the secondary storage named `storage_1`; `s3://storage_1/data.csv` is the same file. */
import * as wmill from 'millrace';
import type { S3Object } from 'millrace';

export async function main(): Promise<S3Object> {
  const file: S3Object = { s3: 'data.csv', storage: 'storage_1' };
  const written = await wmill.writeS3File(file, 'fooo\n1');
  const back = new TextDecoder().decode(await wmill.loadS3File(written));
  const same = new TextDecoder().decode(await wmill.loadS3File('s3://storage_1/data.csv'));
  if (back !== 'fooo\n1' || same !== back) throw new Error('storage_1 did not return what was written');
  return written;
}
