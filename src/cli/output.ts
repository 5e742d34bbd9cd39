/**
 * What the CLI prints: data on stdout (tables, JSON, CSV), everything else on stderr. Colour only
 * on a terminal and without NO_COLOR; tables fit the terminal's width.
 */
import { createInterface } from 'node:readline/promises';
import type { Writable } from 'node:stream';
import { MillraceError } from '../index.js';

export type Row = Record<string, unknown>;
export type Format = 'table' | 'json' | 'csv';

/** Exit codes: 0 ok, 1 failure, 2 bad usage. */
export class UsageError extends Error {}

export function colorOn(stream: NodeJS.WriteStream = process.stdout): boolean {
  if (process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== '') return false;
  if (process.env.TERM === 'dumb') return false;
  return Boolean(stream.isTTY);
}

const CODES = { bold: [1, 22], dim: [2, 22], red: [31, 39], green: [32, 39], yellow: [33, 39], cyan: [36, 39] } as const;
export function paint(style: keyof typeof CODES, text: string, stream: NodeJS.WriteStream = process.stdout): string {
  if (!colorOn(stream)) return text;
  const [a, b] = CODES[style];
  return `\x1b[${a}m${text}\x1b[${b}m`;
}

/** Notes for people (progress, counts, prompts' answers) go to stderr, so stdout stays data. */
export function note(text: string): void {
  process.stderr.write(text + '\n');
}

/** The width to fit tables in: the terminal's, else $COLUMNS, else unlimited (piped output is not cut). */
export function terminalWidth(): number {
  if (process.stdout.isTTY && process.stdout.columns) return process.stdout.columns;
  const env = Number(process.env.COLUMNS);
  return Number.isInteger(env) && env > 20 ? env : Infinity;
}

/** A value as one line of table text. */
export function cellText(v: unknown): string {
  if (v === null || v === undefined) return 'NULL';
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? 'Invalid Date' : v.toISOString();
  if (v instanceof Uint8Array) return '\\x' + Buffer.from(v.subarray(0, 64)).toString('hex') + (v.length > 64 ? '…' : '');
  if (typeof v === 'object') return JSON.stringify(v, jsonReplacer);
  return String(v).replace(/\r?\n/g, '↵');
}

export function jsonReplacer(_key: string, v: unknown): unknown {
  if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
  if (v instanceof Uint8Array) return Buffer.from(v).toString('base64');
  if (v && typeof v === 'object' && (v as { type?: unknown }).type === 'Buffer' && Array.isArray((v as { data?: unknown }).data)) {
    return Buffer.from((v as { data: number[] }).data).toString('base64');
  }
  return v;
}

export function toJson(value: unknown): string {
  return JSON.stringify(value, jsonReplacer, 2);
}

function csvField(v: unknown): string {
  if (v === null || v === undefined) return '';
  const text = typeof v === 'object' && !(v instanceof Date) && !(v instanceof Uint8Array) ? JSON.stringify(v, jsonReplacer) : v instanceof Date ? v.toISOString() : v instanceof Uint8Array ? Buffer.from(v).toString('base64') : String(v);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function toCsv(rows: Row[], columns = columnsOf(rows)): string {
  const lines = [columns.map(csvField).join(',')];
  for (const r of rows) lines.push(columns.map((c) => csvField(r[c])).join(','));
  return lines.join('\r\n') + '\r\n';
}

export function columnsOf(rows: Row[]): string[] {
  const seen = new Set<string>();
  for (const r of rows) for (const k of Object.keys(r)) seen.add(k);
  return [...seen];
}

/** Rows as a box table, each column cut (with …) so the whole fits `width`. */
export async function toTable(rows: Row[], columns = columnsOf(rows), width = terminalWidth()): Promise<string> {
  const { default: Table } = await import('cli-table3');
  if (columns.length === 0) return '';
  const cells = rows.map((r) => columns.map((c) => cellText(r[c])));
  const natural = columns.map((c, i) => Math.max(c.length, ...cells.map((row) => row[i]!.length)) + 2);
  const widths = fit(natural, width - (columns.length + 1));
  const color = colorOn();
  const table = new Table({
    head: columns,
    colWidths: widths,
    truncate: '…',
    style: { head: color ? ['cyan'] : [], border: color ? ['grey'] : [], compact: true },
  });
  for (const row of cells) table.push(row);
  return table.toString();
}

/** Shrinks the widest columns until the sum fits; no column below 5. */
function fit(widths: number[], room: number): number[] {
  const out = [...widths];
  let total = out.reduce((a, b) => a + b, 0);
  while (total > room) {
    let widest = 0;
    for (let i = 1; i < out.length; i++) if (out[i]! > out[widest]!) widest = i;
    if (out[widest]! <= 5) break;
    out[widest]!--;
    total--;
  }
  return out;
}

export async function printRows(rows: Row[], format: Format, out: Writable = process.stdout): Promise<void> {
  if (format === 'json') out.write(toJson(rows) + '\n');
  else if (format === 'csv') out.write(toCsv(rows));
  else if (rows.length > 0) out.write((await toTable(rows)) + '\n');
  if (format === 'table' && process.stderr.isTTY) note(paint('dim', `(${rows.length} row${rows.length === 1 ? '' : 's'})`, process.stderr));
}

export function formatOf(opts: { json?: boolean; csv?: boolean }): Format {
  if (opts.json && opts.csv) throw new UsageError('--json and --csv cannot be used together');
  return opts.json ? 'json' : opts.csv ? 'csv' : 'table';
}

/** Asks a yes/no question on the terminal; false unless the answer starts with y. */
export async function confirm(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y/i.test((await rl.question(`${question} [y/N] `)).trim());
  } finally {
    rl.close();
  }
}

export function humanSize(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) (v /= 1024), u++;
  return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[u]}`;
}

/** `30s`, `15m`, `1h`, `7d` or a bare number of seconds. */
export function parseDuration(text: string): number {
  const m = /^(\d+)\s*(s|m|h|d)?$/i.exec(text.trim());
  if (!m) throw new UsageError(`invalid duration ${JSON.stringify(text)} (expected e.g. 30s, 15m, 1h, 7d)`);
  return Number(m[1]) * { s: 1, m: 60, h: 3600, d: 86400 }[(m[2] ?? 's').toLowerCase() as 's']!;
}

/** The line printed for a failure: the library's code, then the message (no stack unless --debug). */
export function errorLine(e: unknown): string {
  if (e instanceof MillraceError) return `${e.code}: ${e.message}`;
  if (e instanceof Error) return e.message;
  return String(e);
}

export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
