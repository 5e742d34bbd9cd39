/** Rows own exactly their columns: a column, STRUCT field or MAP key named `__proto__` is an own property, never the prototype. */
import type { Row } from './engine.js';

/** `obj[key] = value`, except that `__proto__` becomes an own, enumerable property (plain assignment would set the prototype). */
export function setOwn(obj: Row, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
  else obj[key] = value;
}
