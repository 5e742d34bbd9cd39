/** The SQL type of an interpolated value, inferred the way windmill-client does. */
import type { InferredScalar, InferredType } from './engine.js';

/** windmill-client's inference: integer BIGINT, other number DOUBLE PRECISION, string TEXT, Date TIMESTAMPTZ, ... */
export function inferSqlType(value: unknown): InferredType {
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
function inferArrayType(values: unknown[]): InferredType {
  let element: InferredScalar | undefined;
  for (const v of values) {
    let t: InferredScalar;
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

