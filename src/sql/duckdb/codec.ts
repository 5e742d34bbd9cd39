/** DuckDB values: JS to DuckDB (parameters, with explicit types) and DuckDB to JS (result rows). */
import type * as DuckDBApi from '@duckdb/node-api';
import { MillraceError } from '../../errors.js';
import type { Row } from '../engine.js';
import { inferSqlType } from '../infer.js';
import { setOwn } from '../rows.js';
import { duckdbDialect } from './dialect.js';

type Api = typeof DuckDBApi;

export function bindAll(api: Api, prepared: DuckDBApi.DuckDBPreparedStatement, values: DuckDBApi.DuckDBValue[], types: (DuckDBApi.DuckDBType | undefined)[]): void {
  const T = api.DuckDBTypeId;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    const t = types[i];
    const n = i + 1;
    if (v === null || t === undefined) prepared.bindNull(n);
    else if (t.typeId === T.BIGINT && t.alias === undefined) prepared.bindBigInt(n, v as bigint);
    else if (t.typeId === T.VARCHAR && t.alias === undefined) prepared.bindVarchar(n, v as string);
    else if (t.typeId === T.DOUBLE) prepared.bindDouble(n, v as number);
    else if (t.typeId === T.BOOLEAN) prepared.bindBoolean(n, v as boolean);
    else prepared.bindValue(n, v, t);
  }
}
/**
 * JS value -> DuckDB value and type. The type is the shared compiler's (`BoundParam.type`, the
 * same inference as on PostgreSQL) in DuckDB's names, as the dialect gives them (dialect.ts:
 * BIGINT, DOUBLE, VARCHAR, TIMESTAMPTZ, BOOLEAN, BLOB, JSON, and LISTs of them). null/undefined
 * bind as an untyped NULL. An explicit `::type` in the SQL casts the value bound with its inferred type.
 */
export function toDuckDBValue(api: Api, v: unknown, type: string = inferSqlType(v)): [DuckDBApi.DuckDBValue, DuckDBApi.DuckDBType | undefined] {
  if (v === null || v === undefined) return [null, undefined];
  const name = duckdbDialect.typeName(type);
  if (name.endsWith('[]') && Array.isArray(v)) {
    const elementType = name.slice(0, -2);
    const items = v.map((x) => (x === null || x === undefined ? null : duckdbScalar(api, x, elementType)[0]));
    return [api.listValue(items), api.LIST(duckdbScalar(api, null, elementType)[1])];
  }
  return duckdbScalar(api, v, name);
}

/** One value as the DuckDB type `name` (a dialect name; any other binds as JSON text). */
function duckdbScalar(api: Api, v: unknown, name: string): [DuckDBApi.DuckDBValue, DuckDBApi.DuckDBType] {
  switch (name) {
    case 'BIGINT': {
      if (v === null) return [null, api.BIGINT];
      const n = typeof v === 'bigint' ? v : BigInt(v as number);
      if (n > 0x7fffffffffffffffn || n < -0x8000000000000000n) {
        throw new MillraceError('InvalidArgument', 'An integer parameter is outside the BIGINT range; pass it as a string with ::HUGEINT');
      }
      return [n, api.BIGINT];
    }
    case 'DOUBLE':
      return [v === null ? null : Number(v), api.DOUBLE];
    case 'VARCHAR':
      return [v === null ? null : String(v), api.VARCHAR];
    case 'BOOLEAN':
      return [v as boolean | null, api.BOOLEAN];
    case 'TIMESTAMPTZ': {
      if (v === null) return [null, api.TIMESTAMPTZ];
      const ms = (v as Date).getTime();
      if (Number.isNaN(ms)) throw new MillraceError('InvalidArgument', 'An Invalid Date cannot be bound as a SQL parameter');
      return [new api.DuckDBTimestampTZValue(BigInt(ms) * 1000n), api.TIMESTAMPTZ];
    }
    case 'BLOB':
      return [v === null ? null : api.blobValue(v as Uint8Array), api.BLOB];
    default: // JSON
      return [v === null ? null : JSON.stringify(v), jsonType(api)];
  }
}
let converter: DuckDBApi.DuckDBValueConverter<unknown> | undefined;

/** Result rows as plain objects; the JS type of each DuckDB type is documented in the README (DuckLake: result types). */
export function convertRows(api: Api, reader: DuckDBApi.DuckDBResultReader): Row[] {
  converter ??= (ownStructEntries(api), makeConverter(api));
  const c = converter;
  // The result's column types keep aliases (JSON); the chunks' vector types do not, so convert by column.
  const names = reader.deduplicatedColumnNames();
  const types = reader.columnTypes();
  if (names.includes('__proto__')) {
    return reader.getRows().map((values) => {
      const row: Row = {};
      for (let i = 0; i < names.length; i++) setOwn(row, names[i]!, c(values[i] ?? null, types[i]!, c));
      return row;
    });
  }
  return reader.getRows().map((values) => {
    const row: Row = {};
    for (let i = 0; i < names.length; i++) row[names[i]!] = c(values[i] ?? null, types[i]!, c);
    return row;
  });
}

/** A result's rows, read chunk by chunk; see `appendRows`. */
export async function readRows(api: Api, result: DuckDBApi.DuckDBResult): Promise<Row[]> {
  const names = result.deduplicatedColumnNames();
  const types = result.columnTypes();
  const rows: Row[] = [];
  for (;;) {
    const chunk = await result.fetchChunk();
    if (!chunk || chunk.rowCount === 0) return rows;
    appendRows(api, chunk, names, types, rows);
  }
}

/**
 * One chunk's rows as plain objects, converted column by column: numbers, strings, BIGINTs and
 * narrow DECIMALs straight from the vector, with no DuckDBValue object per value; every other
 * type through the same converter as `convertRows`. `types` are the result's (they keep aliases
 * such as JSON, the chunk's vectors do not).
 */
export function appendRows(api: Api, chunk: DuckDBApi.DuckDBDataChunk, names: readonly string[], types: readonly DuckDBApi.DuckDBType[], rows: Row[]): void {
  const n = chunk.rowCount;
  const columns = names.map((_, c) => readColumn(api, chunk.getColumnVector(c), types[c]!, n));
  // Every row starts as a copy of one template with all the columns (one object shape, sized once),
  // then its values are stored into properties that already exist.
  const template: Row = {};
  // defineProperty: a column named __proto__ is an own property like any other, never the row's prototype.
  for (const name of names) Object.defineProperty(template, name, { value: null, enumerable: true, writable: true, configurable: true });
  const width = names.length;
  for (let i = 0; i < n; i++) {
    const row: Row = { ...template };
    for (let c = 0; c < width; c++) row[names[c]!] = columns[c]![i];
    rows.push(row);
  }
}

function readColumn(api: Api, vector: DuckDBApi.DuckDBVector, type: DuckDBApi.DuckDBType, n: number): unknown[] {
  const T = api.DuckDBTypeId;
  const out = new Array<unknown>(n);
  switch (type.alias === undefined ? type.typeId : -1) {
    case T.BOOLEAN:
    case T.TINYINT:
    case T.SMALLINT:
    case T.INTEGER:
    case T.UTINYINT:
    case T.USMALLINT:
    case T.UINTEGER:
    case T.FLOAT:
    case T.DOUBLE:
    case T.VARCHAR:
      for (let i = 0; i < n; i++) out[i] = vector.getItem(i);
      return out;
    case T.BIGINT:
    case T.UBIGINT:
      for (let i = 0; i < n; i++) {
        const b = vector.getItem(i) as bigint | null;
        out[i] = b === null ? null : b <= 9007199254740991n && b >= -9007199254740991n ? Number(b) : b;
      }
      return out;
    case T.DECIMAL: {
      const { width, scale } = type as DuckDBApi.DuckDBDecimalType;
      if (width > 15) break;
      // The scaled integer is exact below 10^15 and so is 10^scale: their quotient is the decimal's nearest double, as Number(text) is.
      const scaled = vector as unknown as { getScaledValue(i: number): number | bigint | null };
      const divisor = 10 ** scale;
      for (let i = 0; i < n; i++) {
        const v = scaled.getScaledValue(i);
        out[i] = v === null ? null : Number(v) / divisor;
      }
      return out;
    }
  }
  converter ??= (ownStructEntries(api), makeConverter(api));
  const c = converter;
  for (let i = 0; i < n; i++) out[i] = c(vector.getItem(i), type, c);
  return out;
}

/**
 * node-api builds a STRUCT value's entries with `entries[name] = value`: a field named `__proto__`
 * would become the entries' prototype, or vanish when its value is not an object. Structs with such
 * a field get their entries as own properties; the others are built by node-api's own code.
 */
function ownStructEntries(api: Api): void {
  type StructVector = { structType: DuckDBApi.DuckDBStructType; getItemValue(i: number, e: number): DuckDBApi.DuckDBValue; getItem(i: number): unknown };
  const proto = (api as unknown as { DuckDBStructVector?: { prototype: StructVector } }).DuckDBStructVector?.prototype;
  if (!proto || typeof proto.getItem !== 'function' || (proto.getItem as { ownEntries?: true }).ownEntries) return;
  const getItem = proto.getItem;
  const own = function (this: StructVector, i: number) {
    const names = this.structType.entryNames;
    if (names.indexOf('__proto__') === -1) return getItem.call(this, i);
    const item = getItem.call(this, i) as DuckDBApi.DuckDBStructValue | null;
    if (item === null) return null;
    const entries: Row = {};
    for (let e = 0; e < names.length; e++) setOwn(entries, names[e]!, this.getItemValue(i, e));
    return new api.DuckDBStructValue(entries as Record<string, DuckDBApi.DuckDBValue>);
  };
  proto.getItem = Object.assign(own, { ownEntries: true as const });
}

function makeConverter(api: Api): DuckDBApi.DuckDBValueConverter<unknown> {
  const T = api.DuckDBTypeId;
  const str = (v: DuckDBApi.DuckDBValue) => String(v);
  const int64 = (v: DuckDBApi.DuckDBValue) => {
    const b = v as bigint;
    // Exact as a number when it fits (counts, ids); bigint beyond 2^53 so nothing is silently rounded.
    return b <= 9007199254740991n && b >= -9007199254740991n ? Number(b) : b;
  };
  const timestamp = (micros: bigint | undefined, v: DuckDBApi.DuckDBValue) => {
    if (micros === undefined) return String(v);
    const ms = Number(micros / 1000n);
    return Math.abs(ms) <= 8.64e15 ? new Date(ms) : String(v);
  };
  const map: Partial<Record<number, DuckDBApi.DuckDBValueConverter<unknown>>> = {
    [T.BOOLEAN]: (v) => Boolean(v),
    [T.TINYINT]: (v) => Number(v),
    [T.SMALLINT]: (v) => Number(v),
    [T.INTEGER]: (v) => Number(v),
    [T.UTINYINT]: (v) => Number(v),
    [T.USMALLINT]: (v) => Number(v),
    [T.UINTEGER]: (v) => Number(v),
    [T.FLOAT]: (v) => Number(v),
    [T.DOUBLE]: (v) => Number(v),
    [T.BIGINT]: int64,
    [T.UBIGINT]: int64,
    [T.HUGEINT]: int64,
    [T.UHUGEINT]: int64,
    [T.BIGNUM]: int64,
    [T.DECIMAL]: (v, t) => ((t as DuckDBApi.DuckDBDecimalType).width <= 15 ? Number(String(v)) : String(v)),
    [T.VARCHAR]: (v, t) => (t.alias === 'JSON' ? JSON.parse(v as string) : v),
    [T.ENUM]: str,
    [T.UUID]: str,
    [T.BLOB]: (v) => (v as DuckDBApi.DuckDBBlobValue).bytes,
    [T.BIT]: str,
    [T.DATE]: str,
    [T.TIME]: str,
    [T.TIME_NS]: str,
    [T.TIME_TZ]: str,
    [T.INTERVAL]: str,
    [T.TIMESTAMP]: (v) => timestamp((v as DuckDBApi.DuckDBTimestampValue).isFinite ? (v as DuckDBApi.DuckDBTimestampValue).micros : undefined, v),
    [T.TIMESTAMP_TZ]: (v) => timestamp((v as DuckDBApi.DuckDBTimestampTZValue).isFinite ? (v as DuckDBApi.DuckDBTimestampTZValue).micros : undefined, v),
    [T.TIMESTAMP_S]: (v) => timestamp((v as DuckDBApi.DuckDBTimestampSecondsValue).isFinite ? (v as DuckDBApi.DuckDBTimestampSecondsValue).seconds * 1000000n : undefined, v),
    [T.TIMESTAMP_MS]: (v) => timestamp((v as DuckDBApi.DuckDBTimestampMillisecondsValue).isFinite ? (v as DuckDBApi.DuckDBTimestampMillisecondsValue).millis * 1000n : undefined, v),
    [T.TIMESTAMP_NS]: (v) => timestamp((v as DuckDBApi.DuckDBTimestampNanosecondsValue).isFinite ? (v as DuckDBApi.DuckDBTimestampNanosecondsValue).nanos / 1000n : undefined, v),
    [T.LIST]: (v, t, c) => (v as DuckDBApi.DuckDBListValue).items.map((x) => c(x, (t as DuckDBApi.DuckDBListType).valueType, c)),
    [T.ARRAY]: (v, t, c) => (v as DuckDBApi.DuckDBArrayValue).items.map((x) => c(x, (t as DuckDBApi.DuckDBArrayType).valueType, c)),
    [T.STRUCT]: (v, t, c) => {
      const st = t as DuckDBApi.DuckDBStructType;
      const entries = (v as DuckDBApi.DuckDBStructValue).entries;
      const out: Record<string, unknown> = {};
      for (let i = 0; i < st.entryCount; i++) {
        const name = st.entryNames[i]!;
        setOwn(out, name, c(Object.hasOwn(entries, name) ? entries[name]! : null, st.entryTypes[i]!, c));
      }
      return out;
    },
    [T.MAP]: (v, t, c) => {
      const mt = t as DuckDBApi.DuckDBMapType;
      const out: Record<string, unknown> = {};
      for (const e of (v as DuckDBApi.DuckDBMapValue).entries) setOwn(out, String(c(e.key, mt.keyType, c)), c(e.value, mt.valueType, c));
      return out;
    },
    [T.UNION]: (v, t, c) => {
      const u = v as DuckDBApi.DuckDBUnionValue;
      const ut = t as DuckDBApi.DuckDBUnionType;
      return c(u.value, ut.memberTypeForTag(u.tag), c);
    },
    [T.SQLNULL]: () => null,
  };
  return (value, type, c) => {
    if (value === null || value === undefined) return null;
    const f = map[type.typeId];
    return f ? f(value, type, c) : String(value);
  };
}

/** DuckDB's JSON type: VARCHAR with the alias JSON. */
function jsonType(api: Api): DuckDBApi.DuckDBType {
  return api.DuckDBVarCharType.create('JSON');
}
