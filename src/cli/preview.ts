/** `millrace preview`: the first rows, schema and row count of a CSV, TSV, Parquet, JSON or NDJSON file, through DuckDB. */
import type { Command } from 'commander';
import { ducklake, formatS3Object, loadS3FileStream, statS3File, MillraceError, type S3ObjectRecord } from '../index.js';
import { contentTypeOf, location } from './files.js';
import { note, paint, printRows, toJson, toTable, UsageError } from './output.js';

const FORMATS = ['csv', 'tsv', 'parquet', 'json', 'ndjson', 'text'] as const;
type PreviewFormat = (typeof FORMATS)[number];

/** By content type, then by extension; text when neither says. */
export function detect(key: string, contentType: string | undefined): PreviewFormat {
  const byType: Record<string, PreviewFormat> = {
    'text/csv': 'csv', 'text/tab-separated-values': 'tsv', 'application/vnd.apache.parquet': 'parquet', 'application/x-parquet': 'parquet',
    'application/json': 'json', 'application/x-ndjson': 'ndjson', 'application/jsonl': 'ndjson', 'application/x-jsonlines': 'ndjson',
  };
  const type = contentType?.split(';')[0]?.trim().toLowerCase();
  if (type && byType[type]) return byType[type];
  const byExt = byType[contentTypeOf(key.replace(/\.gz$/i, '')) ?? ''];
  return byExt ?? 'text';
}

/** A DuckDB table function reading the file; the S3Object binds as its storage URL. */
function reader(sql: ReturnType<typeof ducklake>, obj: S3ObjectRecord, format: Exclude<PreviewFormat, 'text'>) {
  switch (format) {
    case 'csv':
      return sql`read_csv(${obj})`;
    case 'tsv':
      return sql`read_csv(${obj}, delim = '\t')`;
    case 'parquet':
      return sql`read_parquet(${obj})`;
    case 'json':
      return sql`read_json(${obj})`;
    case 'ndjson':
      return sql`read_json(${obj}, format = 'newline_delimited')`;
  }
}

type PreviewOptions = { limit: string; format?: string; json?: boolean };

async function preview(arg: string, opts: PreviewOptions): Promise<void> {
  const l = location(arg);
  if (l.kind !== 's3' || !l.key) throw new UsageError(`preview takes an s3://<storage>/<key> URI, got ${JSON.stringify(arg)}`);
  const limit = Number(opts.limit);
  if (!Number.isInteger(limit) || limit < 1) throw new UsageError('--limit must be a positive integer');
  if (opts.format !== undefined && !FORMATS.includes(opts.format as PreviewFormat)) throw new UsageError(`--format must be one of ${FORMATS.join(', ')}`);
  const obj: S3ObjectRecord = l.storage ? { s3: l.key, storage: l.storage } : { s3: l.key };
  const info = await statS3File(obj);
  if (!info) throw new MillraceError('NotFound', `${formatS3Object(obj)} does not exist`);
  const format = (opts.format as PreviewFormat | undefined) ?? detect(l.key, info.contentType);
  if (format === 'text') return previewText(obj, limit, opts.json);
  const sql = ducklake();
  const from = reader(sql, obj, format);
  const schema = await sql`SELECT column_name AS column, column_type AS type FROM (DESCRIBE SELECT * FROM ${from})`.fetch();
  const rows = await sql`SELECT * FROM ${from} LIMIT ${limit}`.fetch();
  const count = await sql`SELECT count(*) AS n FROM ${from}`.fetchOneScalar();
  if (opts.json) {
    process.stdout.write(toJson({ uri: formatS3Object(obj), format, size: info.size, rows: Number(count), schema, preview: rows }) + '\n');
    return;
  }
  const head = `${formatS3Object(obj)}: ${format}, ${Number(count)} row${Number(count) === 1 ? '' : 's'}, ${schema.length} column${schema.length === 1 ? '' : 's'}`;
  process.stdout.write(paint('bold', head) + '\n\n');
  process.stdout.write((await toTable(schema)) + '\n\n');
  await printRows(rows, 'table');
  if (Number(count) > rows.length) process.stdout.write(paint('dim', `… ${Number(count) - rows.length} more row(s)`) + '\n');
}

async function previewText(obj: S3ObjectRecord, lines: number, json?: boolean): Promise<void> {
  const blob = await loadS3FileStream(obj);
  const head = new Uint8Array(await blob.slice(0, 64 * 1024).arrayBuffer());
  if (head.includes(0)) {
    note(`${formatS3Object(obj)}: binary file of ${blob.size} bytes; use --format or \`millrace cat\``);
    return;
  }
  const text = new TextDecoder().decode(head).split('\n').slice(0, lines);
  if (json) process.stdout.write(toJson({ uri: formatS3Object(obj), format: 'text', size: blob.size, head: text }) + '\n');
  else process.stdout.write(text.join('\n') + '\n');
}

export function register(program: Command): void {
  program
    .command('preview')
    .description('the schema, row count and first rows of a CSV, TSV, Parquet, JSON or NDJSON file; the head of a text file')
    .argument('<uri>', 's3://<storage>/<key>')
    .option('--limit <n>', 'rows (or lines of text) to show', '10')
    .option('--format <format>', `read as ${FORMATS.join(', ')} (default: by content type, then extension)`)
    .option('--json', 'JSON output')
    .addHelpText('after', '\nExamples:\n  millrace preview s3:///inputs/report.csv\n  millrace preview --limit 5 s3://archive/events.parquet\n  millrace preview --format ndjson s3:///logs/today.log')
    .action(preview);
}
