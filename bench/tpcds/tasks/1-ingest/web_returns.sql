-- Ingest: the source table web_returns, a Parquet file in S3 given as an S3Object.
CREATE OR REPLACE TABLE web_returns AS SELECT * FROM read_parquet(${source});
