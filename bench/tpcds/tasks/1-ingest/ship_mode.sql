-- Ingest: the source table ship_mode, a Parquet file in S3 given as an S3Object.
CREATE OR REPLACE TABLE ship_mode AS SELECT * FROM read_parquet(${source});
