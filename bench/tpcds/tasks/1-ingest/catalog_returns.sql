-- Ingest: the source table catalog_returns, a Parquet file in S3 given as an S3Object.
CREATE OR REPLACE TABLE catalog_returns AS SELECT * FROM read_parquet(${source});
