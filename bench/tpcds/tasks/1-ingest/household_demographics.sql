-- Ingest: the source table household_demographics, a Parquet file in S3 given as an S3Object.
CREATE OR REPLACE TABLE household_demographics AS SELECT * FROM read_parquet(${source});
