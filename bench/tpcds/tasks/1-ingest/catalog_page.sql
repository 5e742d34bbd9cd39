-- Ingest: the source table catalog_page, a Parquet file in S3 given as an S3Object.
CREATE OR REPLACE TABLE catalog_page AS SELECT * FROM read_parquet(${source});
