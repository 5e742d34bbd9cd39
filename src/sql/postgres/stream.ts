/**
 * `.stream()` on PostgreSQL: a postgres.js cursor on a connection reserved for the stream, inside
 * a transaction when a schema or a role applies (their `SET LOCAL` last as long as it). Leaving
 * early closes the cursor, ends the transaction and gives the connection back to the pool.
 */
import type { ReservedSql, Sql, PostgresType } from 'postgres';
import { aborted } from '../../errors.js';
import type { CompiledSql, Row, RunContext, StreamOptions } from '../engine.js';
import { quoteIdent } from '../template.js';

type Types = Record<string, PostgresType>;

export type StreamHooks = {
  /** The pool holds the event loop while the stream is open (see PostgresPool's enter/leave). */
  enter(): void;
  leave(): void;
  /** The pool's typed error for a failure of `text`; `inPrelude` when it set the schema or role. */
  error(e: unknown, text: string, inPrelude: boolean): Error;
};

export async function* streamRows(sql: Sql<Types>, statement: CompiledSql, params: never[], ctx: RunContext, { batchSize, signal }: StreamOptions, hooks: StreamHooks): AsyncGenerator<Row[]> {
  if (signal?.aborted) throw aborted(signal, 'The statement');
  hooks.enter();
  let reserved: ReservedSql<Types> | undefined;
  let open = false;
  let prelude: string | undefined;
  try {
    reserved = await sql.reserve();
    if (ctx.schema || ctx.role) {
      await reserved.unsafe('BEGIN');
      open = true;
      if (ctx.role) await reserved.unsafe((prelude = `SET LOCAL ROLE ${quoteIdent(ctx.role)}`));
      if (ctx.schema) await reserved.unsafe((prelude = `SET LOCAL search_path TO ${quoteIdent(ctx.schema)}`));
      prelude = undefined;
    }
    for await (const rows of reserved.unsafe(statement.text, params, { prepare: true }).cursor(batchSize)) {
      if (signal?.aborted) throw aborted(signal, 'The statement');
      // postgres.js gives an Array subclass per batch; rows are handed out one by one, plain objects as they are.
      yield rows as Row[];
    }
    if (open) {
      open = false;
      await reserved.unsafe('COMMIT');
    }
  } catch (e) {
    if (signal?.aborted) throw aborted(signal, 'The statement');
    throw hooks.error(e, prelude ?? statement.text, prelude !== undefined);
  } finally {
    // Stopped early or failed: nothing of the transaction is kept.
    if (open) await reserved!.unsafe('ROLLBACK').catch(() => undefined);
    reserved?.release();
    hooks.leave();
  }
}
