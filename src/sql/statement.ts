import { MillraceError } from '../errors.js';
import type { CompiledSql, Dialect, Row, SqlEngine } from './engine.js';
import type { StreamOptions } from './engine.js';
import { findPlaceholders } from './lexer.js';
import { compile, Fragment, FRAGMENT, raw, ident, type RawSql, type Identifier } from './template.js';

export type { Row } from './engine.js';

export type ResultCollection =
  | 'last_statement_all_rows'
  | 'last_statement_first_row'
  | 'last_statement_all_rows_scalar'
  | 'last_statement_first_row_scalar'
  | 'all_statements_all_rows'
  | 'all_statements_first_row'
  | 'all_statements_all_rows_scalar'
  | 'all_statements_first_row_scalar'
  | 'legacy';

export const RESULT_COLLECTIONS: readonly ResultCollection[] = [
  'last_statement_all_rows', 'last_statement_first_row', 'last_statement_all_rows_scalar', 'last_statement_first_row_scalar',
  'all_statements_all_rows', 'all_statements_first_row', 'all_statements_all_rows_scalar', 'all_statements_first_row_scalar',
  'legacy',
];

export type FetchParams<R extends ResultCollection> = { resultCollection?: R; signal?: AbortSignal };

export type SqlResult<T, R extends ResultCollection> = R extends 'last_statement_first_row'
  ? T | null
  : R extends 'all_statements_first_row'
    ? T[]
    : R extends 'last_statement_all_rows'
      ? T[]
      : R extends 'all_statements_all_rows'
        ? T[][]
        : R extends 'last_statement_all_rows_scalar'
          ? T[keyof T][]
          : R extends 'all_statements_all_rows_scalar'
            ? T[keyof T][][]
            : R extends 'last_statement_first_row_scalar'
              ? T[keyof T] | null
              : R extends 'all_statements_first_row_scalar'
                ? T[keyof T][]
                : unknown;


/**
 * A lazy SQL statement: nothing runs until it is fetched, executed or awaited. Awaiting it
 * (`await sql\`INSERT ...\``) runs it once with the default mode and gives the rows, as a postgres.js
 * query does; a statement returned from an async function is awaited, so it runs too.
 */
export interface SqlStatement<T = any> extends PromiseLike<T[]> {
  /** The compiled SQL text, with `$n` placeholders. */
  readonly content: string;
  /** Parameter values keyed `arg1`, `arg2`, ... as windmill-client names them. */
  readonly args: Record<string, any>;
  fetch<R extends ResultCollection = 'last_statement_all_rows'>(params?: FetchParams<R | ResultCollection>): Promise<SqlResult<T, R>>;
  fetchOne(params?: Omit<FetchParams<'last_statement_first_row'>, 'resultCollection'>): Promise<T | null>;
  fetchOneScalar(params?: Omit<FetchParams<'last_statement_first_row_scalar'>, 'resultCollection'>): Promise<T[keyof T] | null>;
  execute(params?: Omit<FetchParams<'last_statement_first_row'>, 'resultCollection'>): Promise<void>;
  /**
   * The rows one at a time, read `batchSize` (default 1000) at a time with bounded memory: a cursor on
   * PostgreSQL, DuckDB's streaming result. One statement only. Leaving the loop early (`break`,
   * `return`, an exception) gives the connection back at once.
   */
  stream(options?: Partial<StreamOptions>): AsyncGenerator<T, void, undefined>;
  /** Runs the statement once with the default mode (`last_statement_all_rows`); later awaits share that run. */
  then<A = T[], B = never>(onfulfilled?: ((rows: T[]) => A | PromiseLike<A>) | null, onrejected?: ((reason: any) => B | PromiseLike<B>) | null): Promise<A | B>;
  /** `{ content, args }`, windmill-client's plain statement object. */
  toJSON(): { content: string; args: Record<string, any> };
}

export interface SqlTemplateFunction {
  <T = any>(strings: TemplateStringsArray, ...values: any[]): SqlStatement<T>;
  /** Inlines trusted SQL text without binding it. */
  raw(text: string): RawSql;
  /** A quoted identifier: `sql.ident('schema.table')`. */
  ident(...names: string[]): Identifier;
}

export interface DatatableSqlTemplateFunction extends SqlTemplateFunction {
  /** `$1`-style SQL with positional parameters. */
  query<T = any>(text: string, ...params: any[]): SqlStatement<T>;
}

const DEFAULT_BATCH_SIZE = 1000;

type RunParams = FetchParams<ResultCollection>;

/**
 * The methods are getters giving a function that holds the statement, so `const f = stmt.fetchOne; await f()`
 * works as with windmill-client's plain objects; nothing is made per statement until a method is read.
 */
class Statement<T> implements SqlStatement<T> {
  #compiled: CompiledSql | undefined;
  #statements: CompiledSql[] | undefined;
  #awaited: Promise<T[]> | undefined;
  /** What nesting this statement into another reads (see template.ts); not part of SqlStatement. */
  readonly [FRAGMENT]: Fragment;
  readonly #engine: () => SqlEngine | Promise<SqlEngine>;
  readonly #dialect: Dialect;

  constructor(fragment: Fragment, engine: () => SqlEngine | Promise<SqlEngine>, dialect: Dialect) {
    this[FRAGMENT] = fragment;
    this.#engine = engine;
    this.#dialect = dialect;
  }

  private compiled(): CompiledSql {
    this.#compiled ??= compile(this[FRAGMENT], this.#dialect);
    return this.#compiled;
  }

  get content(): string {
    return this.compiled().text;
  }

  get args(): Record<string, any> {
    return Object.fromEntries(this.compiled().params.map((p, i) => [`arg${i + 1}`, p.value]));
  }

  toJSON(): { content: string; args: Record<string, any> } {
    return { content: this.content, args: this.args };
  }

  get fetch(): SqlStatement<T>['fetch'] {
    return ((params: RunParams = {}) => this.#run(params, undefined)) as SqlStatement<T>['fetch'];
  }

  get fetchOne(): SqlStatement<T>['fetchOne'] {
    return (params: RunParams = {}) => this.#run(params, 'last_statement_first_row') as Promise<T | null>;
  }

  get fetchOneScalar(): SqlStatement<T>['fetchOneScalar'] {
    return (params: RunParams = {}) => this.#run(params, 'last_statement_first_row_scalar') as Promise<T[keyof T] | null>;
  }

  get execute(): SqlStatement<T>['execute'] {
    return (params: RunParams = {}) => this.#run(params, 'last_statement_all_rows').then(ignore);
  }

  get then(): SqlStatement<T>['then'] {
    return (onfulfilled, onrejected) => {
      this.#awaited ??= this.#run({}, 'last_statement_all_rows') as Promise<T[]>;
      return this.#awaited.then(onfulfilled, onrejected);
    };
  }

  async *stream(options: Partial<StreamOptions> = {}): AsyncGenerator<T, void, undefined> {
    const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
    if (!Number.isSafeInteger(batchSize) || batchSize < 1) throw new MillraceError('InvalidArgument', `stream(): batchSize must be a positive integer, got ${String(batchSize)}`);
    const statements = (this.#statements ??= this.#dialect.split(this.compiled()));
    if (statements.length !== 1) {
      throw new MillraceError('InvalidArgument', statements.length === 0 ? 'Empty SQL statement' : `stream() reads one statement; this SQL has ${statements.length}: run the others with execute()`);
    }
    const engine = await this.#engine();
    if (!engine.stream) throw new MillraceError('Unsupported', 'This engine cannot stream rows');
    for await (const rows of engine.stream(statements[0]!, { batchSize, signal: options.signal })) {
      for (const row of rows) yield row as T;
    }
  }

  /** The one async step of every fetch: no await on an engine that is already there, no extra promise around its result. */
  #run(params: RunParams, fixedMode: ResultCollection | undefined): Promise<unknown> {
    try {
      const mode = fixedMode ?? params.resultCollection ?? 'last_statement_all_rows';
      if (!fixedMode && !RESULT_COLLECTIONS.includes(mode)) {
        throw new MillraceError('InvalidArgument', `Unknown resultCollection ${JSON.stringify(mode)}; expected one of ${RESULT_COLLECTIONS.join(', ')}`);
      }
      const statements = (this.#statements ??= this.#dialect.split(this.compiled()));
      if (statements.length === 0) throw new MillraceError('InvalidArgument', 'Empty SQL statement');
      const found = this.#engine();
      const results = 'run' in found ? found.run(statements, params?.signal) : found.then((engine) => engine.run(statements, params?.signal));
      return results.then((rows) => collect(rows, mode));
    } catch (e) {
      // Bad input rejects like a failed query: fetch() never throws synchronously.
      return Promise.reject(e);
    }
  }
}

function ignore(): void {}

function scalar(row: Row | undefined): unknown {
  if (!row) return null;
  const keys = Object.keys(row);
  return keys.length ? row[keys[0]!] : null;
}

/** Shapes per-statement rows the way windmill-client's nine result-collection modes do. */
export function collect(results: Row[][], mode: ResultCollection): unknown {
  const last = results[results.length - 1] ?? [];
  switch (mode) {
    case 'last_statement_all_rows':
      return last;
    case 'last_statement_first_row':
      return last[0] ?? null;
    case 'last_statement_all_rows_scalar':
      return last.map(scalar);
    case 'last_statement_first_row_scalar':
      return scalar(last[0]);
    case 'all_statements_all_rows':
      return results;
    case 'all_statements_first_row':
      return results.map((rows) => rows[0] ?? null);
    case 'all_statements_all_rows_scalar':
      return results.map((rows) => rows.map(scalar));
    case 'all_statements_first_row_scalar':
      return results.map((rows) => scalar(rows[0]));
    case 'legacy':
      return results.length === 1 ? last : results;
  }
}

/** `"main"`, `"main:analytics"`, `":analytics"` (the default name), `""` (the default): split at the first colon. */
export function parseName(name: string, fallback = 'main'): { name: string; schema: string | undefined } {
  const colon = name.indexOf(':');
  if (colon === -1) return { name: name || fallback, schema: undefined };
  return { name: name.slice(0, colon) || fallback, schema: name.slice(colon + 1) || undefined };
}

/** Builds the tagged-template function for an engine that is created on first use. */
export function templateFunction(engine: () => SqlEngine | Promise<SqlEngine>, dialect: Dialect): SqlTemplateFunction {
  const fn = (<T>(strings: TemplateStringsArray, ...values: unknown[]) =>
    new Statement<T>(new Fragment(strings, values), engine, dialect)) as unknown as SqlTemplateFunction;
  fn.raw = raw;
  fn.ident = ident;
  return fn;
}

/** A statement from `$1`-style text and positional parameters. */
export function queryStatement<T = any>(engine: () => SqlEngine | Promise<SqlEngine>, dialect: Dialect, text: string, params: unknown[]): SqlStatement<T> {
  if (typeof text !== 'string') throw new MillraceError('InvalidArgument', 'query() takes the SQL text as a string');
  // Cutting the text at each `$n` (outside literals and comments) and re-interpolating keeps one compiler for both APIs.
  const strings: string[] = [];
  const values: unknown[] = [];
  let last = 0;
  for (const p of findPlaceholders(text)) {
    if (p.n < 1 || p.n > params.length) throw new MillraceError('InvalidArgument', `Placeholder $${p.n} has no parameter (got ${params.length})`);
    strings.push(text.slice(last, p.start));
    values.push(params[p.n - 1]);
    last = p.end;
  }
  strings.push(text.slice(last));
  return new Statement<T>(new Fragment(strings, values), engine, dialect);
}
