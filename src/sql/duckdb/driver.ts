/** The DuckDB driver: runs compiled statements on one connection, binding parameters with explicit DuckDB types. */
import type * as DuckDBApi from '@duckdb/node-api';
import { mkdir } from 'node:fs/promises';
import { dirname, isAbsolute } from 'node:path';
import { aborted, MillraceError } from '../../errors.js';
import type { BoundParam, CompiledSql, Row, SqlEngine } from '../engine.js';
import { inferSqlType } from '../infer.js';
import { bindAll, convertRows, toDuckDBValue } from './codec.js';
import { duckdbDialect } from './dialect.js';
import { toSqlError } from './errors.js';
import type { Connection } from './instance.js';
import { asS3Object, storageAccess } from './storage-access.js';

const TRANSACTION_CONTROL = /^\s*(BEGIN|START\s+TRANSACTION|COMMIT|END|ROLLBACK|ABORT)\b/i;

/** A `SqlEngine` on one connection. An interpolated S3Object is bound as its storage's URL (see storage-access.ts). */
export class DuckDBEngine implements SqlEngine {
  readonly dialect = duckdbDialect;

  constructor(readonly connection: Connection) {}

  run(statements: CompiledSql[], signal?: AbortSignal): Promise<Row[][]> {
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
        return results;
      } catch (e) {
        // Leave the connection clean for the next statement, whoever opened the transaction.
        await conn.raw.run('ROLLBACK').catch(() => undefined);
        if (signal?.aborted) throw aborted(signal, 'The statement');
        throw e;
      } finally {
        signal?.removeEventListener('abort', onAbort);
      }
    });
  }

  async #one(s: CompiledSql): Promise<Row[]> {
    const api = this.connection.db.api;
    try {
      let reader: DuckDBApi.DuckDBResultReader;
      if (s.params.length === 0) {
        reader = await this.connection.raw.runAndReadAll(s.text);
      } else {
        const values: DuckDBApi.DuckDBValue[] = [];
        const types: (DuckDBApi.DuckDBType | undefined)[] = [];
        for (const p of s.params) {
          const [v, t] = await this.#bind(p);
          values.push(v);
          types.push(t);
        }
        const prepared = await this.connection.raw.prepare(s.text);
        try {
          bindAll(api, prepared, values, types);
          reader = await prepared.runAndReadAll();
        } finally {
          prepared.destroySync();
        }
      }
      return convertRows(api, reader);
    } catch (e) {
      if (e instanceof MillraceError) throw e;
      throw toSqlError(e, s.text, s.params);
    }
  }

  async #bind(p: BoundParam): Promise<[DuckDBApi.DuckDBValue, DuckDBApi.DuckDBType | undefined]> {
    // An S3Object becomes its storage's URL, bound as a string, with the storage's secret in place.
    const record = p.explicit && /^json$/i.test(p.type) ? undefined : asS3Object(p.value);
    if (record) {
      const access = await storageAccess(this.connection.db, record.storage);
      const url = access.url(record.s3);
      // A local folder (the fs backend): DuckDB's COPY TO does not create the file's folder.
      if (isAbsolute(url)) await mkdir(dirname(url), { recursive: true });
      return [url, this.connection.db.api.VARCHAR];
    }
    // An explicit `::type` is DuckDB's cast of the value bound with its inferred type.
    return toDuckDBValue(this.connection.db.api, p.value, p.explicit ? inferSqlType(p.value) : p.type);
  }
}

/** Binds each value with node-api's direct binders for the common scalar types (no Value objects built), else bindValue. */
