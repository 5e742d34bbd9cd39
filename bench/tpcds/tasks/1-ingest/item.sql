-- Ingest: the source table item, a Parquet file in S3 given as an S3Object.
CREATE OR REPLACE TABLE item AS SELECT * FROM read_parquet(${source});
