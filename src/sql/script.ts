/**
 * Windmill DuckDB scripts: `-- $name (type) = default` header lines declare arguments, `$name`
 * in the SQL uses them. Each use becomes a bound parameter of a ducklake() statement (never text
 * spliced into the SQL), cast to the declared type.
 */
import { MillraceError } from '../errors.js';
import { parseS3Object, type S3Object } from '../s3object.js';
import { ducklake } from './ducklake.js';
import type { Row } from './statement.js';
import { findPlaceholders } from './lexer.js';

/** One `-- $name (type) = default` header line. `default` is the text after `=`, unparsed. */
export type DuckDBScriptArg = { name: string; type: string; default?: string };

export type DuckDBScriptOptions = {
  /** The lake the script runs on: `"main"` (the default), `"lake2"`, `"lake2:schema"`. */
  lake?: string;
  signal?: AbortSignal;
};

// Windmill's own header syntax: `-- $name (type)` optionally followed by `= default`.
const HEADER = /^-- \$(\w+) \(([A-Za-z0-9_[\]]+)\)(?: ?= ?(.+?))? *$/gm;
// A `$name` candidate: not inside an identifier, not a `$tag$` dollar quote.
const NAMED = /(?<![A-Za-z0-9_$\u0080-\uffff])\$([A-Za-z_][A-Za-z0-9_]*)(?![A-Za-z0-9_$])/g;

/** The arguments a script declares in its `-- $name (type)` header lines, in order. */
export function duckdbScriptArgs(text: string): DuckDBScriptArg[] {
  const out: DuckDBScriptArg[] = [];
  for (const m of text.matchAll(HEADER)) {
    if (out.some((a) => a.name === m[1])) continue;
    out.push(m[3] === undefined ? { name: m[1]!, type: m[2]!.toLowerCase() } : { name: m[1]!, type: m[2]!.toLowerCase(), default: m[3].trim() });
  }
  return out;
}

/**
 * Runs a Windmill DuckDB script on a DuckLake and returns the last statement's rows.
 * `args` are keyed by name, without the `$`; an argument left out takes its header default.
 * @example
 * await runDuckDBScript('-- $min (bigint)\nSELECT * FROM events WHERE n >= $min', { min: 10 });
 */
export async function runDuckDBScript(text: string, args: Record<string, unknown> = {}, opts: DuckDBScriptOptions = {}): Promise<Row[]> {
  if (typeof text !== 'string') throw new MillraceError('InvalidArgument', 'runDuckDBScript() takes the script text as a string');
  const declared = new Map(duckdbScriptArgs(text).map((a) => [a.name, a]));
  const uses = usesOf(text);
  for (const name of Object.keys(args)) {
    if (!declared.has(name) && !uses.some((u) => u.name === name)) {
      throw new MillraceError('InvalidArgument', `The script has no argument $${name}; it declares ${[...declared.keys()].map((n) => '$' + n).join(', ') || 'none'}`);
    }
  }
  const strings: string[] = [];
  const values: unknown[] = [];
  let at = 0;
  let close = '';
  for (const use of uses) {
    const decl = declared.get(use.name);
    const given = Object.hasOwn(args, use.name);
    if (!given && decl?.default === undefined) {
      throw new MillraceError('InvalidArgument', `Missing argument $${use.name}${decl ? ` (${decl.type})` : ''}`);
    }
    const { value, cast } = bindable(decl, given ? args[use.name] : undefined, !given);
    // `CAST(<param> AS type)`: the declared type is DuckDB's cast of the bound value.
    strings.push(close + text.slice(at, use.start) + (cast ? 'CAST(' : ''));
    values.push(value);
    close = cast ? ` AS ${cast})` : '';
    at = use.end;
  }
  strings.push(close + text.slice(at));
  const raw = Object.assign([...strings], { raw: [...strings] }) as unknown as TemplateStringsArray;
  return ducklake(opts.lake ?? 'main')(raw, ...values).fetch({ resultCollection: 'last_statement_all_rows', signal: opts.signal }) as Promise<Row[]>;
}

type Use = { name: string; start: number; end: number };

/**
 * The `$name` uses outside quotes, comments and dollar-quoted bodies. The template lexer knows
 * `$n` placeholders: each candidate is probed as a `$` plus digits of the same length.
 */
function usesOf(text: string): Use[] {
  const candidates: Use[] = [];
  let probe = '';
  let last = 0;
  for (const m of text.matchAll(NAMED)) {
    candidates.push({ name: m[1]!, start: m.index, end: m.index + m[0].length });
    probe += text.slice(last, m.index) + '$' + '9'.repeat(m[0].length - 1);
    last = m.index + m[0].length;
  }
  if (candidates.length === 0) return [];
  probe += text.slice(last);
  const live = new Set(findPlaceholders(probe).map((p) => p.start));
  return candidates.filter((c) => live.has(c.start));
}

/** Windmill's DuckDB type names -> the DuckDB type a value is cast to (undefined: bound as is). */
function castType(type: string): string | undefined {
  if (type.endsWith('[]')) {
    const inner = castType(type.slice(0, -2));
    return inner ? `${inner}[]` : undefined;
  }
  switch (type) {
    case 'text': case 'varchar': case 'char': case 'bpchar': case 'string':
      return 'VARCHAR';
    case 'datetime':
      return 'TIMESTAMP';
    case 's3object': case 'blob': case 'bytea': case 'binary': case 'varbinary':
      return undefined;
    default:
      return /^[a-z][a-z0-9_]*$/.test(type) ? type.toUpperCase() : undefined;
  }
}

/** An argument (or its header default) as a value to bind, and the type to cast it to. */
function bindable(decl: DuckDBScriptArg | undefined, given: unknown, useDefault: boolean): { value: unknown; cast: string | undefined } {
  if (!decl) return { value: given, cast: undefined };
  const type = decl.type;
  const cast = castType(type);
  let value: unknown = useDefault ? defaultValue(decl) : given;
  if (value === null || value === undefined) return { value: null, cast };
  if (type === 's3object') return { value: typeof value === 'string' ? parseS3Object(value as S3Object) : parseS3Object(value as S3Object), cast };
  const isJson = type === 'json' || type === 'jsonb';
  const isJsonList = type === 'json[]' || type === 'jsonb[]';
  if (isJson) return { value: useDefault ? value : JSON.stringify(value), cast };
  if (type.endsWith('[]') && typeof value === 'string') value = listValue(decl, value);
  if (isJsonList) {
    if (!Array.isArray(value)) throw new MillraceError('InvalidArgument', `Argument $${decl.name} (${type}) must be an array`);
    return { value: value.map((v) => JSON.stringify(v)), cast };
  }
  if (type === 'date' && value instanceof Date) value = value.toISOString().slice(0, 10);
  if ((type === 'blob' || type === 'bytea') && typeof value === 'string') value = new TextEncoder().encode(value);
  return { value, cast };
}

/** A header default as Windmill writes it: `'text'`, `"text"`, `42`, `true`, `{"a": 1}`. */
function defaultValue(decl: DuckDBScriptArg): unknown {
  const text = decl.default!;
  if (/^'.*'$|^".*"$/s.test(text)) return text.slice(1, -1);
  if (/^null$/i.test(text)) return null;
  if (decl.type.endsWith('[]')) return listValue(decl, text);
  return text;
}

/** A list argument given as text (a header default, a command-line value) is JSON: `[1, 2]`. */
function listValue(decl: DuckDBScriptArg, text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new MillraceError('InvalidArgument', `Argument $${decl.name} (${decl.type}) must be a JSON array`);
  }
}
