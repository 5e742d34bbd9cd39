/** U9: materialize one day's partition idempotently: re-running it for the same day leaves the same rows. */
import * as wmill from 'millrace';

export async function main(day = '2026-11-21') {
  await wmill
    .upsertPartition({
      table: 'daily_sentiment',
      selectSql: `SELECT author AS id, avg(sentiment) AS sentiment, count(*) AS messages FROM messages GROUP BY author`,
      partition: day,
      uniqueKey: 'id',
    })
    .execute();
  return await wmill.ducklake()`SELECT id, sentiment, messages FROM daily_sentiment WHERE _wm_partition = ${day} ORDER BY id`.fetch();
}
