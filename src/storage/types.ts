/**
 * The one interface every storage backend implements (after Rust's `object_store`).
 * Callers never learn which backend they hold. Keys arrive validated.
 */
export type ObjectMeta = {
  key: string;
  size: number;
  etag?: string;
  lastModified?: Date;
  contentType?: string;
  contentDisposition?: string;
};

/** What `put` receives: whole bytes when the size is known and small, otherwise a stream of chunks. */
export type PutBody = { bytes: Uint8Array } | { stream: AsyncIterable<Uint8Array> };

export type PutOptions = {
  contentType?: string;
  contentDisposition?: string;
  signal?: AbortSignal;
  /** Called with the bytes sent so far. */
  onProgress?: (bytesSent: number) => void;
};

/** What a server-side copy may change on the way; unset fields keep the source's. */
export type CopyOptions = {
  contentType?: string;
  contentDisposition?: string;
  signal?: AbortSignal;
};

export type GetOptions = {
  /** Byte range, `end` exclusive. */
  range?: { start: number; end: number };
  /** Read only this version (an etag from `head`): `PreconditionFailed` when the object changed. */
  ifMatch?: string;
  signal?: AbortSignal;
};

/** A read's chunks; `size` is the byte count when the store announced it before the body. */
export type ObjectBody = AsyncIterable<Uint8Array> & { readonly size?: number };

export type ListPage = { items: ObjectMeta[]; next?: string };

/** How DuckDB reaches this storage: the URL of a key and the secret that unlocks it. */
export type DuckDBAccess = {
  url(key: string): string;
  /** DuckDB extensions that reach this storage (e.g. `httpfs`), loaded before the secret is made. */
  extensions?: string[];
  /** `CREATE SECRET` options (without the name), or undefined when none is needed. */
  secret?: { type: string; scope: string; options: Record<string, string | boolean> };
};

export interface Storage {
  /**
   * Where the objects physically live (`fs:<real root>`, `s3:<endpoint>/<bucket>`,
   * `azure:<account URL>/<container>`): two storage names with one location are aliases, and a
   * key names the same object in both.
   */
  readonly location: string;
  /**
   * Reads an object (or a range of it) as chunks; throws `NotFound` when missing. Iterate it once;
   * stopping early releases the connection. A body shorter than announced fails, never ends short.
   */
  get(key: string, opts?: GetOptions): Promise<ObjectBody>;
  /** Metadata, or undefined when the key does not exist. */
  head(key: string): Promise<ObjectMeta | undefined>;
  /** Writes atomically: on failure nothing is left at the key (nor any unfinished upload). */
  put(key: string, body: PutBody, opts?: PutOptions): Promise<void>;
  /** Deletes; deleting a missing key is not an error. */
  delete(key: string): Promise<void>;
  /** One page of keys under `prefix`, in key order, strictly after `after`. */
  list(prefix: string, after: string | undefined, pageSize: number): Promise<ListPage>;
  /** Server-side copy within this storage; throws `NotFound` when `src` is missing. */
  copy(src: string, dst: string, opts?: CopyOptions): Promise<void>;
  /** A URL anyone can GET for `expirySecs`; throws `Unsupported` where the backend cannot sign. */
  presign(key: string, expirySecs: number): Promise<string>;
  duckdb(): DuckDBAccess;
  close(): Promise<void>;
}
