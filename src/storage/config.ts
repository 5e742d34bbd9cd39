/** Each storage backend's config: what users write under `storage`, `secondaryStorage` and `resources`. */
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

export type StorageConfig = S3StorageConfig | AzureBlobStorageConfig | FsStorageConfig;
