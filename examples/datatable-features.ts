/**
 * The rest of the SQL tag: `$1`-style queries, trusted fragments (`sql.raw`), quoted identifiers
 * (`sql.ident`), nested statements, result-collection modes, and a restricted role.
 */
import * as wmill from 'millrace';

export async function main(minAge: number, sortColumn: 'name' | 'age') {
  const sql = wmill.datatable();

  // Several statements in one template run in order, in one transaction.
  await sql`
    CREATE TABLE IF NOT EXISTS people (name text PRIMARY KEY, age int, tags text[]);
    INSERT INTO people VALUES (${'Robin'}, ${21}, ${['admin', 'ops']}), (${'Ada'}, ${36}, ${['dev']})
      ON CONFLICT (name) DO NOTHING`.execute();

  const adults = sql`age >= ${minAge}`;                                    // a fragment, nested below
  const rows = await sql`SELECT name, age FROM ${sql.ident('public.people')}
      WHERE ${adults} ORDER BY ${sql.ident(sortColumn)}`.fetch();          // user input as identifier, never as text

  const names = await sql`SELECT name FROM people ORDER BY name`.fetch({ resultCollection: 'last_statement_all_rows_scalar' });
  const count = await sql.query('SELECT count(*) FROM people WHERE $1 = ANY(tags)', 'dev').fetchOneScalar();
  const perStatement = await sql`SELECT 1 AS a; SELECT 2 AS b`.fetch({ resultCollection: 'all_statements_first_row_scalar' });
  const oldest = await sql`SELECT name FROM people ORDER BY age ${sql.raw('DESC')} LIMIT 1`.fetchOneScalar();

  return { rows, names, count, perStatement, oldest };
}

/** Reads as a restricted role: the statement runs under `SET LOCAL ROLE`, never falling back. */
export async function asReader(role = 'reader') {
  const sql = wmill.datatable('main', { role });
  return await sql`SELECT count(*) FROM people`.fetchOneScalar();
}
