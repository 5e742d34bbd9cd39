/**
 * PostgreSQL values to JS and back (see the README table): exact where JS can be, strings where it cannot.
 * Registered with postgres.js by oid, so nothing is fetched from the server at connect.
 */
import type { PostgresType } from 'postgres';

/** int8: a number while exact (|n| < 2^53), a bigint beyond, never silently rounded. */
export function parseInt8(x: string): number | bigint {
  const n = Number(x);
  return Number.isSafeInteger(n) ? n : BigInt(x);
}

function parseBytea(x: string): Uint8Array {
  const out = new Uint8Array((x.length - 2) >> 1);
  Buffer.from(out.buffer).write(x.slice(2), 'hex');
  return out;
}

function serializeBytea(x: unknown): string {
  if (x instanceof Uint8Array) return '\\x' + Buffer.from(x.buffer, x.byteOffset, x.byteLength).toString('hex');
  return String(x);
}

const TIMESTAMP = /^(\d{4,})-(\d\d)-(\d\d)[ T](\d\d):(\d\d):(\d\d)(\.\d+)?(?:([+-])(\d\d)(?::?(\d\d))?(?::?(\d\d))?)?( BC)?$/;

/** timestamp (no zone) is read as UTC; timestamptz uses its offset. `infinity` stays a string. */
export function parseTimestamp(x: string): Date | string {
  const m = TIMESTAMP.exec(x);
  if (!m) return x;
  let year = Number(m[1]);
  if (m[12]) year = 1 - year; // 1 BC is year 0
  const ms = m[7] ? Math.floor(Number(m[7]) * 1000) : 0;
  const d = new Date(0);
  d.setUTCFullYear(year, Number(m[2]) - 1, Number(m[3]));
  d.setUTCHours(Number(m[4]), Number(m[5]), Number(m[6]), ms);
  if (m[8]) {
    const offset = (Number(m[9]) * 3600 + Number(m[10] ?? 0) * 60 + Number(m[11] ?? 0)) * 1000;
    d.setTime(d.getTime() - (m[8] === '-' ? -offset : offset));
  }
  return d;
}

function serializeTimestamp(x: unknown): string {
  return x instanceof Date ? x.toISOString() : String(x);
}

export function serializeText(x: unknown): string {
  if (typeof x === 'string') return x;
  if (x instanceof Date) return x.toISOString();
  if (typeof x === 'object' && x !== null && !(x instanceof Uint8Array)) return JSON.stringify(x);
  return String(x);
}

/** Element types by oid: [array oid, parse, serialize]. Types not listed come back as text. */
const ELEMENTS: Record<number, [number, (x: string) => unknown, (x: unknown) => string]> = {
  16: [1000, (x) => x === 't', (x) => (x === true || x === 't' ? 't' : x === false || x === 'f' ? 'f' : String(x))],
  17: [1001, parseBytea, serializeBytea],
  20: [1016, parseInt8, String],
  21: [1005, Number, String],
  23: [1007, Number, String],
  26: [1028, Number, String],
  700: [1021, Number, String],
  701: [1022, Number, String],
  // numeric stays a string: JS numbers cannot hold its precision.
  1700: [1231, (x) => x, String],
  25: [1009, (x) => x, serializeText],
  1043: [1015, (x) => x, serializeText],
  1042: [1014, (x) => x, serializeText],
  19: [1003, (x) => x, serializeText],
  2950: [2951, (x) => x, String],
  // Any value bound as json is stringified, a string too (a JSON string, as raw postgres.js sends it);
  // `${text}::json` is sent as text and cast by the server (params.ts).
  114: [199, (x) => JSON.parse(x), serializeJson],
  3802: [3807, (x) => JSON.parse(x), serializeJson],
  // A date has no time zone: 'YYYY-MM-DD' keeps it exact (a Date would shift with the local zone).
  1082: [1182, (x) => x, serializeTimestamp],
  1083: [1183, (x) => x, String],
  1266: [1270, (x) => x, String],
  1114: [1115, parseTimestamp, serializeTimestamp],
  1184: [1185, parseTimestamp, serializeTimestamp],
  1186: [1187, (x) => x, String],
};

function serializeJson(x: unknown): string {
  return JSON.stringify(x);
}

/** PostgreSQL's array text format, NULLs included (`{1,NULL,"a\"b"}`, `[0:1]={...}`). */
export function parseArray(x: string, parse: (s: string) => unknown): unknown[] {
  let i = x.charCodeAt(0) === 91 /* [ */ ? x.indexOf('=') + 1 : 0;
  const level = (): unknown[] => {
    i++; // {
    const out: unknown[] = [];
    if (x[i] === '}') {
      i++;
      return out;
    }
    for (;;) {
      const c = x[i];
      if (c === '{') out.push(level());
      else if (c === '"') {
        let s = '';
        let from = ++i;
        while (x[i] !== '"') {
          if (x[i] === '\\') {
            s += x.slice(from, i);
            from = ++i;
          }
          i++;
        }
        out.push(parse(s + x.slice(from, i++)));
      } else {
        let j = i;
        while (x[j] !== ',' && x[j] !== '}') j++;
        const s = x.slice(i, j);
        i = j;
        out.push(s === 'NULL' ? null : parse(s));
      }
      if (x[i++] === '}') return out;
    }
  };
  return level();
}

export function serializeArray(xs: unknown, serialize: (x: unknown) => string, quote = quoteElement): string {
  if (!Array.isArray(xs)) return serialize(xs);
  return '{' + xs.map((x) => (x === null || x === undefined ? 'NULL' : Array.isArray(x) ? serializeArray(x, serialize, quote) : quote(serialize(x)))).join(',') + '}';
}

/** An array element as input text: always quoted, which every element type reads. */
function quoteElement(s: string): string {
  return '"' + s.replace(/[\\"]/g, '\\$&') + '"';
}

/** An array element as PostgreSQL writes it (array_out): quoted only where it must be, so `{a,b}` equals a stored array's text. */
export function quoteAsStored(s: string): string {
  return s === '' || /^null$/i.test(s) || /[{},"\\ \t\n\r\v\f]/.test(s) ? quoteElement(s) : s;
}

/** postgres.js type handlers: each element type and its array; nothing is fetched from the server at connect. */
export const TYPES = Object.fromEntries(
  Object.entries(ELEMENTS).flatMap(([oid, [arrayOid, parse, serialize]]) => [
    [`t${oid}`, { to: Number(oid), from: [Number(oid)], parse, serialize }],
    [`t${arrayOid}`, { to: arrayOid, from: [arrayOid], parse: (x: string) => parseArray(x, parse), serialize: (x: unknown) => serializeArray(x, serialize) }],
  ]),
) as unknown as Record<string, PostgresType>;

/** The oids TYPES converts (element and array types). */
export const TYPED_OIDS: ReadonlySet<number> = new Set(Object.entries(ELEMENTS).flatMap(([oid, [arrayOid]]) => [Number(oid), arrayOid]));
