-- Ingest: the source table customer_address, a Parquet file in S3 given as an S3Object.
CREATE OR REPLACE TABLE customer_address AS SELECT * FROM read_parquet(${source});
