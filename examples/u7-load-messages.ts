/**
 * U7: load a batch of analysed messages into a DuckLake table in one statement: the list is one
 * JSON parameter, expanded with json_each and picked apart with ->>. Each insert writes Parquet
 * files to the lake's storage and a snapshot to its catalog.
 */
import * as wmill from 'millrace';

export type Message = { content: string; author: string; date: string; sentiment: number | null };

export async function main(messages: Message[]) {
  const sql = wmill.ducklake();
  await sql`CREATE TABLE IF NOT EXISTS messages (
      content VARCHAR NOT NULL, author VARCHAR NOT NULL, date DATE NOT NULL, sentiment DOUBLE)`.execute();
  await sql`INSERT INTO messages
      SELECT m->>'content', m->>'author', (m->>'date')::DATE, (m->>'sentiment')::DOUBLE
      FROM json_each(${messages}) AS t(k, m)`.execute();
  return {
    total: await sql`SELECT count(*) FROM messages`.fetchOneScalar(),
    snapshot: await sql`SELECT max(snapshot_id) FROM dl.snapshots()`.fetchOneScalar(),
  };
}
