/**
 * millrace: windmill-client's data API, running directly against your own storage and databases.
 * This file is the list of everything public.
 */
import * as files from './entries/s3.js';
import * as sql from './entries/sql.js';
import { getConfig } from './config.js';

export * from './entries/s3.js';
export * from './entries/sql.js';
export { type MillraceConfig, type ResolvedConfig, getConfig } from './config.js';

const millrace = { ...files, ...sql, getConfig };
export default millrace;
