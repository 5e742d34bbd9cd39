/**
 * The storage backends, one entry each: the config a backend takes and how to load it.
 * A backend is one file in this folder (its config type in config.ts) exporting `create(config, name): Promise<Storage>`;
 * adding one means adding that file and its entry here. Nothing heavy is imported until first use.
 */
import type { FieldType } from '../fields.js';
import type { AzureBlobStorageConfig, FsStorageConfig, S3StorageConfig } from './config.js';
import type { Storage } from './types.js';

export type { AzureBlobStorageConfig, FsStorageConfig, S3StorageConfig, StorageConfig } from './config.js';

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

export type StorageType = keyof typeof BACKENDS;
