/** `millrace/sql`: datatable() and ducklake(). Engines load on first use. */
export { datatable, type DatatableOptions } from '../sql/datatable.js';
export { ducklake } from '../sql/ducklake.js';
export { upsertPartition, appendPartition, type DucklakeMaterializeOptions } from '../sql/materialize.js';
export { RawSql, Identifier } from '../sql/template.js';
export type {
  SqlStatement,
  SqlTemplateFunction,
  DatatableSqlTemplateFunction,
  ResultCollection,
  SqlResult,
  FetchParams,
  Row,
} from '../sql/statement.js';
export { configure, type MillraceConfig, type PostgresConfig, type CatalogConfig, type DucklakeConfig, type DuckDBConfig } from '../config.js';
export { MillraceError, SqlError, isMillraceError, type ErrorCode } from '../errors.js';
export { close } from '../runtime.js';
export { runDuckDBScript, duckdbScriptArgs, type DuckDBScriptArg, type DuckDBScriptOptions } from '../sql/script.js';
