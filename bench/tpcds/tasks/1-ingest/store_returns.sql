-- Ingest: the source table store_returns, a Parquet file in S3 given as an S3Object.
CREATE OR REPLACE TABLE store_returns AS SELECT * FROM read_parquet(${source});
