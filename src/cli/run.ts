/** `millrace run` (Windmill DuckDB scripts) and `millrace extensions` (the DuckDB extension provisioner). */
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import { duckdbScriptArgs, runDuckDBScript, type DuckDBScriptArg } from '../index.js';
import { packageRoot } from './root.js';
import { formatOf, printRows, readStdin, UsageError } from './output.js';

/** JSON-typed and list arguments are parsed as JSON; everything else stays text for DuckDB to cast. */
function structured(type: string | undefined): boolean {
  return type !== undefined && (type === 'json' || type === 'jsonb' || type.endsWith('[]'));
}

/** `name=value` or `name=@file` (the file's content; parsed when the argument is JSON). */
export async function parseArgs(pairs: string[], declared: DuckDBScriptArg[]): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq < 1) throw new UsageError(`--arg expects name=value or name=@file, got ${JSON.stringify(pair)}`);
    const name = pair.slice(0, eq).replace(/^\$/, '');
    let text = pair.slice(eq + 1);
    const fromFile = text.startsWith('@');
    if (fromFile) text = await readFile(text.slice(1), 'utf8');
    const type = declared.find((d) => d.name === name)?.type;
    if (structured(type) || (type === undefined && fromFile && /\.json$/i.test(pair))) {
      try {
        out[name] = JSON.parse(text) as unknown;
      } catch {
        throw new UsageError(`--arg ${name}: not valid JSON`);
      }
    } else out[name] = text;
  }
  return out;
}

type RunOptions = { arg: string[]; lake?: string; json?: boolean; csv?: boolean };

export function register(program: Command): void {
  program
    .command('run')
    .description('run a Windmill DuckDB script (-- $name (type) headers, $name parameters) on a DuckLake')
    .argument('<script>', 'a .sql file, or - for stdin')
    .option('-a, --arg <name=value>', 'an argument; name=@file.json reads it from a file (repeatable)', (v: string, all: string[]) => [...all, v], [])
    .option('--lake <name>', 'the DuckLake to run on', 'main')
    .option('--json', 'JSON output')
    .option('--csv', 'CSV output')
    .addHelpText(
      'after',
      `
Prints the last statement's rows. Arguments are bound as parameters and cast to their declared type.

Examples:
  millrace run daily.sql --arg day=2026-11-21
  millrace run load_messages.sql --arg messages=@messages.json --json`,
    )
    .action(async (script: string, opts: RunOptions) => {
      const format = formatOf(opts);
      const text = script === '-' ? await readStdin() : await readFile(script, 'utf8');
      const args = await parseArgs(opts.arg, duckdbScriptArgs(text));
      await printRows(await runDuckDBScript(text, args, { lake: opts.lake }), format);
    });

  program
    .command('extensions')
    .description('provision the DuckDB extensions ducklake() needs (same as millrace-duckdb-extensions)')
    .allowUnknownOption()
    .helpOption(false)
    .argument('[options...]', 'passed to the provisioner; see millrace extensions --help')
    .addHelpText('after', '\nExamples:\n  millrace extensions\n  millrace extensions --dir /opt/duckdb-ext --only ducklake,httpfs')
    .action(async (rest: string[]) => {
      const script = join(packageRoot(), 'scripts', 'duckdb-extensions.mjs');
      const code = await new Promise<number>((resolve, reject) => {
        const child = spawn(process.execPath, [script, ...rest], { stdio: 'inherit' });
        child.on('error', reject);
        child.on('exit', (c, signal) => resolve(c ?? (signal ? 1 : 0)));
      });
      if (code !== 0) process.exitCode = code;
    });
}
