/**
 * The millrace demo: a small extract-transform-load-serve pipeline, written the way a
 * user's scripts would be, through the public API only. With no config it runs on the
 * embedded default (files under ./.millrace/storage, an embedded PostgreSQL, a DuckLake
 * with a DuckDB-file catalog); set MILLRACE_CONFIG to run the same code against real servers.
 *
 *   npm run demo
 */
import { pathToFileURL } from 'node:url';
import * as wmill from 'millrace';
import type { S3Object } from 'millrace';
import { generateReviews, sentiment, type Review } from './reviews.js';

export type DemoResult = {
  reviews: number;
  lakeRows: number;
  parquetRows: number;
  products: number;
  top: ProductScore[];
  bottom: ProductScore[];
  files: { raw: S3Object; scored: S3Object };
};
type ProductScore = { product: string; reviews: number; avg_sentiment: number };

const log = (msg: string) => process.stdout.write(msg + '\n');

async function step<T>(n: number, title: string, work: () => Promise<T>, done: (t: T) => string): Promise<T> {
  const started = performance.now();
  process.stdout.write(`[${n}/5] ${title} ...`);
  const result = await work();
  process.stdout.write(` ${done(result)} (${Math.round(performance.now() - started)} ms)\n`);
  return result;
}

export async function main(count = 3000): Promise<DemoResult> {
  const runId = new Date().toISOString().replace(/[:.]/g, '-');
  const lake = wmill.ducklake();
  const db = wmill.datatable();

  // 1. extract: the raw reviews land in storage as JSON.
  const raw = await step(1, 'extract: writing reviews to storage', async () => {
    const reviews = generateReviews(count);
    return wmill.writeS3File({ s3: `demo/${runId}/reviews.json` }, JSON.stringify(reviews), { contentType: 'application/json' });
  }, (obj) => `${count} reviews -> ${wmill.formatS3Object(obj)}`);

  // 2. transform: read lazily, score each review, write the scored batch as Parquet.
  const scoredFile: S3Object = { s3: `demo/${runId}/scored.parquet` };
  const scored = await step(2, 'transform: scoring sentiment, writing Parquet', async () => {
    const blob = await wmill.loadS3FileStream(raw);
    const reviews = JSON.parse(await blob.text()) as Review[];
    const batch = reviews.map((r) => ({ ...r, sentiment: sentiment(r.content) }));
    await lake`COPY (
        SELECT (j->>'id')::INTEGER AS id, j->>'product' AS product, j->>'author' AS author,
               (j->>'date')::DATE AS date, j->>'content' AS content, (j->>'sentiment')::DOUBLE AS sentiment
        FROM json_each(${batch}) AS t(k, j)
      ) TO ${scoredFile} (FORMAT parquet)`.execute();
    return batch;
  }, (batch) => `${batch.length} scored -> ${wmill.formatS3Object(scoredFile)}`);

  // 3. load: insert the batch into the lake table in one statement, and read the Parquet file back.
  const loaded = await step(3, 'load: inserting into ducklake table messages', async () => {
    await lake`CREATE TABLE IF NOT EXISTS messages (
        content VARCHAR NOT NULL, author VARCHAR NOT NULL, date DATE NOT NULL,
        sentiment DOUBLE, product VARCHAR, run_id VARCHAR)`.execute();
    await lake`INSERT INTO messages
        SELECT j->>'content', j->>'author', (j->>'date')::DATE, (j->>'sentiment')::DOUBLE, j->>'product', ${runId}
        FROM json_each(${scored}) AS t(k, j)`.execute();
    const lakeRows = Number(await lake`SELECT count(*) FROM messages WHERE run_id = ${runId}`.fetchOneScalar());
    const parquetRows = Number(await lake`SELECT count(*) AS n FROM read_parquet(${scoredFile})`.fetchOneScalar());
    return { lakeRows, parquetRows };
  }, ({ lakeRows, parquetRows }) => `${lakeRows} rows in the lake, ${parquetRows} rows in the Parquet file`);

  // 4. serve: aggregate per product into a datatable table, then rank.
  const ranking = await step(4, 'serve: aggregating per product into a datatable', async () => {
    const perProduct = await lake<ProductScore>`
        SELECT product, count(*)::INTEGER AS reviews, round(avg(sentiment), 3) AS avg_sentiment
        FROM messages WHERE run_id = ${runId} GROUP BY product`.fetch();
    await db`CREATE TABLE IF NOT EXISTS product_scores (
        run_id TEXT NOT NULL, product TEXT NOT NULL, reviews INTEGER NOT NULL, avg_sentiment DOUBLE PRECISION NOT NULL,
        PRIMARY KEY (run_id, product))`.execute();
    await db`INSERT INTO product_scores (run_id, product, reviews, avg_sentiment)
        SELECT ${runId}, p.product, p.reviews, p.avg_sentiment
        FROM jsonb_to_recordset(${perProduct}::jsonb) AS p(product TEXT, reviews INTEGER, avg_sentiment DOUBLE PRECISION)`.execute();
    const top = await db<ProductScore>`SELECT product, reviews, avg_sentiment FROM product_scores
        WHERE run_id = ${runId} ORDER BY avg_sentiment DESC, product LIMIT 3`.fetch();
    const bottom = await db<ProductScore>`SELECT product, reviews, avg_sentiment FROM product_scores
        WHERE run_id = ${runId} ORDER BY avg_sentiment ASC, product LIMIT 3`.fetch();
    return { products: perProduct.length, top, bottom };
  }, ({ products }) => `${products} products ranked`);

  log('\nTop products');
  console.table(ranking.top);
  log('Bottom products');
  console.table(ranking.bottom);

  // 5. what it produced, and how to look at it.
  log('[5/5] files produced:');
  log(`  raw reviews   ${JSON.stringify(raw)}`);
  log(`  scored batch  ${JSON.stringify(scoredFile)}`);
  const config = wmill.getConfig();
  if (config.storage.type === 'fs') log(`  (the default storage is the folder ${config.storage.root})`);
  log('Look at them with:');
  log(`  await wmill.loadS3File(${JSON.stringify(raw)})`);
  log(`  await wmill.ducklake()\`SELECT * FROM read_parquet(\${${JSON.stringify(scoredFile)}}) LIMIT 5\`.fetch()`);
  log('  await wmill.datatable()`SELECT * FROM product_scores ORDER BY avg_sentiment DESC`.fetch()');

  return {
    reviews: count,
    lakeRows: loaded.lakeRows,
    parquetRows: loaded.parquetRows,
    products: ranking.products,
    top: ranking.top,
    bottom: ranking.bottom,
    files: { raw, scored: scoredFile },
  };
}

// Run when executed directly (`npm run demo`), not when a test imports it.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main()
    .then(() => wmill.close())
    .catch(async (e) => {
      console.error(e);
      await wmill.close();
      process.exit(1);
    });
}
