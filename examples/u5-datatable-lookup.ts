/**
 * U5: look up a row in a data table. `datatable(':analytics')` makes `events` mean `analytics.events`;
 * `datatable('main', { role: 'reader' })` runs as a restricted role.
 */
import * as wmill from 'millrace';

export async function main(user_id: string) {
  const sql = wmill.datatable();
  return await sql`SELECT * FROM friend WHERE id = ${user_id}`.fetchOne();
}

/** The same datatable with the `analytics` schema first: unqualified `events` is `analytics.events`. */
export async function clicks(kind = 'click') {
  const sql = wmill.datatable(':analytics');
  return await sql`SELECT count(*) AS n FROM events WHERE kind = ${kind}`.fetchOneScalar();
}
