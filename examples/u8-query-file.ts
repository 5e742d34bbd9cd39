/** U8: query a Parquet file in storage directly; the S3Object becomes its storage URL, credentials included. */
import * as wmill from 'millrace';
import type { S3Object } from 'millrace';

export async function main(parquetFile: S3Object) {
  const sql = wmill.ducklake();
  return await sql`SELECT count(*) AS n FROM read_parquet(${parquetFile})`.fetchOneScalar();
}
