#!/bin/sh
# Replication throughput, wire bytes, backlog drain and hub memory (see
# bench/bench_sync.py).  Called by bench/run.sh with its temporary directory
# as $1; BENCH_SYNC_ENTRIES changes the backlog size (default 50,000).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
tmp=${1:?usage: bench_sync.sh TMPDIR}
make --no-print-directory -s bench-bins
python3 bench/bench_sync.py "$tmp" "${BENCH_SYNC_ENTRIES:-50000}"
