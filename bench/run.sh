#!/bin/sh
# Runs the benchmarks on SQLite and PostgreSQL (about 5 minutes on 2 cores).
# PostgreSQL: a database is created for each run and dropped after, on the server of
# $TEST_DATABASE_URL (default postgresql://postgres@127.0.0.1:5432/test).
# The interpreter is the checkout's .venv, or $BENCH_PYTHON (one with Forumbot's dependencies);
# either way the bot measured is this checkout's code.
set -e
cd "$(dirname "$0")/.."
python=${BENCH_PYTHON:-.venv/bin/python}
for database in sqlite postgresql; do
    "$python" bench/latency.py --database "$database"
done
for database in sqlite postgresql; do
    "$python" bench/fanout.py --database "$database"
done
for database in sqlite postgresql; do
    "$python" bench/reminder.py --database "$database"
done
for database in sqlite postgresql; do
    "$python" bench/poll.py --database "$database"
done
for database in sqlite postgresql; do
    "$python" bench/followup.py --database "$database"
done
