#!/bin/sh
# Run every test suite and print one closing line "N passed, N failed".
#
#   tests/run.sh BUILD_DIR     (BUILD_DIR/bin holds the daemons, BUILD_DIR/tests
#                               the unit-test binaries)
# OUTPOST_ONLY=unit|integration|browser runs one suite; OUTPOST_LONG=1 adds the
# long convergence and soak runs; OUTPOST_JOBS=N (default 3) runs N unit
# binaries and N integration modules at a time (the unit binaries beside the
# integration modules); OUTPOST_UNIT_TIMEOUT (seconds, default 1500, 7500
# with OUTPOST_LONG) ends a unit binary still running.  Logs go to tests/out/;
# tests/out/times.txt lists how long each part took.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)

# One unit-test binary (run by xargs below): its TAP log and exit status.
if [ "${1:-}" = --unit-one ]; then
	t=$2
	log="$OUTPOST_TEST_OUT/unit-$(basename "$t").log"
	s0=$(date +%s)
	(cd "$OUTPOST_TEST_OUT" && CMOCKA_MESSAGE_OUTPUT=TAP timeout "${OUTPOST_UNIT_TIMEOUT:-1500}" "$t") >"$log" 2>&1
	echo "$? $(($(date +%s) - s0))" >"$log.rc"
	exit 0
fi
build=${1:-build/san}
case "$build" in /*) ;; *) build="$top/$build" ;; esac
out="$top/tests/out"
rm -rf "$out"
mkdir -p "$out"
export OUTPOST_BIN="$build/bin" OUTPOST_TEST_OUT="$out"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
only=${OUTPOST_ONLY:-}
# A hang catcher above the limits the slow binaries set themselves
# (tu_watchdog: test_powerloss and test_pullfault 1200 s, 7200 s long), so
# that theirs, which know their need, are the ones that count: about 3
# minutes quiet, up to 9 with two other runs on 2 cores; under 600 s here
# they were cut short on a loaded machine (stops 45, 48).
if [ -n "${OUTPOST_LONG:-}" ]; then unit_limit=7500; else unit_limit=1500; fi
export OUTPOST_UNIT_TIMEOUT="${OUTPOST_UNIT_TIMEOUT:-$unit_limit}"
jobs=${OUTPOST_JOBS:-3}
pass=0
fail=0
t_start=$(date +%s)
t_last=$t_start
# stamp NAME: the seconds since the last stamp go to times.txt as the
# previous part's time
part=""
stamp() {
	now=$(date +%s)
	[ -n "$part" ] && echo "$((now - t_last)) suite $part" >>"$out/times.txt"
	part=$1
	t_last=$now
}

add() { pass=$((pass + $1)); fail=$((fail + $2)); }

# failures FILE: each FAIL/ERROR heading of a suite's log with the last lines
# of its indented report (the assertion), for the recap at the end: CI keeps
# only the tail of this script's output, and that must name what failed.
failures() {
	awk '
	function flush() { if (head != "") { print head; for (i = n - 3; i <= n; i++) if (i >= 1) print body[i] } head = ""; n = 0 }
	/^(FAIL|ERROR) / { flush(); head = $0; next }
	head != "" && /^  / { if ($0 !~ /^ +$/) body[++n] = substr($0, 1, 300); next }
	head != "" { flush() }
	END { flush() }' "$1" >>"$out/failed.txt"
}

# suite_result NAME RC: add the counts of $out/NAME.txt's closing line
# "NAME: N passed, N failed"; without one the runner failed (exit RC).
suite_result() {
	line=$(grep -E "^$1: [0-9]+ passed, [0-9]+ failed" "$out/$1.txt" | tail -1)
	if [ -n "$line" ]; then
		p=$(echo "$line" | sed -E "s/^$1: ([0-9]+) passed, ([0-9]+) failed.*/\\1/")
		f=$(echo "$line" | sed -E "s/^$1: ([0-9]+) passed, ([0-9]+) failed.*/\\2/")
		add "$p" "$f"
	else
		echo "FAIL $1 runner (exit $2), see $out/$1.txt"
		tail -20 "$out/$1.txt"
		echo "FAIL $1 runner (exit $2)" >>"$out/failed.txt"
		tail -4 "$out/$1.txt" >>"$out/failed.txt"
		add 0 1
	fi
	failures "$out/$1.txt"
}

# The unit binaries (the slowest first, OUTPOST_JOBS at a time) run in the
# background beside the integration tests; their results are read after.
unit_pid=""
if [ -z "$only" ] || [ "$only" = unit ]; then
	(
		s0=$(date +%s)
		for t in "$build"/tests/test_powerloss "$build"/tests/test_pullfault "$build"/tests/test_*; do
			[ -x "$t" ] && echo "$t"
		done | awk '!seen[$0]++' | xargs -n 1 -P "$jobs" sh "$top/tests/run.sh" --unit-one
		echo "$(($(date +%s) - s0)) suite unit (beside the integration tests)" >>"$out/times.txt"
	) &
	unit_pid=$!
	[ "$only" = unit ] && wait "$unit_pid"
fi

if [ -z "$only" ] || [ "$only" = integration ]; then
	echo "== integration tests"
	stamp integration
	python3 "$top/tests/integration/run.py" >"$out/integration.txt" 2>&1
	rc=$?
	grep -E '^(ok|FAIL|ERROR|SKIP|module|  )' "$out/integration.txt" | head -300
	suite_result integration $rc
fi

if [ -n "$unit_pid" ]; then
	echo "== unit tests"
	stamp unit-wait # how long the unit binaries ran on after the integration tests
	wait "$unit_pid"
	for t in "$build"/tests/test_*; do
		[ -x "$t" ] || continue
		name=$(basename "$t")
		log="$out/unit-$name.log"
		{ read rc secs <"$log.rc"; } 2>/dev/null || { rc=1; secs=0; }
		rm -f "$log.rc"
		echo "$secs unit $name" >>"$out/times.txt"
		p=$(grep -c '^ok ' "$log")
		f=$(grep -c '^not ok ' "$log")
		if [ $rc -ne 0 ] && [ "$f" -eq 0 ]; then
			f=1 # crashed, sanitizer report or timeout
		fi
		add "$p" "$f"
		if [ "$f" -ne 0 ]; then
			echo "FAIL $name (exit $rc), see $log"
			grep -E '^not ok|ERROR|Sanitizer|runtime error' "$log" | head -20
			{ echo "FAIL $name (exit $rc)"
			  grep -E '^not ok|ERROR|Sanitizer|runtime error' "$log" | head -4; } >>"$out/failed.txt"
		else
			echo "ok   $name: $p passed"
		fi
	done
fi

if [ -z "$only" ] || [ "$only" = browser ]; then
	echo "== browser tests"
	stamp browser
	(cd "$top/tests/browser" && node run.mjs) >"$out/browser.txt" 2>&1
	rc=$?
	grep -E '^(ok|FAIL|SKIP|  )' "$out/browser.txt" | head -100
	suite_result browser $rc
fi

# No secret may reach a log line: the tests plant known values (see
# tests/integration/harness.py SECRETS) and every log of the run is searched.
if [ -f "$out/planted-secrets.txt" ]; then
	leaks=$(grep -rFl -f "$out/planted-secrets.txt" "$out" --include='*.log' 2>/dev/null | head -5)
	if [ -n "$leaks" ]; then
		echo "FAIL secrets found in logs: $leaks"
		echo "FAIL secrets found in logs: $leaks" >>"$out/failed.txt"
		add 0 1
	else
		echo "ok   no planted secret in any log"
		add 1 0
	fi
fi

stamp end
echo "$(($(date +%s) - t_start)) total (tests only, the build before excluded)" >>"$out/times.txt"
if [ -s "$out/failed.txt" ]; then
	echo "== what failed (the whole reports are in $out)"
	head -60 "$out/failed.txt"
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
