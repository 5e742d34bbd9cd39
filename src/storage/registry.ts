/**
 * The storage backends, one entry each: the config a backend takes and how to load it.
 * A backend is one file in this folder exporting `create(config, name): Promise<Storage>`;
 * adding one means adding that file and its entry here. Nothing heavy is imported until first use.
 */
import type { Storage } from './types.js';

export type S3StorageConfig = {
  type: 's3';
  bucket: string;
  region?: string;
  /** Host (`s3.amazonaws.com`, `<account>.r2.cloudflarestorage.com`) or full URL. */
  endPoint?: string;
  port?: number;
  useSSL?: boolean;
  pathStyle?: boolean;
  accessKey?: string;
  secretKey?: string;
  token?: string;
};
export type AzureBlobStorageConfig = {
  type: 'azure_blob';
  accountName: string;
  containerName: string;
  accessKey?: string;
  useSSL?: boolean;
  /** Account URL, e.g. `http://127.0.0.1:10000/devstoreaccount1` for Azurite. */
  endpoint?: string;
  connectionString?: string;
  sasToken?: string;
};
export type FsStorageConfig = { type: 'fs'; root: string };

/** `path` is a string resolved to an absolute path when the config is read. */
export type FieldType = 'string' | 'number' | 'boolean' | 'path';
type Backend<C> = {
  required: { [K in keyof C]?: FieldType };
  optional: { [K in keyof C]?: FieldType };
  load: () => Promise<{ create(config: C, name: string): Promise<Storage> }>;
};

export const BACKENDS = {
  s3: {
    required: { bucket: 'string' },
    optional: { region: 'string', endPoint: 'string', port: 'number', useSSL: 'boolean', pathStyle: 'boolean', accessKey: 'string', secretKey: 'string', token: 'string' },
    load: () => import('./s3.js'),
  } satisfies Backend<S3StorageConfig>,
  azure_blob: {
    required: { accountName: 'string', containerName: 'string' },
    optional: { accessKey: 'string', useSSL: 'boolean', endpoint: 'string', connectionString: 'string', sasToken: 'string' },
    load: () => import('./azure.js'),
  } satisfies Backend<AzureBlobStorageConfig>,
  fs: {
    required: { root: 'path' },
    optional: {},
    load: () => import('./fs.js'),
  } satisfies Backend<FsStorageConfig>,
};

export type StorageConfig = S3StorageConfig | AzureBlobStorageConfig | FsStorageConfig;
export type StorageType = keyof typeof BACKENDS;
