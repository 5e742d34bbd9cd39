/**
 * The statement lexer both engines share: splits compiled SQL into statements at top-level `;`
 * and finds `$n` placeholders, skipping quotes, dollar-quoted bodies and comments. The rules are
 * PostgreSQL's scanner's, and DuckDB's scanner is a fork of it that agrees on every one used here
 * (E-strings and their continuation on a later line, nested block comments, dollar quotes):
 * test/security/sql.test.ts checks both engines against this lexer. A dialect whose rules differ
 * gives its own `split`.
 */
import { MillraceError } from '../errors.js';
import type { BoundParam, CompiledSql } from './engine.js';

/**
 * Splits compiled SQL into statements at `;` outside literals, comments and parentheses
 * (`CREATE RULE ... DO (a; b)` is one statement), and renumbers each statement's parameters from
 * `$1`. Empty (or comment-only) statements are dropped. A value interpolated inside a comment is
 * not sent (the comment is inert); one inside a quoted string, quoted identifier or dollar-quoted
 * body cannot be bound there and throws `InvalidArgument`.
 */
export function splitStatements(sql: CompiledSql): CompiledSql[] {
  const { text } = sql;
  // Fast path, same answer as the scan: without `;` and comments there is one statement, holding every
  // placeholder (one inside a literal is left to the engine, which refuses the unused parameter).
  if (text.indexOf(';') === -1 && text.indexOf('--') === -1 && text.indexOf('/*') === -1) {
    const trimmed = text.trim();
    if (trimmed.length > 0) return [{ text: trimmed, params: sql.params }];
  }
  const parts: { start: number; end: number; placeholders: Placeholder[] }[] = [];
  let start = 0;
  let hasCode = false;
  let depth = 0;
  let placeholders: Placeholder[] = [];
  /** Parameter numbers written inside comments: those values are not sent. */
  let commented: Set<number> | undefined;
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
      else if (sql.params.length > 0) for (const m of text.slice(i, j).matchAll(/\$(\d+)/g)) (commented ??= new Set()).add(Number(m[1]));
      i = j;
    } else if (c === SEMICOLON && depth === 0) {
      push(i);
      start = ++i;
    } else {
      const p = c === DOLLAR ? placeholderAt(text, i) : undefined;
      if (p) {
        placeholders.push(p);
        i = p.end;
      } else {
        if (c === OPEN) depth++;
        else if (c === CLOSE && depth > 0) depth--;
        i++;
      }
      if (!isSpace(c)) hasCode = true;
    }
  }
  push(text.length);
  checkBound(parts, sql.params.length, commented);
  const whole = parts.length === 1 && parts[0]!.start === 0 && parts[0]!.end === text.length;
  if (whole && parts[0]!.placeholders.every((p, k) => p.n === k + 1) && parts[0]!.placeholders.length === sql.params.length) {
    return [{ text: text.trim(), params: sql.params }];
  }
  return parts.map((part) => renumber(text, part, sql.params));
}

/** Every parameter is written in code or in a comment; one that is in neither sits inside a literal. */
function checkBound(parts: { placeholders: Placeholder[] }[], count: number, commented: Set<number> | undefined): void {
  if (count === 0) return;
  const seen = new Uint8Array(count + 1);
  for (const part of parts) for (const p of part.placeholders) if (p.n <= count) seen[p.n] = 1;
  for (let n = 1; n <= count; n++) {
    if (!seen[n] && !commented?.has(n)) {
      throw new MillraceError(
        'InvalidArgument',
        `Value ${n} is interpolated inside a quoted string, quoted identifier or dollar-quoted body, where it cannot be bound; interpolate it outside the quotes (\`WHERE name = \${v}\`, not \`'\${v}'\`)`,
      );
    }
  }
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
const OPEN = 40;
const CLOSE = 41;
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
 * Exported for the other readers of SQL text (DuckDB's conventions), so that all agree with the engines.
 */
export function skipNonCode(text: string, i: number): number {
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
      else if (quote !== QUOTE) return j + 1;
      else {
        // `'a'\n'b'` is one string, and an E-string's continuation keeps its backslash escapes.
        const next = continuation(text, j + 1);
        if (next === -1) return j + 1;
        j = next + 1;
      }
    } else j++;
  }
  return text.length;
}

/**
 * PostgreSQL's `quotecontinue`: after a string's closing quote, whitespace holding a newline (and
 * `--` comments) then another quote continues the same string. The index of that quote, or -1.
 */
function continuation(text: string, i: number): number {
  let newline = false;
  let j = i;
  while (j < text.length) {
    const c = text.charCodeAt(j);
    if (c === 10 || c === 13) newline = true;
    else if (c === MINUS && text.charCodeAt(j + 1) === MINUS) {
      const nl = text.indexOf('\n', j);
      if (nl === -1) return -1;
      j = nl;
      continue;
    } else if (c !== 32 && c !== 9 && c !== 12 && c !== 11) break;
    j++;
  }
  return newline && text.charCodeAt(j) === QUOTE ? j : -1;
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
