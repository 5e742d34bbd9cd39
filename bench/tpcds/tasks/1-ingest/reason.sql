-- Ingest: the source table reason, a Parquet file in S3 given as an S3Object.
CREATE OR REPLACE TABLE reason AS SELECT * FROM read_parquet(${source});
