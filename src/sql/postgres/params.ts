/**
 * How each parameter is typed on PostgreSQL. The rule: a statement works whenever it works with raw
 * postgres.js (the server types a parameter from its context: a string compared with a uuid column, a
 * null inserted into an int column) or with windmill-client's typing (`$1::BIGINT`, `$1::JSON`) where the
 * context says nothing (`json_build_object('k', $1)`, `$1 IS NULL`, `$1 + $2`, a select list).
 *
 * So a parameter is sent untyped (oid 0) and the server decides, except:
 * - booleans, Dates, bigints, Uint8Arrays (and arrays of booleans or Dates) always carry windmill-client's
 *   type, as raw postgres.js types them too;
 * - where the server cannot type a parameter (42P18 could not determine data type, 42725 operator not
 *   unique, 42804/42883 polymorphic or unknown function), it gets windmill-client's type; learned once
 *   per statement text and remembered (never from an error raised inside a function or procedure as it
 *   ran, nor for a statement that follows transaction control in its text: see `planKeys`);
 * - numbers, arrays and objects need the server's types first (a describe, once per statement text):
 *   a value that cannot be read as the type the server chose (1.5 for an int) gets windmill-client's
 *   type, and where the server chose text only because nothing else said otherwise (`SELECT $1`: 1
 *   stays a number), windmill-client's type is kept when the server accepts it.
 * An explicit `${v}::type` is in the text and wins. An array arrives as JSON wherever JSON is wanted
 * (a json/jsonb parameter, `${v}::jsonb`) and an array of objects always (as windmill-client sends it),
 * never as PostgreSQL's array text. The common case, a statement whose types are known, costs one Map
 * lookup and a loop over its parameters.
 */
import type { PostgresType, Sql, TransactionSql } from 'postgres';
import type { BoundParam, CompiledSql } from '../engine.js';
import { findPlaceholders } from '../lexer.js';
import { quoteAsStored, serializeArray, serializeText, TYPED_OIDS } from './types.js';

type AnySql = Sql<Record<string, PostgresType>> | TransactionSql<Record<string, PostgresType>>;

/** windmill-client's inferred SQL types (src/sql/infer.ts) as PostgreSQL type oids. */
const WINDMILL_OIDS: Record<string, number> = {
  BIGINT: 20, 'DOUBLE PRECISION': 701, TEXT: 25, BOOLEAN: 16, TIMESTAMPTZ: 1184, BYTEA: 17, JSON: 114,
  'BIGINT[]': 1016, 'DOUBLE PRECISION[]': 1022, 'TEXT[]': 1009, 'BOOLEAN[]': 1000, 'TIMESTAMPTZ[]': 1185,
};

/** SQLSTATEs of a parameter the server could not type from its context. */
const UNTYPABLE = new Set(['42P18', '42725', '42804', '42883']);
/** Where the server says text (or unknown) because nothing else said otherwise. */
const TEXT_LIKE = new Set([0, 25, 705]);
const INTEGERS = new Set([20, 21, 23, 26, 1016, 1005, 1007, 1028]);
const JSON_OIDS = new Set([114, 3802]);
const MAX_PLANS = 1000;

/** What is known of one statement text's parameters. */
type Plan = {
  /** 1: the server cannot type this parameter from its context; windmill-client's type is sent. */
  forced: Uint8Array;
  /** The server's type of each parameter, from a describe with `declared` sent (undefined: not described). */
  server: Uint32Array | undefined;
  declared: Uint32Array | undefined;
  /** Where the server said text and the value is no string: +oid the server took windmill-client's type, -oid it refused it. */
  cast: Int32Array;
  /** The server could not be satisfied step by step: windmill-client's types for all. */
  windmill: boolean;
};

const enum Fit { Yes, No, Ambiguous }

/** Thrown inside a transaction that a failed describe or statement aborted, once what it taught is kept: run it again. */
export const RESTART = Symbol('millrace.restart');

export class ParamPlans {
  readonly #plans = new Map<string, Plan>();

  /** The parameters to hand postgres.js, or undefined when the server must be asked first (`prepare`). */
  bind(sql: AnySql, s: CompiledSql, key: string): never[] | undefined {
    const params = s.params;
    const out = new Array(params.length);
    if (params.length === 0) return out as never[];
    const plan = this.#plans.get(key) ?? (key.startsWith(AFTER_CONTROL) ? this.#plan(key, params.length) : undefined);
    for (let i = 0; i < params.length; i++) {
      const p = params[i]!;
      const v = bindable(p.value);
      const oid = oidFor(plan, p, i, v);
      if (oid === NEEDS_SERVER) return undefined;
      if (oid >= 0) out[i] = sql.typed((oid === 0 ? untyped(v, plan?.server?.[i] ?? 0) : v) as never, oid);
      // Sent untyped where the server chose text for no string (`WHERE name = ${5}`): as raw postgres.js sends it.
      else if (oid === AS_TEXT) out[i] = sql.typed(asText(v, p.type) as never, 0);
      // `${rows}::jsonb`: JSON text, read by the cast (as the text of a JSON value, never an array literal).
      else out[i] = sql.typed(JSON.stringify(v) as never, 25);
    }
    return out as never[];
  }

  /**
   * Asks the server one thing `bind` lacks (a describe of the statement, or whether windmill-client's
   * type is accepted where the server said text). In a transaction a refused describe aborts it:
   * what was learned is kept and RESTART is thrown.
   */
  async prepare(sql: AnySql, s: CompiledSql, key: string, inTransaction: boolean): Promise<void> {
    for (let attempt = 0; attempt < 2 * s.params.length + 2; attempt++) {
      const plan = this.#plan(key, s.params.length);
      const declared = this.#declared(s, plan);
      if (!plan.server || !sameOids(plan.declared!, declared)) {
        try {
          plan.server = Uint32Array.from((await describe(sql, s, declared, inTransaction)).types);
          plan.declared = declared;
          plan.cast.fill(0);
        } catch (e) {
          if (!this.learn(e, s, key)) throw e;
          if (inTransaction) throw RESTART;
        }
      } else {
        const tried = new Uint32Array(declared);
        const ambiguous: number[] = [];
        s.params.forEach((p, i) => {
          const v = bindable(p.value);
          if (!p.explicit && !plan.forced[i] && !isFixed(p, v) && (typeof v === 'number' || (typeof v === 'object' && v !== null))) {
            const w = WINDMILL_OIDS[p.type] ?? 0;
            if (fits(v, plan.server![i]!) === Fit.Ambiguous && Math.abs(plan.cast[i]!) !== w) {
              ambiguous.push(i);
              tried[i] = w;
            }
          }
        });
        if (ambiguous.length === 0) return;
        let accepted = true;
        try {
          await describe(sql, s, tried, inTransaction);
        } catch (e) {
          if (!isServerError(e)) throw e;
          accepted = false;
        }
        for (const i of ambiguous) plan.cast[i] = (accepted ? 1 : -1) * tried[i]!;
        if (!accepted && inTransaction) throw RESTART;
      }
      if (this.bind(sql, s, key)) return;
    }
    this.#plan(key, s.params.length).windmill = true;
  }

  /** After the server refused the statement: true when a parameter it could not type now gets windmill-client's type (run it again). */
  learn(e: unknown, s: CompiledSql, key: string): boolean {
    const err = e as { code?: unknown; message?: unknown; position?: unknown };
    if (!isServerError(e) || !UNTYPABLE.has(err.code as string)) return false;
    // Raised while the statement ran (inside a function or procedure, which may have committed): no typing failure of its own.
    if ((e as { where?: unknown }).where || (e as { internal_query?: unknown }).internal_query) return false;
    const plan = this.#plan(key, s.params.length);
    // Only a parameter sent untyped can be the one the server could not type.
    const open = s.params.map((p, i) => (!p.explicit && oidFor(plan, p, i, bindable(p.value)) <= 0 ? i : -1)).filter((i) => i >= 0);
    if (open.length === 0 || plan.windmill) return false;
    const named = /parameter \$(\d+)/.exec(String(err.message));
    const which = named && open.includes(Number(named[1]) - 1) ? [Number(named[1]) - 1] : nearest(s.text, open, Number(err.position));
    for (const i of which) plan.forced[i] = 1;
    plan.server = undefined;
    return true;
  }

  #plan(key: string, n: number): Plan {
    let plan = this.#plans.get(key);
    if (plan && plan.forced.length === n) return plan;
    if (this.#plans.size >= MAX_PLANS) this.#plans.delete(this.#plans.keys().next().value!);
    plan = { forced: new Uint8Array(n), server: undefined, declared: undefined, cast: new Int32Array(n), windmill: key.startsWith(AFTER_CONTROL) };
    this.#plans.set(key, plan);
    return plan;
  }

  /** The oids sent when describing: windmill-client's where it is always or already chosen, else 0 (the server decides). */
  #declared(s: CompiledSql, plan: Plan): Uint32Array {
    const out = new Uint32Array(s.params.length);
    s.params.forEach((p, i) => {
      const v = bindable(p.value);
      if (p.explicit) out[i] = explicitOid(p, v) === AS_JSON ? 25 : explicitOid(p, v);
      else if (plan.forced[i] || isFixed(p, v)) out[i] = WINDMILL_OIDS[p.type] ?? 0;
    });
    return out;
  }
}

/** The open parameter nearest where the server points (`$1 + $2`: the operator), else all of them; one more is typed per retry. */
function nearest(text: string, open: number[], position: number): number[] {
  if (!(position > 0)) return open;
  let best = -1;
  let distance = Infinity;
  for (const p of findPlaceholders(text)) {
    const d = Math.abs(p.start - (position - 1));
    if (open.includes(p.n - 1) && d < distance) [best, distance] = [p.n - 1, d];
  }
  return best === -1 ? open : [best];
}

const NEEDS_SERVER = -1;
const AS_TEXT = -2;
const AS_JSON = -3;

/** The oid a parameter is sent with: 0 untyped, windmill-client's, AS_TEXT, or NEEDS_SERVER (describe first). */
function oidFor(plan: Plan | undefined, p: BoundParam, i: number, v: unknown): number {
  if (p.explicit) return explicitOid(p, v);
  if (plan?.windmill || plan?.forced[i] || isFixed(p, v)) return WINDMILL_OIDS[p.type] ?? 0;
  if (typeof v !== 'number' && (typeof v !== 'object' || v === null)) return 0;
  if (!plan || !plan.server || plan.declared![i] !== 0) return NEEDS_SERVER;
  const w = WINDMILL_OIDS[p.type] ?? 0;
  const fit = fits(v, plan.server[i]!);
  if (fit === Fit.Yes) return 0;
  if (fit === Fit.No || plan.cast[i] === w) return w;
  return plan.cast[i] === -w ? AS_TEXT : NEEDS_SERVER;
}

/**
 * The server's parameter types for the statement sent with `oids`. On the pool, inside a transaction of
 * its own: a describe resolves before its connection is ready again, and the pool would open another for
 * the statement that follows (sequential statements then alternate between two connections, which
 * costs); the COMMIT after it resolves only once the connection is back in the pool. (Not `sql.reserve()`:
 * in postgres.js 3.4.9 it never resolves when no connection is open and one is still unopened, as on a
 * pool's first statement.)
 */
async function describe(sql: AnySql, s: CompiledSql, oids: Uint32Array, inTransaction: boolean): Promise<{ types: number[] }> {
  const params = s.params.map((p, i) => sql.typed(bindable(p.value) as never, oids[i]!));
  const ask = (on: AnySql) => on.unsafe(s.text, params as never[], { prepare: true }).describe() as unknown as Promise<{ types: number[] }>;
  if (inTransaction) return ask(sql);
  return (await (sql as Sql<Record<string, PostgresType>>).begin((t) => ask(t))) as { types: number[] };
}

function isServerError(e: unknown): boolean {
  return (e as { name?: unknown })?.name === 'PostgresError';
}

function sameOids(a: Uint32Array, b: Uint32Array): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Typed the same everywhere, by raw postgres.js too: booleans, Dates, bigints, bytes, arrays of booleans or Dates. */
function isFixed(p: BoundParam, v: unknown): boolean {
  if (typeof v !== 'object') return typeof v === 'boolean' || typeof v === 'bigint';
  if (v === null) return false;
  return v instanceof Date || v instanceof Uint8Array || p.type === 'BOOLEAN[]' || p.type === 'TIMESTAMPTZ[]';
}

/**
 * `${v}::json(b)`: JSON text, read by the server's cast from text (a string is taken as the JSON text it
 * holds; an array, of objects or not, is a JSON array). Other explicit types: the cast types the parameter.
 */
function explicitOid(p: BoundParam, v: unknown): number {
  if (v === null || !/^jsonb?$/i.test(p.type)) return 0;
  return typeof v === 'string' ? 25 : AS_JSON;
}

/** Whether a number, array or object can be read as the server's type; Ambiguous where the server said text. */
function fits(v: unknown, server: number): Fit {
  if (TEXT_LIKE.has(server)) return Fit.Ambiguous;
  if (typeof v === 'number') return INTEGERS.has(server) && !Number.isInteger(v) ? Fit.No : Fit.Yes;
  if (typeof v === 'bigint') return Fit.Yes;
  if (Array.isArray(v)) {
    if (INTEGERS.has(server) && v.some((x) => typeof x === 'number' && !Number.isInteger(x))) return Fit.No;
    return Fit.Yes;
  }
  return JSON_OIDS.has(server) ? Fit.Yes : Fit.No;
}

/**
 * A number for a date or timestamp is milliseconds since the epoch (as raw postgres.js reads it); an array
 * for a type millrace has no converter for (enum[], inet[], ...) is sent as PostgreSQL's array text, unless
 * it holds objects: those are JSON (as windmill-client sends them), never an array literal.
 */
function untyped(v: unknown, server: number): unknown {
  if (typeof v === 'number') return server === 1184 || server === 1114 || server === 1082 ? new Date(v) : v;
  if (!Array.isArray(v) || TYPED_OIDS.has(server) || JSON_OIDS.has(server)) return v;
  return v.some(isJsonObject) ? JSON.stringify(v) : serializeArray(v, serializeText);
}

/** An object JSON carries as an object: not a Date, bytes or an array. */
function isJsonObject(x: unknown): boolean {
  return typeof x === 'object' && x !== null && !Array.isArray(x) && !(x instanceof Date) && !(x instanceof Uint8Array);
}

/**
 * undefined binds as NULL, also inside arrays (postgres.js refuses undefined); an integer beyond
 * 2^53 binds as the bigint it exactly is (its JS text, `1152921504606847000` for 2**60, is another number).
 */
export function bindable(v: unknown): unknown {
  if (v === undefined) return null;
  if (typeof v === 'number') return v > Number.MAX_SAFE_INTEGER || v < -Number.MAX_SAFE_INTEGER ? exactInteger(v) : v;
  if (Array.isArray(v) && v.some(needsBinding)) return v.map(bindable);
  return v;
}

function needsBinding(v: unknown): boolean {
  return v === undefined || (typeof v === 'number' && (v > Number.MAX_SAFE_INTEGER || v < -Number.MAX_SAFE_INTEGER));
}

function exactInteger(v: number): number | bigint {
  return Number.isInteger(v) ? BigInt(v) : v;
}

/** Several statements' keys: a schema changes what names (and so types) resolve to. */
export function planKey(text: string, schema: string | undefined): string {
  return schema ? `${schema}\0${text}` : text;
}

/** Marks the key of a statement that follows transaction control in its text: windmill-client's types from the start. */
const AFTER_CONTROL = '\u0001';
const CONTROL = /^(?:\s+|--[^\n]*|\/\*[\s\S]*?\*\/)*(?:BEGIN|START|COMMIT|END|ROLLBACK|ABORT|CALL|DO|PREPARE\s+TRANSACTION|SAVEPOINT|RELEASE)\b/i;

/**
 * The keys of one text's statements, run in one transaction. Once a statement of the text may have
 * committed (COMMIT, CALL, DO, ...), what follows is never run again to learn a type (the committed part
 * would run twice): its open parameters carry windmill-client's types from the start, and a statement the
 * server still cannot type fails with its error.
 */
export function planKeys(statements: CompiledSql[], schema: string | undefined): string[] {
  let control = false;
  return statements.map((s) => {
    const key = control ? AFTER_CONTROL + planKey(s.text, schema) : planKey(s.text, schema);
    control ||= CONTROL.test(s.text);
    return key;
  });
}

/**
 * Where the server said text for a number, array or object: the text an INSERT into a text column stores
 * (windmill-client's type read as text: an object, or an array it types JSON, as JSON; another array as
 * PostgreSQL's array text).
 */
function asText(v: unknown, type: string): string {
  if (type === 'JSON' || isJsonObject(v)) return JSON.stringify(v);
  // PostgreSQL's own text of an array: an element quoted only where array_out quotes it.
  return Array.isArray(v) ? serializeArray(v, serializeText, quoteAsStored) : String(v);
}
