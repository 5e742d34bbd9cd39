/**
 * Windmill's DuckDB conventions, read from a statement's text before it runs (pure: no DuckDB here).
 * `dl` names the statement's lake; `ATTACH 'ducklake://name' AS x` and `ATTACH 'datatable://name'
 * AS x` name a configured lake or datatable for the rest of the text; `'s3://storage/key'` literals
 * in a file's place (a `read_*` argument, `FROM '...'`, `COPY ... TO '...'`) name objects in millrace storages. Lakes and datatables are attached once per process under
 * their own catalog names, so the text is rewritten to those names rather than attached per text.
 */
import { MillraceError } from '../../errors.js';
import { skipNonCode } from '../lexer.js';
import { quoteIdent } from '../template.js';

/** What a text needs attached before it runs, and how to rewrite it once the URLs are known. */
export type ConventionsPlan = {
  lakes: Set<string>;
  datatables: Set<string>;
  /** Storage objects named by literals: resolved to URLs by the engine, in this order. */
  objects: { storage: string | undefined; key: string }[];
  /** A statement USEs a catalog: the connection's own USE must be restored afterwards. */
  uses: boolean;
  /** The text creates temporary objects: it runs on a connection of its own. */
  temporary: boolean;
  /** The statements rewritten, with each object literal replaced by `urls[i]` (a SQL literal). */
  render(urls: string[]): string[];
};

export type ConventionsContext = {
  /** The statement's lake. */
  lake: string;
  lakeCatalog(name: string): string;
  datatableCatalog(name: string): string;
  /** True for '' (the default storage) and configured secondary storage names. */
  isStorage(name: string): boolean;
};

/** An ATTACH or DETACH of a convention alias runs as this: no rows, nothing attached per text. */
const NOTHING = 'SELECT 1 WHERE false';
const CONVENTION_TARGET = /^(ducklake|datatable)(?::\/\/([^'/:]*))?$/;
const OBJECT_LITERAL = /^s3:\/\/([^/]*)\/(.+)$/s;
/** DuckDB's functions that take file paths (read_csv, read_parquet, parquet_metadata, glob, ...). */
const FILE_FUNCTION = /^(read_\w+|parquet_\w+|sniff_csv|glob|delta_scan|iceberg_\w+)$/i;

type Token = { kind: 'word' | 'quoted' | 'string' | 'other'; start: number; end: number; value: string };

/** Plans the rewrite of one text (its statements in order: an ATTACH names a catalog for those after it). */
export function planConventions(statements: readonly string[], ctx: ConventionsContext): ConventionsPlan {
  const aliases = new Map<string, string>([['dl', ctx.lakeCatalog(ctx.lake)]]);
  const plan: ConventionsPlan = { lakes: new Set(), datatables: new Set(), objects: [], uses: false, temporary: false, render: () => [] };
  const edits: { start: number; end: number; text: string | number }[][] = [];
  for (const text of statements) {
    const tokens = scan(text);
    const mine: { start: number; end: number; text: string | number }[] = [];
    edits.push(mine);
    const first = keyword(tokens[0]);
    if (first === 'ATTACH' || first === 'DETACH') {
      const replaced = attachOrDetach(tokens, first, aliases, plan, ctx);
      if (replaced) {
        mine.push({ start: 0, end: text.length, text: NOTHING });
        continue;
      }
    }
    if (first === 'USE') plan.uses = true;
    const kind = keyword(tokens[1]) === 'OR' && keyword(tokens[2]) === 'REPLACE' ? keyword(tokens[3]) : keyword(tokens[1]);
    if (first === 'CREATE' && (kind === 'TEMP' || kind === 'TEMPORARY')) plan.temporary = true;
    // What each open parenthesis or bracket belongs to: a file function's arguments, or anything else.
    const open: boolean[] = [];
    for (let i = 0; i < tokens.length; i++) {
      const t = tokens[i]!;
      const before = tokens[i - 1];
      if (t.value === '(' || t.value === '[') {
        const inFiles = t.value === '(' ? before?.kind === 'word' && FILE_FUNCTION.test(before.value) : open[open.length - 1] === true;
        open.push(inFiles);
      } else if (t.value === ')' || t.value === ']') {
        open.pop();
      } else if (t.kind === 'word' || t.kind === 'quoted') {
        const name = t.kind === 'word' ? t.value.toLowerCase() : t.value;
        const catalog = aliases.get(name);
        if (catalog === undefined) continue;
        const qualifies = tokens[i + 1]?.value === '.' && before?.value !== '.';
        if (qualifies || keyword(before) === 'USE') mine.push({ start: t.start, end: t.end, text: quoteIdent(catalog) });
      } else if (t.kind === 'string') {
        // A file's place: a file function's argument, `FROM 'file'` and `COPY ... TO/FROM 'file'`.
        const place = open[open.length - 1] === true || keyword(before) === 'FROM' || keyword(before) === 'TO';
        const m = place ? OBJECT_LITERAL.exec(t.value) : null;
        if (!m || !ctx.isStorage(m[1]!)) continue;
        mine.push({ start: t.start, end: t.end, text: plan.objects.length });
        plan.objects.push({ storage: m[1] || undefined, key: m[2]! });
      }
    }
  }
  plan.render = (urls) =>
    statements.map((text, s) => {
      let out = '';
      let at = 0;
      for (const e of edits[s]!) {
        out += text.slice(at, e.start) + (typeof e.text === 'number' ? urls[e.text]! : e.text);
        at = e.end;
      }
      return out + text.slice(at);
    });
  return plan;
}

/**
 * `ATTACH [DATABASE] [IF NOT EXISTS] 'ducklake[://name]' [AS] alias` (or datatable): records the
 * alias and what to attach. `DETACH [DATABASE] [IF EXISTS] alias` of such an alias forgets it.
 * Returns false for any other ATTACH/DETACH, which DuckDB runs as written.
 */
function attachOrDetach(tokens: Token[], verb: 'ATTACH' | 'DETACH', aliases: Map<string, string>, plan: ConventionsPlan, ctx: ConventionsContext): boolean {
  let i = 1;
  if (keyword(tokens[i]) === 'DATABASE') i++;
  if (verb === 'DETACH') {
    if (keyword(tokens[i]) === 'IF' && keyword(tokens[i + 1]) === 'EXISTS') i += 2;
    const name = aliasName(tokens[i]);
    if (name === undefined || !aliases.has(name) || tokens.length !== i + 1) return false;
    aliases.delete(name);
    return true;
  }
  if (keyword(tokens[i]) === 'IF' && keyword(tokens[i + 1]) === 'NOT' && keyword(tokens[i + 2]) === 'EXISTS') i += 3;
  const target = tokens[i];
  const m = target?.kind === 'string' ? CONVENTION_TARGET.exec(target.value) : null;
  if (!m) return false;
  i++;
  if (keyword(tokens[i]) === 'AS') i++;
  const alias = aliasName(tokens[i]);
  const kind = m[1] as 'ducklake' | 'datatable';
  const name = m[2] || 'main';
  if (alias === undefined) throw new MillraceError('InvalidArgument', `ATTACH '${target!.value}' needs an alias: ATTACH '${target!.value}' AS name`);
  if (tokens.length !== i + 1) {
    throw new MillraceError('Unsupported', `ATTACH '${target!.value}' takes no options in millrace: the ${kind} is attached once per process with its configured settings`);
  }
  if (kind === 'ducklake') {
    if (name !== ctx.lake) plan.lakes.add(name);
    aliases.set(alias, ctx.lakeCatalog(name));
  } else {
    plan.datatables.add(name);
    aliases.set(alias, ctx.datatableCatalog(name));
  }
  return true;
}

function aliasName(t: Token | undefined): string | undefined {
  if (t?.kind === 'word') return t.value.toLowerCase();
  if (t?.kind === 'quoted') return t.value;
  return undefined;
}

function keyword(t: Token | undefined): string | undefined {
  return t?.kind === 'word' ? t.value.toUpperCase() : undefined;
}

const WORD_START = /[A-Za-z_\u0080-\uffff]/;
const WORD = /[A-Za-z0-9_$\u0080-\uffff]*/y;
const DOLLAR_TAG = /\$(?:[A-Za-z_\u0080-\uffff][A-Za-z0-9_\u0080-\uffff]*)?\$/y;

function dollarTag(text: string, i: number): string | undefined {
  DOLLAR_TAG.lastIndex = i;
  return DOLLAR_TAG.exec(text)?.[0];
}

/**
 * DuckDB's lexical structure, as far as these conventions need it: words, "quoted" identifiers,
 * 'strings' (value unescaped), and single characters; whitespace and comments are dropped.
 * E'...' and $tag$...$tag$ strings are skipped as opaque `other` tokens (never object literals).
 */
export function scan(text: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text[i]!;
    const start = i;
    if (/\s/.test(c)) {
      i++;
    } else if (c === '-' && text[i + 1] === '-') {
      const nl = text.indexOf('\n', i);
      i = nl === -1 ? n : nl + 1;
    } else if (c === '/' && text[i + 1] === '*') {
      i = skipNonCode(text, i); // block comments nest
    } else if (c === "'") {
      let value = '';
      i++;
      for (;;) {
        const q = text.indexOf("'", i);
        if (q === -1) {
          value += text.slice(i);
          i = n;
          break;
        }
        value += text.slice(i, q);
        if (text[q + 1] === "'") {
          value += "'";
          i = q + 2;
        } else {
          i = q + 1;
          break;
        }
      }
      out.push({ kind: 'string', start, end: i, value });
    } else if (c === '"') {
      let value = '';
      i++;
      for (;;) {
        const q = text.indexOf('"', i);
        if (q === -1) {
          value += text.slice(i);
          i = n;
          break;
        }
        value += text.slice(i, q);
        if (text[q + 1] === '"') {
          value += '"';
          i = q + 2;
        } else {
          i = q + 1;
          break;
        }
      }
      out.push({ kind: 'quoted', start, end: i, value });
    } else if ((c === 'E' || c === 'e') && text[i + 1] === "'") {
      i = skipNonCode(text, i + 1); // backslash escapes, also in its continuation on a later line
      out.push({ kind: 'other', start, end: i, value: text.slice(start, i) });
    } else if (c === '$' && dollarTag(text, i)) {
      const tag = dollarTag(text, i)!;
      const close = text.indexOf(tag, i + tag.length);
      i = close === -1 ? n : close + tag.length;
      out.push({ kind: 'other', start, end: i, value: text.slice(start, i) });
    } else if (WORD_START.test(c)) {
      WORD.lastIndex = i + 1;
      WORD.exec(text);
      i = WORD.lastIndex;
      out.push({ kind: 'word', start, end: i, value: text.slice(start, i) });
    } else {
      i++;
      out.push({ kind: 'other', start, end: i, value: c });
    }
  }
  return out;
}
