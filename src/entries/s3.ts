/** `millrace/s3`: files only. Loads no SQL engine. */
export {
  loadS3File,
  loadS3FileStream,
  writeS3File,
  deleteS3File,
  statS3File,
  listS3Files,
  copyS3File,
  moveS3File,
  signS3Object,
  signS3Objects,
  getPresignedS3PublicUrl,
  getPresignedS3PublicUrls,
  type FileContent,
  type FileOptions,
  type LoadOptions,
  type WriteOptions,
  type ListOptions,
  type SignOptions,
  type S3FileInfo,
} from '../files.js';
export { parseS3Object, formatS3Object, isS3Object, type S3Object, type S3ObjectRecord, type S3ObjectURI } from '../s3object.js';
export { configure, type MillraceConfig, type StorageConfig, type S3StorageConfig, type AzureBlobStorageConfig, type FsStorageConfig } from '../config.js';
export { MillraceError, SqlError, isMillraceError, type ErrorCode } from '../errors.js';
export { close } from '../runtime.js';
