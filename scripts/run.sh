#!/bin/sh
# `make run`: start a hub and an office node enrolled to it, with demo data
# kept in ./data between runs, and print their URLs.  Ctrl-C stops both.
#
# The first run creates the hub (demo Local Area and offices, a self-signed
# certificate, an admin token) and enrolls the node for the demo office with
# a one-time code; later runs reuse both.  A node that ran stand-alone
# before (./data/node from an older `make run`) is enrolled as it is: its
# waiting changes are pushed.
#
#   OUTPOST_DATA         data directory (default ./data): hub/, node/, *.log
#   OUTPOST_HUB_LISTEN   hub address (default 127.0.0.1:8443)
#   OUTPOST_NODE_LISTEN  node address (default 127.0.0.1:8080; 0.0.0.0:8080
#                        opens the node to the office LAN)
#   OUTPOST_OFFICE       office the node is enrolled for (default demo-office)
#   OUTPOST_RUN_BIN      where the binaries are (default ./bin; tests use their build)
set -eu
# Data, keys and logs are for this user only (0700 folders, 0600 files).
umask 077
top=$(cd "$(dirname "$0")/.." && pwd)
bin="${OUTPOST_RUN_BIN:-$top/bin}"
data="${OUTPOST_DATA:-$top/data}"
hub_listen="${OUTPOST_HUB_LISTEN:-127.0.0.1:8443}"
node_listen="${OUTPOST_NODE_LISTEN:-127.0.0.1:8080}"
office="${OUTPOST_OFFICE:-demo-office}"

# Addresses to open: a wildcard listen address is reached on loopback here.
local_addr() {
	case "$1" in
	0.0.0.0:*) echo "127.0.0.1:${1#0.0.0.0:}" ;;
	*) echo "$1" ;;
	esac
}
hub_url="https://$(local_addr "$hub_listen")"
node_url="http://$(local_addr "$node_listen")"

# Another `make run` (or anything else) on our addresses would answer our
# readiness checks: refuse to start beside it.
for addr in "$hub_url" "$node_url"; do
	if curl -fsk -o /dev/null --max-time 2 "$addr/healthz" 2>/dev/null; then
		echo "outpost: something already answers at $addr (another make run?); stop it or set" \
			"OUTPOST_HUB_LISTEN / OUTPOST_NODE_LISTEN" >&2
		exit 1
	fi
done

mkdir -p "$data/hub" "$data/node"

hub_pid=""
node_pid=""
cleanup() {
	trap - INT TERM EXIT
	[ -n "$node_pid" ] && kill "$node_pid" 2>/dev/null || true
	[ -n "$node_pid" ] && wait "$node_pid" 2>/dev/null || true
	[ -n "$hub_pid" ] && kill "$hub_pid" 2>/dev/null || true
	wait 2>/dev/null || true
	echo "outpost: stopped (data kept in $data)"
}
on_signal() {
	cleanup
	exit 0
}
trap on_signal INT TERM
trap cleanup EXIT

# wait_up NAME PID URL LOG [curl options]
wait_up() {
	name=$1 pid=$2 url=$3 log=$4
	shift 4
	i=0
	until curl -fs "$@" "$url/healthz" >/dev/null 2>&1; do
		i=$((i + 1))
		if [ $i -gt 150 ] || ! kill -0 "$pid" 2>/dev/null; then
			echo "outpost: the $name did not start; the end of $log:" >&2
			tail -5 "$log" >&2
			exit 1
		fi
		sleep 0.1
	done
}

# The daemons get a session of their own, so that Ctrl-C reaches only this
# script, which then stops the node and the hub in order.
detach=""
command -v setsid >/dev/null 2>&1 && detach=setsid

# A hub created now does not know a node enrolled with an earlier one
# (./data/hub deleted on its own): that node is enrolled again.
new_hub=0
[ -f "$data/hub/hub.db" ] || new_hub=1

$detach "$bin/outpost-hub" --data "$data/hub" --listen "$hub_listen" --demo yes >>"$data/hub.log" 2>&1 &
hub_pid=$!
# The hub's certificate is self-signed; the node pins its key at enrollment.
wait_up hub "$hub_pid" "$hub_url" "$data/hub.log" -k

force=""
if [ -f "$data/node/sync.json" ] && [ $new_hub = 1 ]; then
	echo "outpost: the hub is new: enrolling the office node with it again"
	force=--force
fi
if [ ! -f "$data/node/sync.json" ] || [ -n "$force" ]; then
	# The code goes through a pipe, never on a command line (ps shows those).
	if ! "$bin/outpost-hub" enroll-code --data "$data/hub" --office "$office" 2>>"$data/hub.log" |
		"$bin/outpost-sync" enroll --hub "$hub_url" --code - --data "$data/node" \
		$force >>"$data/sync.log" 2>&1; then
		echo "outpost: cannot enroll the office node; see $data/sync.log" >&2
		tail -3 "$data/sync.log" >&2
		exit 1
	fi
	echo "outpost: enrolled the office node for '$office' with the hub"
fi

$detach "$bin/outpost-node" --data "$data/node" --listen "$node_listen" --demo yes --lan_http yes \
	>>"$data/node.log" 2>&1 &
node_pid=$!
wait_up "office node" "$node_pid" "$node_url" "$data/node.log"

if [ -s "$data/hub/operations.password" ]; then
	ops_hint="the one-time password $(cat "$data/hub/operations.password")
    (from $data/hub/operations.password; you choose your own at the first sign-in)"
else
	ops_hint="your password (lost it? bin/outpost-hub reset-operations --data $data/hub)"
fi
cat <<EOT

  Outpost is running: a hub and an office node ('$office') that syncs with it.

    Hub console:    $hub_url/   (self-signed certificate; admin token in $data/hub/admin.token)
    Office node:    $node_url/
    Visitor kiosk:  $node_url/kiosk.html
    Front desk:     $node_url/desk.html
    Visits:         $node_url/visits.html
    Sync status:    $node_url/sync.html

  Office node: sign in as demo / Outpost.Demo24 (README, "Test login").
  Hub console: sign in as operations with $ops_hint
  Command line: bin/outpost-sync status --data $data/node
  Data: $data   Logs: $data/hub.log, $data/node.log
  Press Ctrl-C to stop both.

EOT
# Until Ctrl-C, or until either daemon exits.
while kill -0 "$hub_pid" 2>/dev/null && kill -0 "$node_pid" 2>/dev/null; do
	sleep 1
done
echo "outpost: a daemon exited; see $data/hub.log and $data/node.log" >&2
exit 1
