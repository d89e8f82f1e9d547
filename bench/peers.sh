#!/bin/sh
# make bench-peers (not part of make test or make bench): Outpost's sync bench
# and the same backlog through pouchdb-server + PouchDB, side by side (see
# bench/peers.py).  PouchDB and pouchdb-server come from the npm
# registry into a folder of their own, PEERS_DIR (default build/peers),
# once; their optional SQLite adapter (a native build) is left out, they run
# on LevelDB.  BENCH_SYNC_ENTRIES changes the backlog (default 50,000).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
peers=${PEERS_DIR:-$top/build/peers}
if [ ! -f "$peers/node_modules/pouchdb-server/package.json" ] || [ ! -f "$peers/node_modules/pouchdb/package.json" ]; then
	command -v npm >/dev/null || { echo "bench-peers: npm is needed (apt-get install npm)" >&2; exit 1; }
	mkdir -p "$peers"
	echo "bench-peers: installing pouchdb-server and pouchdb into $peers"
	npm install --prefix "$peers" --no-audit --no-fund --loglevel=error --omit=optional \
		pouchdb-server@4 pouchdb@9 pouchdb-adapter-leveldb@9 >"$peers/npm.log" 2>&1 ||
		{ cat "$peers/npm.log" >&2; exit 1; }
fi
make --no-print-directory -s bench-bins
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
PEERS_DIR=$peers python3 bench/peers.py "$tmp" "${BENCH_SYNC_ENTRIES:-50000}"
