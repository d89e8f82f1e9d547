#!/bin/sh
# make fuzz: build every fuzz/fuzz_*.c with libFuzzer (clang) and run each for
# $FUZZ_SECONDS (default 30) over its seed corpus in fuzz/corpus/<name>.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
secs=${FUZZ_SECONDS:-30}
out=build/fuzz
mkdir -p "$out"
flags="-g -O1 -fsanitize=fuzzer,address,undefined -I. -DOUTPOST_VERSION=\"fuzz\" \
-DSQLITE_ENABLE_SESSION -DSQLITE_ENABLE_PREUPDATE_HOOK $(pkg-config --cflags libuv libcjson)"
libs="$(pkg-config --libs libuv libcjson sqlite3 libcurl zlib) -lhttp_parser -lmbedtls -lmbedx509 -lmbedcrypto -lpthread -lm"
# the replication library (not the outpost-sync command), for fuzz_frame / fuzz_apply
sync_src=$(ls sync/*.c | grep -v '/tool_' || true)
status=0
for src in fuzz/fuzz_*.c; do
	name=$(basename "$src" .c)
	short=${name#fuzz_}
	echo "== $name"
	# shellcheck disable=SC2086
	clang $flags "$src" lib/*.c model/*.c $sync_src -o "$out/$name" $libs
	mkdir -p "fuzz/corpus/$short" "$out/corpus-$short"
	if ! "$out/$name" -close_fd_mask=2 -max_total_time="$secs" "$out/corpus-$short" "fuzz/corpus/$short"; then
		echo "FAIL $name: crash input saved in the current directory"
		status=1
	fi
done
exit $status
