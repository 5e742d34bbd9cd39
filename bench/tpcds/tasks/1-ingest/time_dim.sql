-- Ingest: the source table time_dim, a Parquet file in S3 given as an S3Object.
CREATE OR REPLACE TABLE time_dim AS SELECT * FROM read_parquet(${source});
