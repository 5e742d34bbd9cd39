/** Keeps a statement's bound values out of the engines' error messages, and leaves the rest of the text alone. */
import type { BoundParam } from './engine.js';

/**
 * Where the engines echo their input, whatever it is: each pattern's second group is the echoed text.
 * PostgreSQL's are matched on one piece of its error (message, detail or hint) at a time; DuckDB's
 * messages run on with `\n\nLINE 1: <sql>`, which its patterns stop at.
 */
const ECHOES: RegExp[] = [
  // PostgreSQL: `invalid input syntax for type integer: "x"`, `malformed array literal: "x"`,
  // `date/time field value out of range: "x"`, `invalid input value for enum mood: "x"`.
  /^((?:invalid input syntax for type|invalid input value for enum|malformed \w+ literal|[\w/ ]*field value out of range)[^:"]*: ")([\s\S]*)(")$/,
  /^(value ")([\s\S]*)(" is out of range for type [\w ]+)$/,
  /^(invalid value ")([\s\S]*?)(" for ")/, // to_date's `invalid value "hunt" for "YYYY"`
  // jsonb's details: `Token "x" is invalid.`, `Expected ":", but found "x".`, `Escape sequence "\x" is invalid.`
  /((?:Token|Escape sequence) ")([\s\S]*)(" is invalid\.?)$/,
  /(but found ")([\s\S]*)("\.?)$/,
  // DuckDB: `Could not convert string 'x' to INT32`, `Type VARCHAR with value 'x' can't be cast`,
  // `Malformed JSON at byte 0 of input: ...  Input: "x"`, `invalid date field format: "x", expected format is ...`,
  // `Could not parse string "x" according to format specifier "%Y"`.
  /(Could not (?:convert|parse) string ')([\s\S]*)(' (?:to |according to format))/,
  /(Could not (?:convert|parse) string ")([\s\S]*)(" (?:to |according to format))/,
  /( with value ')([\s\S]*)(' can't be cast)/,
  /(Input: ")([\s\S]*)("(?=\n\nLINE \d|\s*$))/,
  /((?:field format|field value out of range): ")([\s\S]*)("(?=, expected|\n\nLINE \d|\s*$))/,
  // RE2 (DuckDB's regexp functions): `missing ]: [abc`, `invalid escape sequence: \q`: the rest of the pattern.
  /((?:missing [\])]|unexpected \)|trailing \\|invalid (?:escape sequence|character class(?: range)?|named capture group|perl operator|repetition size|UTF-8|nested repetition operator)|bad repetition operator|missing argument to repetition operator|no argument for repetition operator|bad named capture group): )([\s\S]*?)((?=\n\nLINE \d|\s*$))/,
];

/**
 * Replaces bound values in an engine's message with `***`: first the positions where the engines
 * echo input (a part of a value, a JSON token, is echoed too), then each value in the forms the
 * engines print it (text, `2026-11-21 00:00:00+00` for a Date, jsonb's `{"a": 1}`, array literals)
 * wherever it stands on its own: not glued to a letter, digit or `_` on either side, so a value
 * `5535` leaves `65535` alone (and in any case when the value has capitals: names are folded). A value of 1 or 2 characters is replaced only where quoted
 * (`"ab"`, `'ab'`) or after `value `, so that `1` does not blank every digit of the message.
 * Booleans are not looked for (`true` is in too many messages to be a secret). Row and key tuples
 * are hidden by the drivers.
 */
export function scrubParams(message: string, params: readonly BoundParam[]): string {
  if (params.length === 0) return message;
  let out = message;
  for (const echo of ECHOES) {
    out = out.replace(echo, '$1***$3');
  }
  for (const p of params) {
    for (const text of printedForms(p.value)) {
      if (!text) continue;
      if (text.length >= 3) out = replaceStandalone(out, text);
      else {
        for (const q of ['"', "'"]) out = out.split(q + text + q).join(q + '***' + q);
        // DuckDB's `Type INT64 with value 300 can't be cast`.
        out = out.split(` value ${text} `).join(' value *** ');
      }
    }
  }
  return out;
}

const WORD = /[\p{L}\p{N}_]/u;

/**
 * Every occurrence of `text` in `s` that is not glued to a word character on a side where `text`
 * itself has one; compared without case when `text` has capitals (PostgreSQL folds the names it
 * echoes: `relation "mytable" does not exist` for `MyTable`).
 */
function replaceStandalone(s: string, text: string): string {
  const folded = text.toLowerCase();
  const fold = folded !== text && folded.length === text.length && s.toLowerCase().length === s.length;
  const hay = fold ? s.toLowerCase() : s;
  const needle = fold ? folded : text;
  const wordStart = WORD.test(text[0]!);
  const wordEnd = WORD.test(text[text.length - 1]!);
  let out = '';
  let from = 0;
  for (let i = hay.indexOf(needle); i !== -1; i = hay.indexOf(needle, i + 1)) {
    if (i < from) continue;
    const end = i + text.length;
    if ((wordStart && i > 0 && WORD.test(s[i - 1]!)) || (wordEnd && end < s.length && WORD.test(s[end]!))) continue;
    out += s.slice(from, i) + '***';
    from = end;
  }
  return from === 0 ? s : out + s.slice(from);
}

function printedForms(v: unknown): string[] {
  if (v === null || v === undefined || typeof v === 'boolean' || v instanceof Uint8Array) return [];
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
  if (typeof v === 'object') {
    // The whole object as JSON, then the values inside it (an engine may echo one field it could not convert).
    const leaves = Object.values(v as object).flatMap(printedForms);
    return [jsonText(v, false), jsonText(v, true), jsonText(v, true, true), ...leaves].sort((a, b) => b.length - a.length);
  }
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
