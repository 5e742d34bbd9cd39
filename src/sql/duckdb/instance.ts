/**
 * The process's DuckDB: one in-memory instance, created on first use and closed by `close()` or a
 * config change; its extensions and settings, and connections that run one statement at a time.
 * `@duckdb/node-api` is imported on first use only.
 */
import type * as DuckDBApi from '@duckdb/node-api';
import { getConfig } from '../../config.js';
import { MillraceError, errorMessage, sanitizedCause, scrub } from '../../errors.js';
import { importBackend } from '../../lazy.js';
import { cache, Cache } from '../../runtime.js';
import type { DuckDBAccess } from '../../storage/index.js';
import type { Row } from '../engine.js';
import { convertRows } from './codec.js';
import { extensionMissing, toSqlError } from './errors.js';

type Api = typeof DuckDBApi;

/** DuckDB's canonical extension names for what millrace loads. */
export type ExtensionName = 'ducklake' | 'httpfs' | 'azure' | 'aws' | 'postgres_scanner' | 'sqlite_scanner';

export class DuckDB {
  readonly #extensions = new Cache<void>();
  /** Each storage's access (extensions loaded, secret created), set up once per instance; see storage-access.ts. */
  readonly storages = new Cache<DuckDBAccess>();
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
    return this.#extensions.get(name, async () => {
      try {
        if (!this.extensionDirectory) await this.#admin.exec(`INSTALL ${name}`);
        await this.#admin.exec(`LOAD ${name}`);
      } catch (e) {
        throw extensionMissing(name, this.extensionDirectory, e);
      }
    });
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

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#admin.close();
    this.instance.closeSync();
  }
}

const shared = cache<DuckDB>((db) => db.close());

/** The process's DuckDB instance, created on first use. */
export function getDuckDB(): Promise<DuckDB> {
  return shared.get('', () => DuckDB.create());
}

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

export function sqlLiteral(v: string | number | boolean): string {
  if (typeof v === 'boolean' || typeof v === 'number') return String(v);
  if (v.includes('\0')) throw new MillraceError('InvalidArgument', 'A NUL character cannot appear in a DuckDB setting or secret');
  return `'${v.replace(/'/g, "''")}'`;
}
