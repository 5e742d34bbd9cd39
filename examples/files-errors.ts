/** Branch on error codes, never on messages. */
import * as wmill from 'millrace';

export async function main(key: string) {
  try {
    return new TextDecoder().decode(await wmill.loadS3File({ s3: key }));
  } catch (e) {
    if (wmill.isMillraceError(e, 'NotFound')) return '(no such file)';
    if (wmill.isMillraceError(e, 'InvalidS3Object')) return '(bad key)';
    throw e;
  }
}
