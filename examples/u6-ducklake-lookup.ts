/** U6: look up a row in a DuckLake table. `ducklake('lake2')` for a named lake, `ducklake('main:analytics')` for a schema. */
import * as wmill from 'millrace';

export async function main(user_id: string, lake = 'main') {
  const sql = wmill.ducklake(lake);
  return await sql`SELECT * FROM friend WHERE id = ${user_id}`.fetchOne();
}
