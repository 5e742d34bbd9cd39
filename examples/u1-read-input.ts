/** U1: a script takes an S3Object input, reads it whole and decodes it as text. */
import * as wmill from 'millrace';
import type { S3Object } from 'millrace';

export async function main(input: S3Object) {
  const bytes = await wmill.loadS3File(input); // Uint8Array
  return new TextDecoder().decode(bytes);
}
