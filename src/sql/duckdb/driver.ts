/** The DuckDB driver: runs compiled statements on one connection, binding parameters with explicit DuckDB types. */
import type * as DuckDBApi from '@duckdb/node-api';
import { aborted, MillraceError } from '../../errors.js';
import type { BoundParam, CompiledSql, Row, SqlEngine, StreamOptions } from '../engine.js';
import { inferSqlType } from '../infer.js';
import { appendRows, bindAll, readRows, toDuckDBValue } from './codec.js';
import { duckdbDialect } from './dialect.js';
import { toSqlError } from './errors.js';
import type { Connection } from './instance.js';
import { asS3Object, objectLocation } from './storage-access.js';

const TRANSACTION_CONTROL = /^\s*(BEGIN|START\s+TRANSACTION|COMMIT|END|ROLLBACK|ABORT)\b/i;

/** A `SqlEngine` on one connection. An interpolated S3Object is bound as its storage's URL (see storage-access.ts). */
export class DuckDBEngine implements SqlEngine {
  readonly dialect = duckdbDialect;

  #inTransaction = false;

  constructor(readonly connection: Connection) {}

  /** Whether the SQL left a transaction open (`BEGIN` without `COMMIT`): the pool then keeps this connection for what follows. */
  get inTransaction(): boolean {
    return this.#inTransaction;
  }

  close(): void {
    this.connection.close();
  }

  /** `after` runs last on the connection, whatever happened (a lake restores its `USE` with it). */
  run(statements: CompiledSql[], signal?: AbortSignal, after?: string): Promise<Row[][]> {
    const conn = this.connection;
    if (signal?.aborted) return Promise.reject(aborted(signal, 'The statement'));
    return conn.serial(async () => {
      const onAbort = () => conn.raw.interrupt();
      signal?.addEventListener('abort', onAbort, { once: true });
      // Several statements run in one transaction, unless the SQL manages its own.
      const wrap = statements.length > 1 && !statements.some((s) => TRANSACTION_CONTROL.test(s.text));
      const results: Row[][] = [];
      try {
        if (wrap) await conn.raw.run('BEGIN TRANSACTION');
        for (const s of statements) {
          if (signal?.aborted) throw aborted(signal, 'The statement');
          results.push(await this.#one(s));
        }
        if (wrap) await conn.raw.run('COMMIT');
        for (const s of statements) {
          const control = TRANSACTION_CONTROL.exec(s.text)?.[1];
          if (control) this.#inTransaction = /^(BEGIN|START)/i.test(control);
        }
        return results;
      } catch (e) {
        // Leave the connection clean for the next statement, whoever opened the transaction.
        await conn.raw.run('ROLLBACK').catch(() => undefined);
        this.#inTransaction = false;
        if (signal?.aborted) throw aborted(signal, 'The statement');
        throw e;
      } finally {
        signal?.removeEventListener('abort', onAbort);
        if (after) await conn.raw.run(after).catch(() => undefined);
      }
    });
  }

  async #one(s: CompiledSql): Promise<Row[]> {
    const api = this.connection.db.api;
    try {
      if (s.params.length === 0) return await readRows(api, await this.connection.raw.run(s.text));
      const prepared = await this.#prepare(s);
      try {
        return await readRows(api, await prepared.run());
      } finally {
        prepared.destroySync();
      }
    } catch (e) {
      if (e instanceof MillraceError) throw e;
      throw toSqlError(e, s.text, s.params);
    }
  }

  /**
   * DuckDB's streaming result, chunk by chunk, in batches of at least `batchSize` rows. The caller
   * holds this connection alone (the pool's `acquire`); stopping early leaves the result to be
   * dropped by the connection's next statement.
   */
  async *stream(s: CompiledSql, { batchSize, signal }: StreamOptions): AsyncGenerator<Row[]> {
    const api = this.connection.db.api;
    let prepared: DuckDBApi.DuckDBPreparedStatement | undefined;
    try {
      if (signal?.aborted) throw aborted(signal, 'The statement');
      let result: DuckDBApi.DuckDBResult;
      if (s.params.length === 0) result = await this.connection.raw.stream(s.text);
      else result = await (prepared = await this.#prepare(s)).stream();
      const names = result.deduplicatedColumnNames();
      const types = result.columnTypes();
      let batch: Row[] = [];
      for (;;) {
        if (signal?.aborted) throw aborted(signal, 'The statement');
        const chunk = await result.fetchChunk();
        if (!chunk || chunk.rowCount === 0) break;
        appendRows(api, chunk, names, types, batch);
        if (batch.length >= batchSize) {
          yield batch;
          batch = [];
        }
      }
      if (batch.length > 0) yield batch;
    } catch (e) {
      if (e instanceof MillraceError) throw e;
      throw toSqlError(e, s.text, s.params);
    } finally {
      prepared?.destroySync();
    }
  }

  /** The statement prepared with its parameters bound (S3Objects resolved to their URLs first). */
  async #prepare(s: CompiledSql): Promise<DuckDBApi.DuckDBPreparedStatement> {
    const values: DuckDBApi.DuckDBValue[] = [];
    const types: (DuckDBApi.DuckDBType | undefined)[] = [];
    for (const p of s.params) {
      const [v, t] = await this.#bind(p);
      values.push(v);
      types.push(t);
    }
    const prepared = await this.connection.raw.prepare(s.text);
    try {
      bindAll(this.connection.db.api, prepared, values, types);
    } catch (e) {
      prepared.destroySync();
      throw e;
    }
    return prepared;
  }

  async #bind(p: BoundParam): Promise<[DuckDBApi.DuckDBValue, DuckDBApi.DuckDBType | undefined]> {
    const { db } = this.connection;
    // An S3Object becomes its storage's URL, bound as a string, with the storage's secret in place;
    // a list of them (listS3Files records, say) a list of URLs, for `read_csv(${files})`.
    if (!(p.explicit && /^json$/i.test(p.type))) {
      const record = asS3Object(p.value);
      if (record) return toDuckDBValue(db.api, await objectLocation(db, record), 'TEXT');
      const list = p.value as unknown[];
      if (Array.isArray(list) && list.length > 0 && asS3Object(list[0])) {
        const records = list.map(asS3Object);
        if (records.every((r) => r !== undefined)) {
          const urls: string[] = [];
          for (const r of records) urls.push(await objectLocation(db, r!));
          return toDuckDBValue(db.api, urls, 'TEXT[]');
        }
      }
    }
    // An explicit `::type` is DuckDB's cast of the value bound with its inferred type.
    return toDuckDBValue(db.api, p.value, p.explicit ? inferSqlType(p.value) : p.type);
  }
}

/** Binds each value with node-api's direct binders for the common scalar types (no Value objects built), else bindValue. */
