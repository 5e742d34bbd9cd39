/**
 * postgres.js builds rows with `row[name] = value`, so a column named `__proto__` would set the row's
 * prototype. The pool renames that column while postgres.js builds the row (once per statement
 * description, not per row) and results that have it are rebuilt with it as an own property.
 */
import type { Row } from '../engine.js';
import { setOwn } from '../rows.js';

/** No PostgreSQL name holds a NUL, so no real column is called this. */
const PROTO_COLUMN = '\0__proto__';

/** postgres.js's `transform.column.from`. */
export function ownColumnName(name: string): string {
  return name === '__proto__' ? PROTO_COLUMN : name;
}

type Columns = readonly { name: string }[] | null | undefined;

/** Whether a result (its `columns` metadata) needs `ownColumns`. */
export function hasProtoColumn(columns: Columns): columns is readonly { name: string }[] {
  return !!columns && columns.some((c) => c.name === PROTO_COLUMN);
}

/** The rows with `__proto__` back as an own property, in column order. */
export function ownColumns(rows: readonly Row[], columns: readonly { name: string }[]): Row[] {
  return rows.map((row) => {
    const out: Row = {};
    for (const { name } of columns) setOwn(out, name === PROTO_COLUMN ? '__proto__' : name, row[name]);
    return out;
  });
}
