#!/bin/sh
# `make run`: start an office node with demo data in ./data/node (kept
# between runs) and print its URLs.  Ctrl-C stops it.
#
# When the hub supports enrollment (replication issue), this script also
# starts a hub and enrolls the node; until then the node runs stand-alone,
# which is exactly how an office works while its network is down.
#
#   OUTPOST_NODE_LISTEN  (default 127.0.0.1:8080; 0.0.0.0:8080 opens it to the LAN)
#   OUTPOST_DATA         (default ./data)
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
bin="$top/bin"
data="${OUTPOST_DATA:-$top/data}"
node_listen="${OUTPOST_NODE_LISTEN:-127.0.0.1:8080}"
mkdir -p "$data/node"

pid=""
cleanup() {
	trap - INT TERM EXIT
	[ -n "$pid" ] && kill "$pid" 2>/dev/null || true
	wait 2>/dev/null || true
	echo "outpost: stopped (data kept in $data)"
}
trap cleanup INT TERM EXIT

"$bin/outpost-node" --data "$data/node" --listen "$node_listen" >>"$data/node.log" 2>&1 &
pid=$!
i=0
until curl -fs "http://$node_listen/healthz" >/dev/null 2>&1; do
	i=$((i + 1))
	if [ $i -gt 100 ] || ! kill -0 "$pid" 2>/dev/null; then
		echo "outpost: the office node did not start; see $data/node.log" >&2
		tail -5 "$data/node.log" >&2
		exit 1
	fi
	sleep 0.1
done

cat <<EOT

  Outpost office node is running (demo office).

    Home:           http://$node_listen/
    Visitor kiosk:  http://$node_listen/kiosk.html
    Front desk:     http://$node_listen/desk.html
    Visits:         http://$node_listen/visits.html

  Sign in as demo / Outpost.Demo24 (README, "Test login").

  Data: $data/node   Log: $data/node.log
  Press Ctrl-C to stop.

EOT
wait "$pid"
