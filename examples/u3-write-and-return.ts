/** U3: write a file (a string, or a ReadableStream<Uint8Array>) and return its S3Object for the next step. */
import * as wmill from 'millrace';
import type { S3Object } from 'millrace';

export async function main(name: string, rows: number): Promise<{ summary: S3Object; data: S3Object }> {
  const summary = await wmill.writeS3File({ s3: `reports/${name}.txt` }, `${rows} rows\n`, undefined, 'text/plain');

  let i = 0;
  const csv = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (i === 0) controller.enqueue(new TextEncoder().encode('id,value\n'));
      if (i === rows) return controller.close();
      controller.enqueue(new TextEncoder().encode(`${i},${i * i}\n`));
      i++;
    },
  });
  const data = await wmill.writeS3File({ s3: `reports/${name}.csv` }, csv, { contentType: 'text/csv' });
  return { summary, data };
}
