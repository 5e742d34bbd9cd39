-- Ingest: the source table web_page, a Parquet file in S3 given as an S3Object.
CREATE OR REPLACE TABLE web_page AS SELECT * FROM read_parquet(${source});
