/**
 * The SQL template compiler: pure, engine-agnostic. A tagged template becomes statement text
 * with `$n` placeholders plus typed parameters; interpolated values are never spliced into the text.
 */
import { MillraceError } from '../errors.js';

/** Inlined verbatim: for trusted SQL text only. */
export class RawSql {
  readonly __brand = 'RawSql' as const;
  constructor(readonly value: string) {}
}

/** A quoted identifier (`"schema"."table"`). */
export class Identifier {
  readonly __brand = 'Identifier' as const;
  constructor(readonly parts: readonly string[]) {}
}

/** A template plus its values, before compilation. Statements nest as fragments. */
export class Fragment {
  constructor(
    readonly strings: readonly string[],
    readonly values: readonly unknown[],
  ) {}
}

export type BoundParam = {
  value: unknown;
  /** The SQL type: the explicit `::type` after the value, else windmill-client's inference. */
  type: string;
  explicit: boolean;
};

export type CompiledSql = { text: string; params: BoundParam[] };

export type Dialect = {
  /** Placeholder text for parameter `n` (1-based). */
  placeholder(n: number, param: BoundParam): string;
};

export const postgresDialect: Dialect = {
  placeholder: (n, p) => (p.explicit ? `$${n}` : `$${n}::${p.type}`),
};

export const duckdbDialect: Dialect = {
  placeholder: (n) => `$${n}`,
};

export function raw(text: string): RawSql {
  if (typeof text !== 'string') throw new MillraceError('InvalidArgument', 'sql.raw() takes a string');
  return new RawSql(text);
}

/** `sql.ident('schema.table')` or `sql.ident('schema', 'table')`: each part double-quoted, quotes doubled. */
export function ident(...names: string[]): Identifier {
  const parts = names.length === 1 ? names[0]!.split('.') : names;
  for (const p of parts) {
    if (typeof p !== 'string' || p.length === 0 || p.includes('\0')) {
      throw new MillraceError('InvalidArgument', `Invalid SQL identifier ${JSON.stringify(p)}`);
    }
  }
  return new Identifier(parts);
}

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** Compiles a fragment (and the fragments nested in it) to text with renumbered parameters. */
export function compile(fragment: Fragment, dialect: Dialect): CompiledSql {
  const params: BoundParam[] = [];
  const text = emit(fragment, dialect, params);
  return { text, params };
}

function emit(fragment: Fragment, dialect: Dialect, params: BoundParam[]): string {
  const { strings, values } = fragment;
  const explicitTypes = annotations(strings, values.length);
  let text = strings[0] ?? '';
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v instanceof RawSql) text += v.value;
    else if (v instanceof Identifier) text += v.parts.map(quoteIdent).join('.');
    else if (isFragmentSource(v)) text += emit(v[FRAGMENT], dialect, params);
    else {
      const explicitType = explicitTypes[i];
      const param: BoundParam = explicitType
        ? { value: v, type: explicitType, explicit: true }
        : { value: v, type: inferSqlType(v), explicit: false };
      params.push(param);
      text += dialect.placeholder(params.length, param);
    }
    text += strings[i + 1] ?? '';
  }
  return text;
}

/** The `::type` annotation after each value slot, kept per call site: a tagged template's strings array is one frozen object per site. */
const siteAnnotations = new WeakMap<readonly string[], (string | undefined)[]>();

function annotations(strings: readonly string[], slots: number): (string | undefined)[] {
  let types = siteAnnotations.get(strings);
  if (types && types.length >= slots) return types;
  types = [];
  for (let i = 0; i < slots; i++) types.push(typeAnnotation(strings[i] ?? '', strings[i + 1] ?? ''));
  // Only a frozen array (a template's) cannot change under the cache; query()'s arrays are built per call.
  if (Object.isFrozen(strings)) siteAnnotations.set(strings, types);
  return types;
}

/** Where a statement keeps its fragment: a symbol no public type names, so statements nest without exposing it. */
export const FRAGMENT: unique symbol = Symbol('millrace.fragment');
export type FragmentSource = { readonly [FRAGMENT]: Fragment };
function isFragmentSource(v: unknown): v is FragmentSource {
  return typeof v === 'object' && v !== null && (v as FragmentSource)[FRAGMENT] instanceof Fragment;
}

/** `${v}::type` or `CAST(${v} AS type)`: the explicit type wins over inference. */
export function typeAnnotation(before: string, after: string): string | undefined {
  const next = after.trimStart();
  if (next.startsWith('::')) return next.slice(2).trimStart().split(/[\s,;)]+/)[0] || undefined;
  const prev = before.trimEnd();
  if (/\bCAST\s*\($/i.test(prev) && /^AS\s/i.test(next)) return next.slice(2).trimStart().split(/[\s,;)]+/)[0] || undefined;
  return undefined;
}

/** windmill-client's inference: integer BIGINT, other number DOUBLE PRECISION, string TEXT, Date TIMESTAMPTZ, ... */
export function inferSqlType(value: unknown): string {
  if (typeof value === 'bigint') return 'BIGINT';
  if (typeof value === 'number') return Number.isInteger(value) ? 'BIGINT' : 'DOUBLE PRECISION';
  if (value === null || value === undefined || typeof value === 'string') return 'TEXT';
  if (typeof value === 'boolean') return 'BOOLEAN';
  if (value instanceof Date) return 'TIMESTAMPTZ';
  if (value instanceof Uint8Array) return 'BYTEA';
  if (Array.isArray(value)) return inferArrayType(value);
  if (typeof value === 'object') return 'JSON';
  return 'TEXT';
}

/** A typed array when the non-null elements agree (integers widen to DOUBLE PRECISION); else, or with none, JSON. */
function inferArrayType(values: unknown[]): string {
  let element: string | undefined;
  for (const v of values) {
    let t: string;
    if (v === null || v === undefined) continue;
    else if (typeof v === 'bigint') t = 'BIGINT';
    else if (typeof v === 'number') t = Number.isInteger(v) ? 'BIGINT' : 'DOUBLE PRECISION';
    else if (typeof v === 'string') t = 'TEXT';
    else if (typeof v === 'boolean') t = 'BOOLEAN';
    else if (v instanceof Date) t = 'TIMESTAMPTZ';
    else return 'JSON';
    if (element === undefined || (element === 'BIGINT' && t === 'DOUBLE PRECISION')) element = t;
    else if (element === 'DOUBLE PRECISION' && t === 'BIGINT') continue;
    else if (element !== t) return 'JSON';
  }
  return element === undefined ? 'JSON' : `${element}[]`;
}

/**
 * Replaces bound values in an engine's message with `***`, in the forms the engines print them
 * (text, `2026-11-21 00:00:00+00` for a Date, jsonb's `{"a": 1}`, array literals). A value of 4+
 * characters is replaced wherever it appears; a shorter one only where quoted (`"ab"`, `'ab'`) or after `value `,
 * so that `1` does not blank every digit of the message. Row and key tuples are hidden by the drivers.
 */
export function scrubParams(message: string, params: readonly BoundParam[]): string {
  let out = message;
  for (const p of params) {
    for (const text of printedForms(p.value)) {
      if (!text) continue;
      if (text.length >= 4) out = out.split(text).join('***');
      else {
        for (const q of ['"', "'"]) out = out.split(q + text + q).join(q + '***' + q);
        // DuckDB's `Type INT64 with value 300 can't be cast`.
        out = out.split(` value ${text} `).join(' value *** ');
      }
    }
  }
  return out;
}

function printedForms(v: unknown): string[] {
  if (v === null || v === undefined || v instanceof Uint8Array) return [];
  if (v instanceof Date) {
    if (Number.isNaN(v.getTime())) return [];
    const iso = v.toISOString();
    const spaced = iso.replace('T', ' ').replace('Z', '+00');
    return [iso, spaced, spaced.replace('.000+', '+'), spaced.replace(/\.\d+\+00$/, '+00'), iso.slice(0, 10)];
  }
  if (Array.isArray(v)) {
    const elements = v.map((x) => (x === null || x === undefined ? 'NULL' : typeof x === 'object' && !(x instanceof Date) ? jsonText(x, false) : String(x)));
    const forms = v.flatMap(printedForms);
    forms.push(jsonText(v, false), jsonText(v, true), `{${elements.join(',')}}`, `[${elements.join(', ')}]`);
    // Longest first: a whole array goes before the elements inside it.
    return forms.sort((a, b) => b.length - a.length);
  }
  if (typeof v === 'object') return [jsonText(v, false), jsonText(v, true), jsonText(v, true, true)];
  if (typeof v === 'number' && Number.isInteger(v) && !Number.isSafeInteger(v)) return [BigInt(v).toString(), String(v)];
  return [String(v)];
}

/** JSON text as JSON.stringify writes it, or as PostgreSQL prints jsonb (spaces after `,` and `:`, keys shortest first). */
function jsonText(v: unknown, spaced: boolean, sortKeys = false): string {
  try {
    if (!spaced) return JSON.stringify(v) ?? '';
    const write = (x: unknown): string => {
      if (x === null || typeof x !== 'object' || x instanceof Date) return JSON.stringify(x) ?? 'null';
      if (Array.isArray(x)) return `[${x.map(write).join(', ')}]`;
      let keys = Object.keys(x).filter((k) => (x as Record<string, unknown>)[k] !== undefined);
      if (sortKeys) keys = keys.sort((a, b) => a.length - b.length || (a < b ? -1 : a > b ? 1 : 0));
      return `{${keys.map((k) => `${JSON.stringify(k)}: ${write((x as Record<string, unknown>)[k])}`).join(', ')}}`;
    };
    return write(v);
  } catch {
    return '';
  }
}

/**
 * Splits compiled SQL into statements at top-level `;`, respecting quotes, dollar-quoting and
 * comments, and renumbers each statement's parameters from `$1`. Empty (or comment-only)
 * statements are dropped.
 */
export function splitStatements(sql: CompiledSql): CompiledSql[] {
  const { text } = sql;
  // Fast path, same answer as the scan: without any `;` there is one statement, and it has code
  // when its first non-blank character cannot open a comment.
  if (text.indexOf(';') === -1) {
    const trimmed = text.trim();
    const c = trimmed.charCodeAt(0);
    if (trimmed.length > 0 && c !== MINUS && c !== SLASH) return [{ text: trimmed, params: sql.params }];
  }
  const parts: { start: number; end: number; placeholders: Placeholder[] }[] = [];
  let start = 0;
  let hasCode = false;
  let placeholders: Placeholder[] = [];
  const push = (end: number) => {
    if (hasCode) parts.push({ start, end, placeholders });
    hasCode = false;
    placeholders = [];
  };
  for (let i = 0; i < text.length; ) {
    const c = text.charCodeAt(i);
    const j = skipNonCode(text, i);
    if (j !== i) {
      if (c !== MINUS && c !== SLASH) hasCode = true; // a literal is code, a comment is not
      i = j;
    } else if (c === SEMICOLON) {
      push(i);
      start = ++i;
    } else {
      const p = c === DOLLAR ? placeholderAt(text, i) : undefined;
      if (p) {
        placeholders.push(p);
        i = p.end;
      } else i++;
      if (!isSpace(c)) hasCode = true;
    }
  }
  push(text.length);
  if (parts.length === 1 && parts[0]!.start === 0 && parts[0]!.end === text.length) return [{ text: text.trim(), params: sql.params }];
  return parts.map((part) => renumber(text, part, sql.params));
}

/** A `$n` placeholder outside literals and comments: `text.slice(start, end)` is `$<n>`. */
export type Placeholder = { start: number; end: number; n: number };

/** The `$n` placeholders of `$1`-style SQL, skipping quotes, dollar-quoted bodies and comments. */
export function findPlaceholders(text: string): Placeholder[] {
  const out: Placeholder[] = [];
  for (let i = 0; i < text.length; ) {
    const j = skipNonCode(text, i);
    if (j !== i) {
      i = j;
      continue;
    }
    const p = text.charCodeAt(i) === DOLLAR ? placeholderAt(text, i) : undefined;
    if (p) {
      out.push(p);
      i = p.end;
    } else i++;
  }
  return out;
}

const SEMICOLON = 59;
const DOLLAR = 36;
const MINUS = 45;
const SLASH = 47;
const QUOTE = 39;
const DQUOTE = 34;
const DOLLAR_TAG = /\$(?:[A-Za-z_\u0080-\uffff][A-Za-z0-9_\u0080-\uffff]*)?\$/y;
const PLACEHOLDER = /\$(\d+)/y;

function isSpace(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13);
}

/** Identifier characters: `$` after one of these is part of the identifier (`a$1`), not a placeholder or quote. */
function isIdentChar(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c === DOLLAR || c >= 128;
}

function placeholderAt(text: string, i: number): Placeholder | undefined {
  if (i > 0 && isIdentChar(text.charCodeAt(i - 1))) return undefined;
  PLACEHOLDER.lastIndex = i;
  const m = PLACEHOLDER.exec(text);
  return m ? { start: i, end: i + m[0].length, n: Number(m[1]) } : undefined;
}

/**
 * The index just past the quoted string, quoted identifier, comment or dollar-quoted body that
 * starts at `i`, or `i` itself when none starts there. Unterminated ones run to the end of the text.
 */
function skipNonCode(text: string, i: number): number {
  const c = text.charCodeAt(i);
  if (c === QUOTE) return skipQuoted(text, i, QUOTE, isEscapeString(text, i));
  if (c === DQUOTE) return skipQuoted(text, i, DQUOTE, false);
  if (c === MINUS && text.charCodeAt(i + 1) === MINUS) {
    const nl = text.indexOf('\n', i);
    return nl === -1 ? text.length : nl + 1;
  }
  if (c === SLASH && text.charCodeAt(i + 1) === 42 /* * */) return skipBlockComment(text, i);
  if (c === DOLLAR && !(i > 0 && isIdentChar(text.charCodeAt(i - 1)))) {
    DOLLAR_TAG.lastIndex = i;
    const tag = DOLLAR_TAG.exec(text);
    if (tag) {
      const close = text.indexOf(tag[0], i + tag[0].length);
      return close === -1 ? text.length : close + tag[0].length;
    }
  }
  return i;
}

/** `E'...'` (not `xE'...'`): backslash escapes apply inside. */
function isEscapeString(text: string, i: number): boolean {
  const e = text.charCodeAt(i - 1);
  return (e === 69 || e === 101) && !(i > 1 && isIdentChar(text.charCodeAt(i - 2)));
}

function skipQuoted(text: string, i: number, quote: number, backslashEscapes: boolean): number {
  let j = i + 1;
  while (j < text.length) {
    const c = text.charCodeAt(j);
    if (backslashEscapes && c === 92 /* \ */) j += 2;
    else if (c === quote) {
      if (text.charCodeAt(j + 1) === quote) j += 2; // a doubled quote is an escaped quote
      else return j + 1;
    } else j++;
  }
  return text.length;
}

/** Block comments nest in PostgreSQL. */
function skipBlockComment(text: string, i: number): number {
  let depth = 0;
  let j = i;
  while (j < text.length) {
    if (text.charCodeAt(j) === SLASH && text.charCodeAt(j + 1) === 42) {
      depth++;
      j += 2;
    } else if (text.charCodeAt(j) === 42 && text.charCodeAt(j + 1) === SLASH) {
      depth--;
      j += 2;
      if (depth === 0) return j;
    } else j++;
  }
  return text.length;
}

function renumber(text: string, part: { start: number; end: number; placeholders: Placeholder[] }, params: BoundParam[]): CompiledSql {
  const used = new Map<number, number>();
  const mine: BoundParam[] = [];
  let out = '';
  let at = part.start;
  for (const p of part.placeholders) {
    let m = used.get(p.n);
    if (m === undefined) {
      const param = params[p.n - 1];
      if (!param) continue; // not one of ours: left as written, the server will say so
      mine.push(param);
      m = mine.length;
      used.set(p.n, m);
    }
    out += text.slice(at, p.start) + '$' + m;
    at = p.end;
  }
  out += text.slice(at, part.end);
  return { text: out.trim(), params: mine };
}
