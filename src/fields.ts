/** The generic config field checker every backend and engine declares its fields for. */
import { resolve } from 'node:path';
import { MillraceError } from './errors.js';

/** `path` is a string resolved to an absolute path when the config is read. */
export type FieldType = 'string' | 'number' | 'boolean' | 'path';

/** A config object's fields: those it must have and those it may have, each with its type. */
export type FieldSpec = { required: Record<string, FieldType>; optional: Record<string, FieldType> };

export function configError(field: string, message: string): MillraceError {
  return new MillraceError('Config', `${field ? field + ': ' : ''}${message}`);
}

/**
 * Checks an object's fields: required ones present, every one of its type, and no unknown
 * field (a typo such as `endpoint` for `endPoint` must not silently fall back to a default).
 * Returns a copy with `path` fields made absolute.
 */
export function fields<T>(v: unknown, field: string, required: Record<string, FieldType>, optional: Record<string, FieldType>, extra: string[] = []): T {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw configError(field, 'must be an object');
  const o = { ...(v as Record<string, unknown>) };
  const known = new Set([...Object.keys(required), ...Object.keys(optional), ...extra]);
  const at = (k: string) => (field ? `${field}.${k}` : k);
  for (const k of Object.keys(o)) {
    if (!known.has(k)) throw configError(at(k), `unknown field; expected one of ${[...known].join(', ')}`);
  }
  const check = (k: string, t: FieldType) => {
    if (typeof o[k] !== (t === 'path' ? 'string' : t)) throw configError(at(k), `must be a ${t === 'path' ? 'string' : t}`);
    if (t === 'path') o[k] = resolve(o[k] as string);
  };
  for (const [k, t] of Object.entries(required)) {
    if (o[k] === undefined || o[k] === null || o[k] === '') throw configError(at(k), 'required');
    check(k, t);
  }
  for (const [k, t] of Object.entries(optional)) if (o[k] !== undefined && o[k] !== null) check(k, t);
  return o as T;
}

/** A `type` field naming one of `types`: the check every registry (storage backends, catalogs) makes. */
export function checkedType<K extends string>(v: unknown, field: string, types: Record<K, unknown>, what: string): K {
  const type = (v as { type?: unknown } | null)?.type;
  const list = Object.keys(types).map((t) => JSON.stringify(t)).join(', ');
  if (type === undefined || type === null) throw configError(`${field}.type`, `required (one of ${list})`);
  if (typeof type !== 'string' || !Object.hasOwn(types, type)) {
    throw configError(`${field}.type`, `unknown ${what} type ${JSON.stringify(type)} (expected one of ${list})`);
  }
  return type as K;
}
