#!/usr/bin/env node
/**
 * `millrace`: look at, move and query your data from the terminal, with the same config
 * resolution as the library. Data goes to stdout; errors, with the library's code, to stderr.
 * Exit codes: 0 ok, 1 failure, 2 bad usage.
 */
import { Command, CommanderError } from 'commander';
import { close } from '../index.js';
import * as doctor from './doctor.js';
import * as files from './files.js';
import { errorLine, paint, UsageError } from './output.js';
import { packageVersion } from './root.js';
import * as preview from './preview.js';
import * as run from './run.js';
import * as sql from './sql.js';

function program(): Command {
  const p = new Command('millrace')
    .description('Look at, move and query your data: the storages, data tables and DuckLakes of your millrace config.')
    .version(packageVersion(), '-V, --version')
    .option('--debug', 'print stack traces and causes of errors')
    .showSuggestionAfterError()
    .exitOverride()
    .configureOutput({ outputError: (text, write) => write(paint('red', text.trimEnd(), process.stderr) + '\n') })
    .addHelpText(
      'after',
      `
Config: millrace reads what your scripts read: MILLRACE_CONFIG (JSON or a file path), then
./millrace.config.json, then the embedded default under ./.millrace (MILLRACE_HOME moves it).

Examples:
  millrace doctor
  millrace ls -l s3:///inputs/
  millrace cp report.csv s3:///inputs/report.csv
  millrace preview s3:///inputs/report.csv
  millrace sql "SELECT count(*) FROM friend"
  millrace run daily.sql --arg day=2026-11-21`,
    );
  files.register(p);
  preview.register(p);
  sql.register(p);
  run.register(p);
  doctor.register(p);
  // Every subcommand: usage errors exit 2 rather than 1, and print through the same channel.
  for (const c of p.commands) c.exitOverride().showHelpAfterError('(run with --help for usage)');
  return p;
}

// The pinned AWS SDK warns on Node 20 about its future Node 22 requirement: not about the command being run.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

// `millrace ls | head`: the reader went away; that is the end of the output, not an error.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw e;
});

async function main(argv: string[]): Promise<number> {
  const debug = argv.includes('--debug');
  try {
    await program().parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return 0;
      return e.exitCode === 0 ? 0 : 2;
    }
    if (e instanceof UsageError) {
      process.stderr.write(paint('red', `millrace: ${e.message}`, process.stderr) + '\n');
      return 2;
    }
    process.stderr.write(paint('red', `millrace: ${errorLine(e)}`, process.stderr) + '\n');
    if (debug) {
      process.stderr.write(`${(e as Error)?.stack ?? ''}\n`);
      const cause = (e as { cause?: unknown })?.cause;
      if (cause) process.stderr.write(`cause: ${(cause as Error)?.stack ?? String(cause)}\n`);
    }
    return 1;
  } finally {
    await close();
  }
}

void main(process.argv).then((code) => {
  process.exitCode = code;
});
