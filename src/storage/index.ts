/** What the rest of millrace uses of storage: the client for a storage, its types, and feeding a web stream. */
export { getStorage, storageConfig, type StorageSelector } from './clients.js';
export type { Storage, ObjectBody, ObjectMeta, PutBody, PutOptions, GetOptions, ListPage, DuckDBAccess } from './types.js';
export { feed, type Feed, type StreamController } from './util.js';
export type { StorageConfig, S3StorageConfig, AzureBlobStorageConfig, FsStorageConfig } from './config.js';
