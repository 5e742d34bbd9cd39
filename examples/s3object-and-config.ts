/**
 * Configure storages in code, and work with S3Object pointers from untrusted input
 * (a webhook's JSON body): validate, normalize to a record, format as a URI.
 */
import * as wmill from 'millrace';

export async function main(body: unknown, root: string) {
  await wmill.configure({
    storage: { type: 'fs', root: `${root}/default` },
    secondaryStorage: { storage_1: { type: 'fs', root: `${root}/storage_1` } },
  });

  const file = (body as { file?: unknown }).file;
  if (!wmill.isS3Object(file)) return { accepted: false as const };

  const record = wmill.parseS3Object(file);       // { s3, storage? } whichever form came in
  const uri = wmill.formatS3Object(record);       // 's3://storage_1/...' or 's3:///...'
  await wmill.writeS3File(record, 'received');
  const storages = ['(default)', ...Object.keys(wmill.getConfig().secondaryStorage)];
  await wmill.close();
  return { accepted: true as const, record, uri, storages };
}
