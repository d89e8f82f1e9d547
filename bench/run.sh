#!/bin/sh
# make bench: every benchmark prints figures as ratios against a reference
# measured in the same run.  Uses the release build in bin/.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
make --no-print-directory -s bench-bins
secs=${BENCH_SECONDS:-5}
tmp=$(mktemp -d)
trap 'for p in "$tmp"/*.pid; do [ -f "$p" ] && kill "$(cat "$p")" 2>/dev/null; done; rm -rf "$tmp"; true' EXIT

# The benchmarks check visitors in at machine speed from one address: the
# kiosk's pace per address (kiosk_checkins_per_minute) is off for them.
export OUTPOST_NODE_KIOSK_CHECKINS_PER_MINUTE=0
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
tport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
# HTTPS at the node: a P-256 key and certificate (made by a hub's first
# start, as the office CA would sign one) in the node's data directory.
mkdir -p "$tmp/certhub" "$tmp/node"
bin/outpost-hub --data "$tmp/certhub" --listen 127.0.0.1:$tport >"$tmp/certhub.log" 2>&1 &
echo $! >"$tmp/certhub.pid"
for i in $(seq 100); do [ -s "$tmp/certhub/hub.crt" ] && curl -fsk "https://127.0.0.1:$tport/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
kill "$(cat "$tmp/certhub.pid")"; rm -f "$tmp/certhub.pid"; sleep 0.5
cp "$tmp/certhub/hub.crt" "$tmp/node/node.crt"
cp "$tmp/certhub/hub.key" "$tmp/node/node.key"
bin/outpost-node --data "$tmp/node" --listen 127.0.0.1:$port --https-listen 127.0.0.1:$tport --demo yes >"$tmp/node.log" 2>&1 &
echo $! >"$tmp/node.pid"
for i in $(seq 100); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
# Node logins: sign in as the demo staff member (README, "Test login").
OUTPOST_BENCH_COOKIE=$(curl -fs -D - -o /dev/null -H 'Content-Type: application/json' \
	-d '{"username":"demo","password":"Outpost.Demo24"}' "http://127.0.0.1:$port/api/v1/session" |
	sed -n 's/^[Ss]et-[Cc]ookie: \(outpost_session=[0-9a-f]*\).*/\1/p')
export OUTPOST_BENCH_COOKIE
sleep 1 # settle before reading idle memory
build/rel/bench/bench_node "$port" "$(cat "$tmp/node.pid")" "$tmp" "$secs" "$tport"
kill "$(cat "$tmp/node.pid")"; rm -f "$tmp/node.pid"

for b in bench/bench_*.sh; do
	[ -f "$b" ] || continue
	sh "$b" "$tmp"
done
