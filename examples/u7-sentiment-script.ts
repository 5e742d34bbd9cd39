/**
 * U7 as a Windmill DuckDB script: the text below runs unchanged (it attaches the lake as `dl`,
 * stages the batch in a temporary table and inserts it). ducklake().query() binds the one
 * argument as `$1`; the script's temporary table lives only as long as its run.
 */
import * as wmill from 'millrace';

export const SCRIPT = `-- $messages (json[])
ATTACH 'ducklake://main' AS dl;
USE dl;
CREATE TABLE IF NOT EXISTS messages (
  content VARCHAR NOT NULL,
  author VARCHAR NOT NULL,
  date DATE NOT NULL,
  sentiment DOUBLE
);
CREATE TEMP TABLE new_messages AS
SELECT
  value->>'content' AS content,
  value->>'author' AS author,
  (value->>'date')::DATE AS date,
  CASE WHEN value->>'content' ILIKE '%love%' THEN 1.0 ELSE 0.0 END AS sentiment
FROM json_each($messages);
INSERT INTO messages SELECT * FROM new_messages;`;

export type Message = { content: string; author: string; date: string };

export async function main(messages: Message[]) {
  const sql = wmill.ducklake();
  await sql.query(SCRIPT.replaceAll('$messages', '$1'), messages).execute();
  return await sql`SELECT count(*) FROM dl.messages`.fetchOneScalar();
}
