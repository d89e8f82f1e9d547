#!/bin/sh
# CRM list and search latency over a statewide data set (50,000 employers,
# 200,000 contacts, 100,000 work items) in a node.db served by a release
# outpost-node.  Called by bench/run.sh with its temporary directory as $1.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
tmp=${1:?usage: bench_crm.sh TMPDIR}
dir="$tmp/crm-node"
rm -rf "$dir"
echo "== CRM (statewide data set)"
build/rel/bench/bench_crm gen "$dir"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
bin/outpost-node --data "$dir" --listen 127.0.0.1:$port --demo yes >"$tmp/crm-node.log" 2>&1 &
pid=$!
echo $pid >"$tmp/crm-node.pid"
for i in $(seq 200); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
# Node logins: sign in as the demo staff member (README, "Test login").
OUTPOST_BENCH_COOKIE=$(curl -fs -D - -o /dev/null -H 'Content-Type: application/json' \
	-d '{"username":"demo","password":"Outpost.Demo24"}' "http://127.0.0.1:$port/api/v1/session" |
	sed -n 's/^[Ss]et-[Cc]ookie: \(outpost_session=[0-9a-f]*\).*/\1/p')
export OUTPOST_BENCH_COOKIE
rc=0
build/rel/bench/bench_crm run "$port" "${BENCH_CRM_SECONDS:-2}" || rc=$?
kill "$pid"; rm -f "$tmp/crm-node.pid"
exit $rc
