#!/bin/sh
# Runs both benchmarks on SQLite and PostgreSQL (about 2½ minutes on 2 cores).
# PostgreSQL: a database is created for each run and dropped after, on the server of
# $TEST_DATABASE_URL (default postgresql://postgres@127.0.0.1:5432/test).
set -e
cd "$(dirname "$0")/.."
python=.venv/bin/python
for database in sqlite postgresql; do
    "$python" bench/latency.py --database "$database"
done
for database in sqlite postgresql; do
    "$python" bench/fanout.py --database "$database"
done
