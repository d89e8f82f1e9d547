#!/bin/sh
# `make run`: start a hub and an office node enrolled to it, with demo data,
# in ./data (kept between runs), and print the URLs.  Ctrl-C stops both.
#
#   OUTPOST_NODE_LISTEN  (default 127.0.0.1:8080; 0.0.0.0:8080 opens it to the LAN)
#   OUTPOST_HUB_LISTEN   (default 127.0.0.1:8443)
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
bin="$top/bin"
data="${OUTPOST_DATA:-$top/data}"
node_listen="${OUTPOST_NODE_LISTEN:-127.0.0.1:8080}"
hub_listen="${OUTPOST_HUB_LISTEN:-127.0.0.1:8443}"
mkdir -p "$data/hub" "$data/node"

pids=""
cleanup() {
	trap - INT TERM EXIT
	for p in $pids; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	echo "outpost: stopped (data kept in $data)"
}
trap cleanup INT TERM EXIT

wait_up() { # url
	i=0
	while [ $i -lt 100 ]; do
		if curl -fsk "$1/healthz" >/dev/null 2>&1; then
			return 0
		fi
		i=$((i + 1))
		sleep 0.1
	done
	echo "outpost: $1 did not come up; see $data/*.log" >&2
	return 1
}

"$bin/outpost-hub" --data "$data/hub" --listen "$hub_listen" >>"$data/hub.log" 2>&1 &
pids="$pids $!"
wait_up "https://$hub_listen"

if [ ! -f "$data/node/sync.json" ]; then
	code=$("$bin/outpost-hub" enroll-code --data "$data/hub" --office demo-office)
	"$bin/outpost-sync" enroll --hub "https://$hub_listen" --code "$code" --data "$data/node"
fi

"$bin/outpost-node" --data "$data/node" --listen "$node_listen" >>"$data/node.log" 2>&1 &
pids="$pids $!"
wait_up "http://$node_listen"

cat <<EOT

  Outpost is running.

  Office node (demo office):  http://$node_listen/
    Visitor kiosk:            http://$node_listen/kiosk.html
    Front desk:               http://$node_listen/desk.html
  Hub console:                https://$hub_listen/   (self-signed certificate)

  Data:  $data   Logs: $data/hub.log, $data/node.log
  Press Ctrl-C to stop.

EOT
if [ -f "$data/hub/admin-password.txt" ]; then
	echo "  Hub superuser's one-time password: see $data/hub/admin-password.txt"
fi
wait
