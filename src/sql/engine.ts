/**
 * What the compiler hands an engine and what an engine is: a dialect (how the shared compiler
 * writes SQL for it) and a driver that only executes. Engines register in registry.ts.
 */
export type Row = Record<string, unknown>;

export type BoundParam = {
  value: unknown;
  /** The SQL type: the explicit `::type` after the value, else windmill-client's inference. */
  type: string;
  explicit: boolean;
};

export type CompiledSql = { text: string; params: BoundParam[] };

/** How the shared compiler writes SQL for one engine. */
export type Dialect = {
  /** Placeholder text for parameter `n` (1-based). */
  placeholder(n: number, param: BoundParam): string;
  /** One identifier part, quoted. */
  quoteIdent(name: string): string;
  /** A compiled text cut into its statements, each with its parameters numbered from `$1`. */
  split(sql: CompiledSql): CompiledSql[];
  /**
   * An inferred SQL type (infer.ts: windmill-client's names `BIGINT`, `DOUBLE PRECISION`, `TEXT`,
   * `BOOLEAN`, `TIMESTAMPTZ`, `BYTEA`, `JSON`, and `X[]` arrays of them) as this engine names it.
   * Any other name is returned unchanged.
   */
  typeName(type: string): string;
};

/** A type infer.ts gives a value: windmill-client's scalar names, and arrays of them. */
export type InferredType = InferredScalar | `${InferredScalar}[]`;
export type InferredScalar = 'BIGINT' | 'DOUBLE PRECISION' | 'TEXT' | 'BOOLEAN' | 'TIMESTAMPTZ' | 'BYTEA' | 'JSON';

/** Per-run settings a driver honours: the schema unqualified names resolve in, the role, cancellation. */
export type RunContext = { schema?: string; role?: string; signal?: AbortSignal };

/** How `.stream()` reads: rows fetched `batchSize` at a time (at least), cancelled by `signal`. */
export type StreamOptions = { batchSize: number; signal?: AbortSignal };

/** A driver only executes: compiled statements in, rows out (one array per statement), typed errors. */
export interface SqlDriver {
  /** Runs the statements in order, on one connection, in one transaction when there are several. */
  run(statements: CompiledSql[], ctx: RunContext): Promise<Row[][]>;
  /** One statement's rows in batches, holding one connection until the last batch or an early `return()`. */
  stream?(statement: CompiledSql, ctx: RunContext, options: StreamOptions): AsyncIterable<Row[]>;
}

/** How a libpq client (DuckDB's postgres extension) reaches a database millrace opened. */
export type LibpqTarget = { conninfo: string; readOnly: boolean; secrets: unknown[] };

/** A driver opened for one configured database, and how to release it. */
export type OpenDriver<D extends SqlDriver = SqlDriver> = { driver: D; close(): Promise<void>; libpq?: LibpqTarget };

/** An engine: its dialect, and how it opens a driver for one configured database. */
export interface Engine<C, D extends SqlDriver = SqlDriver> {
  readonly dialect: Dialect;
  /** `label` names the database in messages (`datatable "main"`), with nothing secret in it. */
  open(config: C, label: string, name: string): Promise<OpenDriver<D>>;
}

/** What a statement runs on (Postgres, DuckDB): run statements in order and return each one's rows. */
export interface SqlEngine {
  readonly dialect: Dialect;
  /** Runs the statements in order, on one connection, in one transaction when there are several. */
  run(statements: CompiledSql[], signal?: AbortSignal): Promise<Row[][]>;
  /** One statement's rows in batches (see SqlDriver.stream). */
  stream?(statement: CompiledSql, options: StreamOptions): AsyncIterable<Row[]>;
}
