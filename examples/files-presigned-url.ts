/** Share a file: a URL anyone can GET for one hour (a presigned URL on S3, a SAS URL on Azure). */
import * as wmill from 'millrace';
import type { S3Object } from 'millrace';

export async function main(report: S3Object) {
  const url = await wmill.getPresignedS3PublicUrl(report, { expirySecs: 3600 });
  const signed = await wmill.signS3Object(report, { expirySecs: 3600 });
  return { url, signed };
}
