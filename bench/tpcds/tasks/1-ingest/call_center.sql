-- Ingest: the source table call_center, a Parquet file in S3 given as an S3Object.
CREATE OR REPLACE TABLE call_center AS SELECT * FROM read_parquet(${source});
