#!/bin/sh
# A tour of the millrace CLI on the embedded default: a local folder as the storage, an embedded
# PostgreSQL as the data table and a DuckDB-file DuckLake, all under ./.millrace. In an empty folder:
#
#   npm i millrace
#   npx millrace extensions          # once: the DuckDB extensions ducklake() needs
#   PATH="$PWD/node_modules/.bin:$PATH" sh node_modules/millrace/examples/cli-walkthrough.sh
set -eu

# Is everything reachable? One line per check; exit code 1 if anything fails.
millrace doctor

# Files: upload, list, look inside.
printf 'name,age\nada,36\nbob,41\ncy,29\n' > people.csv
millrace cp people.csv s3:///inputs/people.csv
millrace ls -l s3:///inputs/
millrace preview s3:///inputs/people.csv

# A Windmill DuckDB script: `-- $name (type)` declares an argument, `$name` binds it.
cat > load_people.sql <<'SQL'
-- $file (s3object)
-- $min_age (bigint) = 30
CREATE OR REPLACE TABLE people AS SELECT * FROM read_csv($file);
SELECT name, age FROM people WHERE age >= $min_age ORDER BY name;
SQL
millrace run load_people.sql --arg file=s3:///inputs/people.csv --arg min_age=35

# SQL on the lake and on the data table; --json and --csv for scripts.
millrace sql --lake main --json "SELECT count(*) AS people FROM people"
millrace sql "CREATE TABLE IF NOT EXISTS friend (id text PRIMARY KEY, name text); INSERT INTO friend VALUES ('u1', 'Robin') ON CONFLICT DO NOTHING"
millrace sql --csv "SELECT * FROM friend"

# Copy out, then clean up.
millrace cp s3:///inputs/people.csv - | head -2
millrace rm --recursive --yes s3:///inputs/
millrace ls s3:///inputs/
