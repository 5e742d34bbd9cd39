-- Ingest: the source table income_band, a Parquet file in S3 given as an S3Object.
CREATE OR REPLACE TABLE income_band AS SELECT * FROM read_parquet(${source});
