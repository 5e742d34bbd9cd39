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
  let text = strings[0] ?? '';
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v instanceof RawSql) text += v.value;
    else if (v instanceof Identifier) text += v.parts.map(quoteIdent).join('.');
    else if (isFragmentSource(v)) text += emit(v.fragment, dialect, params);
    else {
      const explicitType = typeAnnotation(strings[i] ?? '', strings[i + 1] ?? '');
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

/** Anything that carries a fragment (a SqlStatement) nests into another statement. */
export type FragmentSource = { readonly fragment: Fragment };
function isFragmentSource(v: unknown): v is FragmentSource {
  return typeof v === 'object' && v !== null && (v as FragmentSource).fragment instanceof Fragment;
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

function inferArrayType(values: unknown[]): string {
  if (values.length === 0) return 'JSON';
  let element: string | undefined;
  for (const v of values) {
    let t: string;
    if (typeof v === 'bigint') t = 'BIGINT';
    else if (typeof v === 'number') t = Number.isInteger(v) ? 'BIGINT' : 'DOUBLE PRECISION';
    else if (typeof v === 'string') t = 'TEXT';
    else if (typeof v === 'boolean') t = 'BOOLEAN';
    else if (v instanceof Date) t = 'TIMESTAMPTZ';
    else return 'JSON';
    if (element === undefined || (element === 'BIGINT' && t === 'DOUBLE PRECISION')) element = t;
    else if (element === 'DOUBLE PRECISION' && t === 'BIGINT') continue;
    else if (element !== t) return 'JSON';
  }
  return `${element}[]`;
}

/**
 * Splits compiled SQL into statements at top-level `;`, respecting quotes, dollar-quoting and
 * comments, and renumbers each statement's parameters from `$1`.
 */
export function splitStatements(sql: CompiledSql): CompiledSql[] {
  const out: CompiledSql[] = [];
  const { text } = sql;
  let start = 0;
  let i = 0;
  const push = (end: number) => {
    const part = text.slice(start, end);
    if (part.replace(/--[^\n]*|\/\*[\s\S]*?\*\//g, '').trim()) out.push(renumber(part, sql.params));
  };
  while (i < text.length) {
    const c = text[i]!;
    const n = text[i + 1];
    if (c === "'" || c === '"') {
      i = skipQuoted(text, i, c);
    } else if (c === '-' && n === '-') {
      const nl = text.indexOf('\n', i);
      i = nl === -1 ? text.length : nl + 1;
    } else if (c === '/' && n === '*') {
      i = skipBlockComment(text, i);
    } else if (c === '$' && !/[A-Za-z0-9_]/.test(text[i - 1] ?? '')) {
      const tag = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(text.slice(i));
      if (tag) {
        const close = text.indexOf(tag[0], i + tag[0].length);
        i = close === -1 ? text.length : close + tag[0].length;
      } else i++;
    } else if (c === ';') {
      push(i);
      start = ++i;
    } else i++;
  }
  push(text.length);
  return out;
}

function skipQuoted(text: string, i: number, q: string): number {
  // E'...' strings allow backslash escapes; a doubled quote is an escaped quote everywhere.
  const escapes = q === "'" && /[eE]$/.test(text.slice(0, i)) && !/[A-Za-z0-9_]/.test(text[i - 2] ?? '');
  let j = i + 1;
  while (j < text.length) {
    if (escapes && text[j] === '\\') j += 2;
    else if (text[j] === q) {
      if (text[j + 1] === q) j += 2;
      else return j + 1;
    } else j++;
  }
  return j;
}

function skipBlockComment(text: string, i: number): number {
  let depth = 0;
  let j = i;
  while (j < text.length) {
    if (text[j] === '/' && text[j + 1] === '*') {
      depth++;
      j += 2;
    } else if (text[j] === '*' && text[j + 1] === '/') {
      depth--;
      j += 2;
      if (depth === 0) return j;
    } else j++;
  }
  return j;
}

function renumber(part: string, params: BoundParam[]): CompiledSql {
  const used = new Map<number, number>();
  const mine: BoundParam[] = [];
  const text = replaceOutsideLiterals(part, (n) => {
    let m = used.get(n);
    if (m === undefined) {
      const p = params[n - 1];
      if (!p) return undefined;
      mine.push(p);
      m = mine.length;
      used.set(n, m);
    }
    return m;
  });
  return { text: text.trim(), params: mine };
}

/** Rewrites `$n` placeholders outside quotes and comments. */
function replaceOutsideLiterals(text: string, map: (n: number) => number | undefined): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    const n = text[i + 1];
    let j = i + 1;
    if (c === "'" || c === '"') j = skipQuoted(text, i, c);
    else if (c === '-' && n === '-') {
      const nl = text.indexOf('\n', i);
      j = nl === -1 ? text.length : nl + 1;
    } else if (c === '/' && n === '*') j = skipBlockComment(text, i);
    else if (c === '$' && !/[A-Za-z0-9_]/.test(text[i - 1] ?? '')) {
      const num = /^\$(\d+)/.exec(text.slice(i));
      if (num) {
        const m = map(Number(num[1]));
        out += m === undefined ? num[0] : `$${m}`;
        i += num[0].length;
        continue;
      }
      const tag = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(text.slice(i));
      if (tag) {
        const close = text.indexOf(tag[0], i + tag[0].length);
        j = close === -1 ? text.length : close + tag[0].length;
      }
    }
    out += text.slice(i, j);
    i = j;
  }
  return out;
}
