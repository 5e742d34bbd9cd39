-- Ingest: the source table customer_demographics, a Parquet file in S3 given as an S3Object.
CREATE OR REPLACE TABLE customer_demographics AS SELECT * FROM read_parquet(${source});
