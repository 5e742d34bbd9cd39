-- Ingest: the source table inventory, a Parquet file in S3 given as an S3Object.
CREATE OR REPLACE TABLE inventory AS SELECT * FROM read_parquet(${source});
