-- Ingest: the source table warehouse, a Parquet file in S3 given as an S3Object.
CREATE OR REPLACE TABLE warehouse AS SELECT * FROM read_parquet(${source});
