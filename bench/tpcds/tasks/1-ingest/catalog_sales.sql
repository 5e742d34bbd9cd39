-- Ingest: the source table catalog_sales, a Parquet file in S3 given as an S3Object.
CREATE OR REPLACE TABLE catalog_sales AS SELECT * FROM read_parquet(${source});
