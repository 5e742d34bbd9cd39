-- Ingest: the source table store_sales, a Parquet file in S3 given as an S3Object.
CREATE OR REPLACE TABLE store_sales AS SELECT * FROM read_parquet(${source});
