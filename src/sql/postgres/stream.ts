/**
 * `.stream()` on PostgreSQL: a postgres.js cursor on a connection of the pool. With a schema or a
 * role the cursor runs inside `sql.begin()` (their `SET LOCAL` last as long as it), its batches
 * handed to the caller one at a time. Leaving early closes the cursor, rolls the transaction back
 * and gives the connection back to the pool. (Not `sql.reserve()`: in postgres.js 3.4.9 it never
 * resolves when the pool has no connection open yet.)
 */
import type { Sql, PostgresType, TransactionSql } from 'postgres';
import { aborted } from '../../errors.js';
import type { CompiledSql, Row, RunContext, StreamOptions } from '../engine.js';
import { quoteIdent } from '../template.js';
import { RESTART } from './params.js';
import { hasProtoColumn, ownColumns } from './rows.js';

type Types = Record<string, PostgresType>;
type AnySql = Sql<Types> | TransactionSql<Types>;

export type StreamHooks = {
  /** The pool holds the event loop while the stream is open (see PostgresPool's enter/leave). */
  enter(): void;
  leave(): void;
  /** The statement's parameters typed as `run()` types them (params.ts), asking `sql` first if need be. */
  bind(sql: AnySql, inTransaction: boolean): Promise<never[]>;
  /** After the server refused the statement: true when a parameter it could not type now gets windmill-client's type. */
  learn(e: unknown): boolean;
  /** The pool's typed error for a failure of `text`; `inPrelude` when it set the schema or role. */
  error(e: unknown, text: string, inPrelude: boolean): Error;
};

const PREPARED = { prepare: true } as const;

export async function* streamRows(sql: Sql<Types>, statement: CompiledSql, ctx: RunContext, { batchSize, signal }: StreamOptions, hooks: StreamHooks): AsyncGenerator<Row[]> {
  if (signal?.aborted) throw aborted(signal, 'The statement');
  const prelude: string[] = [];
  if (ctx.role) prelude.push(`SET LOCAL ROLE ${quoteIdent(ctx.role)}`);
  if (ctx.schema) prelude.push(`SET LOCAL search_path TO ${quoteIdent(ctx.schema)}`);
  let failedAt: string | undefined;
  // Only a cursor's first batch carries the columns (postgres.js starts a bare result after each suspension).
  let columns: readonly { name: string }[] | null | undefined;
  hooks.enter();
  try {
    // Until a first batch arrives, a parameter the server could not type is typed and the statement run again.
    for (let attempt = 0, yielded = false; ; attempt++) {
      try {
        const batches = prelude.length === 0 ? cursor(sql, statement, await hooks.bind(sql, false), batchSize) : inTransaction(sql, prelude, statement, hooks.bind, batchSize, (text) => (failedAt = text));
        for await (const rows of batches) {
          if (signal?.aborted) throw aborted(signal, 'The statement');
          yielded = true;
          columns ??= (rows as { columns?: readonly { name: string }[] | null }).columns;
          // postgres.js gives an Array subclass per batch; its rows are plain objects, handed out one by one,
          // rebuilt when a column is named `__proto__` (see rows.ts).
          yield hasProtoColumn(columns) ? ownColumns(rows as Row[], columns) : (rows as Row[]);
        }
        return;
      } catch (e) {
        if (yielded || signal?.aborted || attempt > 2 * statement.params.length + 2 || !(e === RESTART || hooks.learn(e))) throw e;
      }
    }
  } catch (e) {
    if (signal?.aborted) throw aborted(signal, 'The statement');
    throw hooks.error(e, failedAt ?? statement.text, failedAt !== undefined);
  } finally {
    hooks.leave();
  }
}

function cursor(sql: Sql<Types>, statement: CompiledSql, params: never[], batchSize: number): AsyncIterable<Row[]> {
  return sql.unsafe(statement.text, params, PREPARED).cursor(batchSize) as AsyncIterable<Row[]>;
}

const STOP = Symbol('stopped');

/** The cursor inside `sql.begin()`, one batch at a time: the transaction waits while the caller works on a batch. */
async function* inTransaction(sql: Sql<Types>, prelude: string[], statement: CompiledSql, bind: StreamHooks['bind'], batchSize: number, onPreludeError: (text: string) => void): AsyncGenerator<Row[]> {
  const pending: Row[][] = [];
  let wake: (() => void) | undefined;
  let resume: (() => void) | undefined;
  let stop = false;
  let done = false;
  let failure: unknown;
  const tx = sql
    .begin(async (t) => {
      for (const text of prelude) {
        try {
          await t.unsafe(text);
        } catch (e) {
          onPreludeError(text);
          throw e;
        }
      }
      // Typed after the prelude: the schema decides what the statement's names (and so its parameters' types) are.
      const params = await bind(t, true);
      for await (const rows of t.unsafe(statement.text, params, PREPARED).cursor(batchSize)) {
        pending.push(rows as Row[]);
        wake?.();
        await new Promise<void>((r) => (resume = r));
        // Throwing ends the cursor and rolls the transaction back.
        if (stop) throw STOP;
      }
    })
    .then(
      () => void (done = true),
      (e) => void ((done = true), (failure = e)),
    )
    .finally(() => wake?.());
  try {
    for (;;) {
      const rows = pending.shift();
      if (rows) {
        yield rows;
        const r = resume;
        resume = undefined;
        r?.();
        continue;
      }
      if (done) {
        if (failure !== undefined && failure !== STOP) throw failure;
        return;
      }
      await new Promise<void>((r) => (wake = r));
      wake = undefined;
    }
  } finally {
    if (!done) {
      stop = true;
      resume?.();
      await tx;
    }
  }
}
