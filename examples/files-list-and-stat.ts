/** List a folder and look at each file's metadata; `statS3File` answers "does it exist?". */
import * as wmill from 'millrace';

export async function main(prefix: string) {
  const files: { key: string; size: number }[] = [];
  for await (const f of wmill.listS3Files({ prefix })) files.push({ key: f.s3, size: f.size });

  const missing = await wmill.statS3File({ s3: `${prefix}does-not-exist` });
  return { files, missingExists: missing !== undefined };
}
