-- Ingest: the source table store, a Parquet file in S3 given as an S3Object.
CREATE OR REPLACE TABLE store AS SELECT * FROM read_parquet(${source});
