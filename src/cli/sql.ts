/** `millrace sql`: one query, or an interactive prompt, on a data table or a DuckLake. */
import { appendFileSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import { datatable, ducklake, getConfig, type SqlTemplateFunction } from '../index.js';
import { errorLine, formatOf, note, paint, printRows, UsageError, readStdin, type Format, type Row } from './output.js';

export type Target = { engine: 'datatable' | 'ducklake'; name: string; sql: SqlTemplateFunction };

export function target(opts: { datatable?: string; lake?: string }): Target {
  if (opts.datatable !== undefined && opts.lake !== undefined) throw new UsageError('--datatable and --lake cannot be used together');
  if (opts.lake !== undefined) return { engine: 'ducklake', name: opts.lake, sql: ducklake(opts.lake) };
  const name = opts.datatable ?? 'main';
  return { engine: 'datatable', name, sql: datatable(name) };
}

/** Runs SQL text as written (no parameters), returning the last statement's rows. */
export function runText(t: Target, text: string): Promise<Row[]> {
  const strings = Object.assign([text], { raw: [text] }) as unknown as TemplateStringsArray;
  return t.sql(strings).fetch({ resultCollection: 'last_statement_all_rows' }) as Promise<Row[]>;
}

/** `\dn`, `\dt`, `\d`, `\d name`: schemas, tables and columns through information_schema, on both engines. */
export async function describe(t: Target, command: string): Promise<Row[]> {
  const sql = t.sql;
  // On DuckDB, only the lake's own catalog (the connection's current database).
  const catalog = t.engine === 'ducklake' ? sql`AND table_catalog = current_database()` : sql``;
  const system = sql`table_schema NOT IN ('pg_catalog', 'information_schema')`;
  const [cmd, arg] = command.trim().split(/\s+/, 2);
  switch (cmd) {
    case '\\dn': {
      const where = t.engine === 'ducklake' ? sql`catalog_name = current_database()` : sql`schema_name NOT IN ('pg_catalog', 'information_schema', 'pg_toast')`;
      return sql`SELECT schema_name AS schema FROM information_schema.schemata WHERE ${where} ORDER BY 1`.fetch();
    }
    case '\\dt':
    case '\\d':
      if (cmd === '\\d' && arg) {
        const [schema, table] = arg.includes('.') ? arg.split('.', 2) : [undefined, arg];
        const inSchema = schema ? sql`AND table_schema = ${schema}` : sql``;
        const rows = await sql`SELECT column_name AS column, data_type AS type, is_nullable AS nullable, column_default AS "default"
          FROM information_schema.columns WHERE table_name = ${table} ${inSchema} ${catalog} AND ${system} ORDER BY ordinal_position`.fetch();
        if (rows.length === 0) throw new UsageError(`no table named ${JSON.stringify(arg)}`);
        return rows;
      }
      return sql`SELECT table_schema AS schema, table_name AS name, lower(table_type) AS type FROM information_schema.tables
        WHERE ${system} ${catalog} ${cmd === '\\dt' ? sql`AND table_type = 'BASE TABLE'` : sql``} ORDER BY 1, 2`.fetch();
    default:
      throw new UsageError(`unknown command ${cmd}; try \\?`);
  }
}

const HELP = `  \\d           tables and views      \\d <table>  columns of a table
  \\dt          tables                \\dn         schemas
  \\q           quit                  \\?          this help
  SQL runs when a line ends with ;`;

function historyFile(): string {
  return join(getConfig().home, 'sql_history');
}

/** The interactive prompt: node:readline with history kept in MILLRACE_HOME, multi-line until `;`. */
async function repl(t: Target, format: Format): Promise<void> {
  const file = historyFile();
  let history: string[] = [];
  try {
    history = readFileSync(file, 'utf8').split('\n').filter(Boolean).reverse().slice(0, 500);
  } catch {
    /* no history yet */
  }
  const rl = createInterface({ input: process.stdin, output: process.stdout, history, historySize: 500, terminal: true });
  const label = `${t.engine === 'ducklake' ? 'lake' : 'datatable'}:${t.name}`;
  const prompt = paint('bold', `${label}=> `);
  const more = paint('dim', `${' '.repeat(label.length)}-> `);
  note(paint('dim', `millrace sql on ${label}. \\? for help, \\q to quit.`, process.stderr));
  let buffer = '';
  // Ctrl-C drops the statement being typed (as psql does); on an empty prompt it quits.
  rl.on('SIGINT', () => {
    if (!buffer && !rl.line) return rl.close();
    buffer = '';
    rl.setPrompt(prompt);
    if (rl.line) rl.write(null, { ctrl: true, name: 'u' });
    process.stdout.write('^C\n');
    rl.prompt();
  });
  rl.setPrompt(prompt);
  rl.prompt();
  const remember = (entry: string) => {
    try {
      mkdirSync(dirname(file), { recursive: true });
      appendFileSync(file, entry.replace(/\n/g, ' ') + '\n');
    } catch {
      /* history is a convenience */
    }
  };
  for await (const line of rl) {
    const trimmed = line.trim();
    if (!buffer && trimmed.startsWith('\\')) {
      if (trimmed === '\\q') break;
      remember(trimmed);
      if (trimmed === '\\?') note(HELP);
      else await show(() => describe(t, trimmed), format);
    } else if (trimmed || buffer) {
      buffer += (buffer ? '\n' : '') + line;
      if (trimmed.endsWith(';')) {
        const text = buffer;
        buffer = '';
        remember(text);
        await show(() => runText(t, text), format);
      }
    }
    rl.setPrompt(buffer ? more : prompt);
    rl.prompt();
  }
  rl.close();
}

/** Runs and prints; a failed statement prints its error and the prompt goes on. */
async function show(rows: () => Promise<Row[]>, format: Format): Promise<void> {
  try {
    await printRows(await rows(), format);
  } catch (e) {
    process.stderr.write(paint('red', `ERROR ${errorLine(e)}`, process.stderr) + '\n');
  }
}


type SqlOptions = { datatable?: string; lake?: string; json?: boolean; csv?: boolean };

export function register(program: Command): void {
  program
    .command('sql')
    .description('run a query on a data table (the default) or a DuckLake; without a query, an interactive prompt')
    .argument('[query]', 'SQL text; several statements separated by ; print the last one\'s rows')
    .option('--datatable <name>', 'a data table of the config (without --lake: main)')
    .option('--lake <name>', 'a DuckLake of the config (main, or name:schema for a schema)')
    .option('--json', 'JSON output')
    .option('--csv', 'CSV output')
    .addHelpText(
      'after',
      `
Without a query on a terminal, a prompt opens (history, multi-line input until ;, \\d \\dt \\dn \\q).
Without a query and with stdin piped, the SQL is read from stdin.

Examples:
  millrace sql "SELECT * FROM friend WHERE age > 30"
  millrace sql --lake main --json "SELECT count(*) FROM messages"
  millrace sql --datatable analytics --csv "SELECT * FROM events" > events.csv
  millrace sql --lake main
  echo "\\dt" | millrace sql`,
    )
    .action(async (query: string | undefined, opts: SqlOptions) => {
      const format = formatOf(opts);
      const t = target(opts);
      if (query !== undefined) {
        await printRows(query.trim().startsWith('\\') ? await describe(t, query) : await runText(t, query), format);
      } else if (process.stdin.isTTY) {
        await repl(t, format);
      } else {
        const text = (await readStdin()).trim();
        if (!text) throw new UsageError('no query given (as an argument or on stdin)');
        await printRows(text.startsWith('\\') ? await describe(t, text) : await runText(t, text), format);
      }
    });
}
