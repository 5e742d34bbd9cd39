-- Ingest: the source table customer, a Parquet file in S3 given as an S3Object.
CREATE OR REPLACE TABLE customer AS SELECT * FROM read_parquet(${source});
