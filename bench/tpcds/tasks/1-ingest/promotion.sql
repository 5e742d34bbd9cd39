-- Ingest: the source table promotion, a Parquet file in S3 given as an S3Object.
CREATE OR REPLACE TABLE promotion AS SELECT * FROM read_parquet(${source});
