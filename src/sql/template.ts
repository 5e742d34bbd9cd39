/**
 * The SQL template compiler: pure, engine-agnostic. A tagged template becomes statement text
 * with `$n` placeholders plus typed parameters; interpolated values are never spliced into the text.
 */
import { MillraceError } from '../errors.js';
import type { BoundParam, CompiledSql, Dialect } from './engine.js';
import { inferSqlType } from './infer.js';

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

export type { BoundParam, CompiledSql } from './engine.js';

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
    else if (v instanceof Identifier) text += v.parts.map(dialect.quoteIdent).join('.');
    else if (isFragmentSource(v)) text += emit(v[FRAGMENT], dialect, params);
    else {
      const explicitType = explicitTypes[i] ?? rawAnnotation(strings[i] ?? '', strings[i + 1] ?? '', values[i + 1]);
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

/** `${v}::${sql.raw('jsonb')}`, `CAST(${v} AS ${sql.raw('int')})`: the type is in the raw text that follows. */
function rawAnnotation(before: string, after: string, next: unknown): string | undefined {
  return next instanceof RawSql ? typeAnnotation(before, after + next.value) : undefined;
}

/** `${v}::type` or `CAST(${v} AS type)`: the explicit type wins over inference. */
export function typeAnnotation(before: string, after: string): string | undefined {
  const next = after.trimStart();
  if (next.startsWith('::')) return next.slice(2).trimStart().split(/[\s,;)]+/)[0] || undefined;
  const prev = before.trimEnd();
  if (/\bCAST\s*\($/i.test(prev) && /^AS\s/i.test(next)) return next.slice(2).trimStart().split(/[\s,;)]+/)[0] || undefined;
  return undefined;
}

