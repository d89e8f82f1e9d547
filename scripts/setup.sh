#!/bin/sh
# Install what Outpost needs to build, run and test, from Debian's packages and
# npm only.  Quiet when everything is present already; safe to run again.
#
#   scripts/setup.sh          build + run dependencies
#   scripts/setup.sh test     also unit-test, browser-test and fuzz dependencies
#   scripts/setup.sh deb      also what `make deb` needs (dpkg-shlibdeps)
set -eu

want_test=0 want_deb=0
[ "${1:-}" = "test" ] && want_test=1 && want_deb=1
[ "${1:-}" = "deb" ] && want_deb=1

pkgs="gcc make pkg-config libsqlite3-dev libuv1-dev libhttp-parser-dev \
libcurl4-openssl-dev libmbedtls-dev libcjson-dev zlib1g-dev sqlite3 ca-certificates curl"
if [ $want_test = 1 ]; then
	pkgs="$pkgs libcmocka-dev chromium nodejs npm python3 clang libclang-rt-14-dev"
	# The packaging test (systemd-analyze, lintian, groff) and the /metrics
	# test's parser (Debian's prometheus_client).
	pkgs="$pkgs systemd lintian groff-base python3-prometheus-client"
	# test_ipv6 adds addresses to lo with `ip` (skipped where it may not).
	pkgs="$pkgs iproute2"
fi
if [ $want_deb = 1 ]; then
	pkgs="$pkgs dpkg-dev"
fi

missing=""
for p in $pkgs; do
	case "$p" in
	nodejs) command -v node >/dev/null 2>&1 && continue ;;
	npm) command -v npm >/dev/null 2>&1 && continue ;;
	python3) command -v python3 >/dev/null 2>&1 && continue ;;
	gcc) command -v cc >/dev/null 2>&1 && continue ;;
	make) command -v make >/dev/null 2>&1 && continue ;;
	esac
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done

if [ -n "$missing" ]; then
	echo "setup: installing Debian packages:$missing" >&2
	if [ "$(id -u)" != 0 ]; then
		SUDO=sudo
	else
		SUDO=
	fi
	export DEBIAN_FRONTEND=noninteractive
	$SUDO apt-get update -qq >&2
	$SUDO apt-get install -y -qq --no-install-recommends $missing >&2
fi

if [ $want_test = 1 ]; then
	here=$(cd "$(dirname "$0")/.." && pwd)
	if [ ! -d "$here/tests/browser/node_modules/playwright-core" ] ||
	   [ ! -d "$here/tests/browser/node_modules/axe-core" ]; then
		echo "setup: installing browser-test packages from npm" >&2
		(cd "$here/tests/browser" && npm install --no-audit --no-fund --silent >&2)
	fi
fi
exit 0
