#!/bin/sh
# The hub at state scale (see bench/bench_hub.c).  Called by bench/run.sh
# with its temporary directory as $1; BENCH_HUB_N, BENCH_HUB_PERIOD,
# BENCH_HUB_ROUNDS, BENCH_HUB_MAX, BENCH_HUB_BATCH change the run.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
tmp=${1:?usage: bench_hub.sh TMPDIR}
make --no-print-directory -s bench-bins
build/rel/bench/bench_hub "$tmp" 2>"$tmp/bench_hub.err" || { tail -20 "$tmp/bench_hub.err"; exit 1; }
