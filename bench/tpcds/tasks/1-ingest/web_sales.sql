-- Ingest: the source table web_sales, a Parquet file in S3 given as an S3Object.
CREATE OR REPLACE TABLE web_sales AS SELECT * FROM read_parquet(${source});
