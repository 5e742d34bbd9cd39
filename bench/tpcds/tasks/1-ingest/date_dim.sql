-- Ingest: the source table date_dim, a Parquet file in S3 given as an S3Object.
CREATE OR REPLACE TABLE date_dim AS SELECT * FROM read_parquet(${source});
