-- Ingest: the source table web_site, a Parquet file in S3 given as an S3Object.
CREATE OR REPLACE TABLE web_site AS SELECT * FROM read_parquet(${source});
