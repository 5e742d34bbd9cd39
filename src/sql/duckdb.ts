/**
 * The DuckDB driver: one in-memory DuckDB instance per process, extensions, storage secrets,
 * and a `SqlEngine` per connection that binds parameters with explicit DuckDB types and
 * turns results into plain rows. `@duckdb/node-api` is imported on first use only.
 */
import type * as DuckDBApi from '@duckdb/node-api';
import { mkdir } from 'node:fs/promises';
import { dirname, isAbsolute } from 'node:path';
import { getConfig, onConfigChange } from '../config.js';
import { aborted, MillraceError, SqlError, errorMessage, sanitizedCause, scrub } from '../errors.js';
import { importBackend } from '../lazy.js';
import { onClose } from '../lifecycle.js';
import { parseS3Object, type S3Object, type S3ObjectRecord } from '../s3object.js';
import { getStorage, storageConfig, type DuckDBAccess } from '../storage/index.js';
import type { BoundParam, CompiledSql } from './template.js';
import { duckdbDialect, inferSqlType, scrubParams } from './template.js';
import type { Row, SqlEngine } from './statement.js';

type Api = typeof DuckDBApi;

/** DuckDB's canonical extension names for what millrace loads. */
export type ExtensionName = 'ducklake' | 'httpfs' | 'azure' | 'aws' | 'postgres_scanner' | 'sqlite_scanner';

/** The process-wide DuckDB: created on first use, closed by `close()` or a config change. */
export class DuckDB {
  readonly #extensions = new Map<string, Promise<void>>();
  readonly #secrets = new Map<string, Promise<DuckDBAccess>>();
  readonly #admin: Connection;
  #closed = false;

  private constructor(
    readonly api: Api,
    readonly instance: DuckDBApi.DuckDBInstance,
    readonly extensionDirectory: string | undefined,
    admin: DuckDBApi.DuckDBConnection,
  ) {
    this.#admin = new Connection(this, admin);
  }

  static async create(): Promise<DuckDB> {
    const api = await importBackend<Api>('@duckdb/node-api');
    const { duckdb } = getConfig();
    const options: Record<string, string> = {};
    if (duckdb.extensionDirectory) {
      // A local folder means no network: never download, but let extensions autoload from it.
      options.extension_directory = duckdb.extensionDirectory;
      options.autoinstall_known_extensions = 'false';
      options.autoload_known_extensions = 'true';
    }
    const instance = await api.DuckDBInstance.create(':memory:', options);
    const db = new DuckDB(api, instance, duckdb.extensionDirectory, await instance.connect());
    return db;
  }

  get closed(): boolean {
    return this.#closed;
  }

  async connect(): Promise<Connection> {
    return new Connection(this, await this.instance.connect());
  }

  /** Runs setup SQL on a private connection; errors are sanitized but keep DuckDB's message. */
  admin(text: string): Promise<Row[]> {
    return this.#admin.exec(text);
  }

  /** Loads an extension once: from `duckdb.extensionDirectory` when set, else DuckDB's INSTALL. */
  loadExtension(name: ExtensionName): Promise<void> {
    let p = this.#extensions.get(name);
    if (!p) {
      p = (async () => {
        try {
          if (!this.extensionDirectory) await this.#admin.exec(`INSTALL ${name}`);
          await this.#admin.exec(`LOAD ${name}`);
        } catch (e) {
          throw extensionMissing(name, this.extensionDirectory, e);
        }
      })();
      p.catch(() => this.#extensions.delete(name));
      this.#extensions.set(name, p);
    }
    return p;
  }

  /** Applies `duckdb.settings` (after the extensions that define them are loaded). */
  async applySettings(settings: Record<string, string | number | boolean> | undefined): Promise<void> {
    for (const [k, v] of Object.entries(settings ?? {})) {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) throw new MillraceError('Config', `duckdb.settings.${k}: not a DuckDB setting name`);
      try {
        await this.#admin.exec(`SET ${k} = ${sqlLiteral(v)}`);
      } catch (e) {
        throw new MillraceError('Config', `duckdb.settings.${k}: ${scrub(errorMessage(e))}`, { cause: sanitizedCause(e) });
      }
    }
  }

  /**
   * How DuckDB reaches a storage: loads the extensions its backend names and creates its secret once.
   * `selector` is a secondary storage name, or undefined for the default storage.
   */
  storageAccess(storage: string | undefined): Promise<DuckDBAccess> {
    const { id } = storageConfig({ storage });
    let p = this.#secrets.get(id);
    if (!p) {
      p = (async () => {
        const access = (await getStorage({ storage })).duckdb();
        for (const extension of access.extensions ?? []) await this.loadExtension(extension as ExtensionName);
        if (access.secret) {
          const { type, scope, options } = access.secret;
          const name = `millrace_${id.replace(/[^A-Za-z0-9_]/g, '_')}`;
          const parts = [`TYPE ${identifierOnly(type)}`, `SCOPE ${sqlLiteral(scope)}`];
          for (const [k, v] of Object.entries(options)) parts.push(`${identifierOnly(k)} ${sqlLiteral(v)}`);
          try {
            await this.#admin.exec(`CREATE OR REPLACE TEMPORARY SECRET ${name} (${parts.join(', ')})`);
          } catch (e) {
            // The statement holds keys: never let it, or DuckDB's echo of it, into the error.
            const clean = (text: string) => scrub(text, Object.values(options));
            throw new MillraceError('Config', `Cannot set up DuckDB access to storage ${id}: ${clean(errorMessage(e))}`, { cause: sanitizedCause(e, clean) });
          }
        }
        return access;
      })();
      p.catch(() => this.#secrets.delete(id));
      this.#secrets.set(id, p);
    }
    return p;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#admin.close();
    this.instance.closeSync();
  }
}

let shared: Promise<DuckDB> | undefined;
const closeHooks = new Set<() => void>();

/** The process's DuckDB instance, created on first use. */
export function getDuckDB(): Promise<DuckDB> {
  if (!shared) {
    shared = DuckDB.create();
    shared.catch(() => (shared = undefined));
  }
  return shared;
}

/** Modules that cache things tied to the instance (attached lakes, connections) drop them here. */
export function onDuckDBClose(hook: () => void): void {
  closeHooks.add(hook);
}

async function closeDuckDB(): Promise<void> {
  const p = shared;
  shared = undefined;
  for (const hook of closeHooks) hook();
  if (!p) return;
  try {
    (await p).close();
  } catch {
    // It never opened: nothing to release.
  }
}

onClose(closeDuckDB);
onConfigChange(closeDuckDB);

/** One DuckDB connection; statements on it run one at a time, in call order. */
export class Connection {
  #queue: Promise<unknown> = Promise.resolve();

  constructor(
    readonly db: DuckDB,
    readonly raw: DuckDBApi.DuckDBConnection,
  ) {}

  /** Serializes work on this connection: DuckDB connections are not safe for concurrent statements. */
  serial<T>(work: () => Promise<T>): Promise<T> {
    const next = this.#queue.then(work, work);
    this.#queue = next.catch(() => undefined);
    return next;
  }

  /** Unparameterized SQL (setup statements), serialized. Errors are SqlErrors without secrets. */
  exec(text: string): Promise<Row[]> {
    return this.serial(async () => {
      try {
        const reader = await this.raw.runAndReadAll(text);
        return convertRows(this.db.api, reader);
      } catch (e) {
        throw toSqlError(e, text);
      }
    });
  }

  close(): void {
    try {
      this.raw.closeSync();
    } catch {
      // Already closed with the instance.
    }
  }
}

const TRANSACTION_CONTROL = /^\s*(BEGIN|START\s+TRANSACTION|COMMIT|END|ROLLBACK|ABORT)\b/i;

/**
 * A `SqlEngine` on one connection. `resolve` turns an interpolated S3Object into its storage
 * URL (setting up the storage's secret first).
 */
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
      const access = await this.connection.db.storageAccess(record.storage);
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
function bindAll(api: Api, prepared: DuckDBApi.DuckDBPreparedStatement, values: DuckDBApi.DuckDBValue[], types: (DuckDBApi.DuckDBType | undefined)[]): void {
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
 * The S3Object an interpolated value is: the record form, or a URI naming a storage millrace
 * manages (`s3:///key`, `s3://<secondary storage>/key`). Any other string, a real
 * `s3://bucket/key` included, is an ordinary string.
 */
function asS3Object(v: unknown): S3ObjectRecord | undefined {
  if (typeof v === 'string') {
    if (!v.startsWith('s3://')) return undefined;
    let record: S3ObjectRecord;
    try {
      record = parseS3Object(v as S3Object);
    } catch {
      return undefined;
    }
    return record.storage === undefined || Object.hasOwn(getConfig().secondaryStorage, record.storage) ? record : undefined;
  }
  return isS3ObjectRecord(v) ? parseS3Object(v) : undefined;
}

function isS3ObjectRecord(v: unknown): v is S3ObjectRecord {
  if (v === null || typeof v !== 'object' || Array.isArray(v) || v instanceof Date || v instanceof Uint8Array) return false;
  const keys = Object.keys(v);
  return typeof (v as { s3?: unknown }).s3 === 'string' && keys.every((k) => k === 's3' || k === 'storage' || k === 'presigned');
}

/**
 * JS value -> DuckDB value and type. The type is the shared compiler's (`BoundParam.type`, the
 * same inference as on PostgreSQL) mapped to DuckDB's names: BIGINT, DOUBLE, VARCHAR,
 * TIMESTAMPTZ, BOOLEAN, BLOB, JSON, and LISTs of them. null/undefined bind as an untyped NULL.
 * An explicit `::type` in the SQL casts the value bound with its inferred type.
 */
export function toDuckDBValue(api: Api, v: unknown, type: string = inferSqlType(v)): [DuckDBApi.DuckDBValue, DuckDBApi.DuckDBType | undefined] {
  if (v === null || v === undefined) return [null, undefined];
  if (type.endsWith('[]') && Array.isArray(v)) {
    const elementType = type.slice(0, -2);
    const items = v.map((x) => (x === null || x === undefined ? null : duckdbScalar(api, x, elementType)[0]));
    return [api.listValue(items), api.LIST(duckdbScalar(api, null, elementType)[1])];
  }
  return duckdbScalar(api, v, type);
}

function duckdbScalar(api: Api, v: unknown, type: string): [DuckDBApi.DuckDBValue, DuckDBApi.DuckDBType] {
  switch (type) {
    case 'BIGINT': {
      if (v === null) return [null, api.BIGINT];
      const n = typeof v === 'bigint' ? v : BigInt(v as number);
      if (n > 0x7fffffffffffffffn || n < -0x8000000000000000n) {
        throw new MillraceError('InvalidArgument', 'An integer parameter is outside the BIGINT range; pass it as a string with ::HUGEINT');
      }
      return [n, api.BIGINT];
    }
    case 'DOUBLE PRECISION':
      return [v === null ? null : Number(v), api.DOUBLE];
    case 'TEXT':
      return [v === null ? null : String(v), api.VARCHAR];
    case 'BOOLEAN':
      return [v as boolean | null, api.BOOLEAN];
    case 'TIMESTAMPTZ': {
      if (v === null) return [null, api.TIMESTAMPTZ];
      const ms = (v as Date).getTime();
      if (Number.isNaN(ms)) throw new MillraceError('InvalidArgument', 'An Invalid Date cannot be bound as a SQL parameter');
      return [new api.DuckDBTimestampTZValue(BigInt(ms) * 1000n), api.TIMESTAMPTZ];
    }
    case 'BYTEA':
      return [v === null ? null : api.blobValue(v as Uint8Array), api.BLOB];
    default: // JSON
      return [v === null ? null : JSON.stringify(v), jsonType(api)];
  }
}

let converter: DuckDBApi.DuckDBValueConverter<unknown> | undefined;

/** Result rows as plain objects; the JS type of each DuckDB type is documented in the README (DuckLake: result types). */
export function convertRows(api: Api, reader: DuckDBApi.DuckDBResultReader): Row[] {
  converter ??= makeConverter(api);
  const c = converter;
  // The result's column types keep aliases (JSON); the chunks' vector types do not, so convert by column.
  const names = reader.deduplicatedColumnNames();
  const types = reader.columnTypes();
  return reader.getRows().map((values) => {
    const row: Row = {};
    for (let i = 0; i < names.length; i++) row[names[i]!] = c(values[i] ?? null, types[i]!, c);
    return row;
  });
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
        out[name] = c(entries[name] ?? null, st.entryTypes[i]!, c);
      }
      return out;
    },
    [T.MAP]: (v, t, c) => {
      const mt = t as DuckDBApi.DuckDBMapType;
      const out: Record<string, unknown> = {};
      for (const e of (v as DuckDBApi.DuckDBMapValue).entries) out[String(c(e.key, mt.keyType, c))] = c(e.value, mt.valueType, c);
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

/** A SQL string literal: quotes doubled; NUL is refused (DuckDB would cut the string there). */
export function sqlLiteral(v: string | number | boolean): string {
  if (typeof v === 'boolean' || typeof v === 'number') return String(v);
  if (v.includes('\0')) throw new MillraceError('InvalidArgument', 'A NUL character cannot appear in a DuckDB setting or secret');
  return `'${v.replace(/'/g, "''")}'`;
}

function identifierOnly(s: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(s)) throw new MillraceError('InvalidArgument', `Not a DuckDB option name: ${JSON.stringify(s)}`);
  return s;
}

/**
 * A DuckDB error as a typed SqlError: the statement text (no values), DuckDB's error type as
 * sqlState. Secrets and the statement's parameter values (DuckDB quotes what it cannot convert)
 * are scrubbed from the message and the cause.
 */
export function toSqlError(e: unknown, sql: string, params: readonly BoundParam[] = []): MillraceError {
  if (e instanceof MillraceError) return e;
  const clean = (text: string) => scrubParams(scrub(text), params);
  const message = clean(errorMessage(e));
  const missing = /Extension "?([A-Za-z0-9_]+)"? (?:not found|is not loaded)|Failed to (?:download|install) extension "?([A-Za-z0-9_]+)/i.exec(message);
  if (missing) return extensionMissing((missing[1] ?? missing[2])!, getConfig().duckdb.extensionDirectory, e);
  const type = /^([A-Za-z ]+) Error:/.exec(message)?.[1];
  const code = /^(IO|Connection) Error:.*(connect|timeout|refused|resolve)/is.test(message) ? 'Connection' : 'Sql';
  const cause = sanitizedCause(e, clean) as Error & { code?: string };
  if (type !== undefined && cause.code === undefined) cause.code = type;
  return new SqlError(message, { sql: scrub(sql), sqlState: type, engine: 'duckdb', code, cause });
}

export function extensionMissing(name: string, dir: string | undefined, cause: unknown): MillraceError {
  const where = dir
    ? `it is not in duckdb.extensionDirectory (${dir}); run \`npx millrace-duckdb-extensions --dir ${dir}\` to provision it there`
    : 'DuckDB could not install it (no network?); run `npx millrace-duckdb-extensions`, which provisions <MILLRACE_HOME>/duckdb-extensions (used with no config)';
  return new MillraceError('ExtensionMissing', `DuckDB extension "${name}" is not available: ${where}`, { cause: sanitizedCause(cause) });
}

/** DuckDB's JSON type is VARCHAR with the alias JSON. */
function jsonType(api: Api): DuckDBApi.DuckDBType {
  return api.DuckDBVarCharType.create('JSON');
}
