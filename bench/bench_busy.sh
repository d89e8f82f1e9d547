#!/bin/sh
# A busy office catching up: the backlog's catch-up with both desks busy
# against the same with nobody at them, and the desk's latency meanwhile
# (see bench/bench_busy.py).  Called by bench/run.sh with its temporary
# directory as $1; BENCH_BUSY_ENTRIES changes the backlog (default 20,000).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
tmp=${1:?usage: bench_busy.sh TMPDIR}
make --no-print-directory -s bench-bins
python3 bench/bench_busy.py "$tmp" "${BENCH_BUSY_ENTRIES:-20000}"
