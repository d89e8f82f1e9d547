#!/bin/sh
# Build the Debian packages outpost-node (outpost-node, outpost-sync) and
# outpost-hub from a built tree, with Debian's own tools: `make install`
# into a staging root, dpkg-shlibdeps for the library dependencies,
# dpkg-deb to build.  The maintainer scripts (packaging/deb/*.in) create the
# 'outpost' system user and its directories and enable the unit, as
# debhelper's would.
#
#   scripts/mkdeb.sh BINDIR OUTDIR VERSION
#
# Leaves OUTDIR/outpost-node_VERSION_ARCH.deb and outpost-hub_..., and
# prints their paths.
set -eu

bindir=$1 out=$2 version=$3
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
case "$bindir" in /*) ;; *) bindir="$top/$bindir" ;; esac
case "$out" in /*) ;; *) out="$top/$out" ;; esac
arch=$(dpkg --print-architecture)
maint="Outpost maintainers <outpost@example.org>"
date=$(date -R -u -d "@${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}")
mkdir -p "$out"

# pkg dir description...
build_one() {
	pkg=$1 dir=$2 short=$3 long=$4 extra_dep=$5
	stage="$out/stage-$pkg"
	rm -rf "$stage"
	make --no-print-directory -s OUTPOST_SETUP_DONE=1 "install-$dir" \
		DESTDIR="$stage" PREFIX=/usr INSTALL_BIN="$bindir" >/dev/null
	# Debian ships stripped binaries and gzipped manual pages and changelog.
	for b in "$stage"/usr/bin/*; do
		strip --strip-unneeded --remove-section=.comment --remove-section=.note "$b"
	done
	find "$stage/usr/share/man" -type f -exec gzip -9n {} +
	install -m 0644 packaging/deb/copyright "$stage/usr/share/doc/$pkg/copyright"
	printf '%s (%s) unstable; urgency=medium\n\n  * Built from the Outpost tree by make deb.\n\n -- %s  %s\n' \
		outpost "$version" "$maint" "$date" | gzip -9n > "$stage/usr/share/doc/$pkg/changelog.gz"
	chmod 0644 "$stage/usr/share/doc/$pkg/changelog.gz"

	# Library dependencies as Debian computes them.  libcurl is loaded at
	# run time (sync/curl_load.c), so it is named by hand.
	shl="$out/shlibs-$pkg"
	rm -rf "$shl"
	mkdir -p "$shl/debian"
	printf 'Source: outpost\n\nPackage: %s\nArchitecture: any\n' "$pkg" > "$shl/debian/control"
	deps=$(cd "$shl" && dpkg-shlibdeps -O --ignore-missing-info $(for b in "$stage"/usr/bin/*; do echo "-e$b"; done) 2>/dev/null |
		sed -n 's/^shlibs:Depends=//p')
	rm -rf "$shl"
	[ -n "$deps" ] || { echo "mkdeb: dpkg-shlibdeps found no dependencies" >&2; exit 1; }

	install -d -m 0755 "$stage/DEBIAN"
	for s in postinst prerm postrm; do
		sed -e "s/@PKG@/$pkg/g" -e "s/@DIR@/$dir/g" "packaging/deb/$s.in" > "$stage/DEBIAN/$s"
		chmod 0755 "$stage/DEBIAN/$s"
	done
	find "$stage/etc" -type f | sed "s|^$stage||" | sort > "$stage/DEBIAN/conffiles"
	size=$(du -k -s --exclude=DEBIAN "$stage" | cut -f1)
	cat > "$stage/DEBIAN/control" <<CTL
Package: $pkg
Source: outpost
Version: $version
Architecture: $arch
Maintainer: $maint
Installed-Size: $size
Depends: $deps, adduser, $extra_dep
Section: net
Priority: optional
Description: $short
$long
CTL
	(cd "$stage" && find . -path ./DEBIAN -prune -o -type f -print | sed 's|^\./||' | sort |
		xargs md5sum) > "$stage/DEBIAN/md5sums"
	chmod 0644 "$stage/DEBIAN/control" "$stage/DEBIAN/conffiles" "$stage/DEBIAN/md5sums"
	find "$stage" -type d -exec chmod 0755 {} +
	deb="$out/${pkg}_${version}_${arch}.deb"
	dpkg-deb --root-owner-group -Zxz --build "$stage" "$deb" >/dev/null
	rm -rf "$stage"
	echo "$deb"
}

build_one outpost-node node "Outpost office node: offline-first replica and office web UI" \
" Outpost keeps an America's Job Center office working when its network is
 down.  This package holds the office node daemon (outpost-node), which
 keeps the office's replica in SQLite and serves the staff web UI, the
 visitor kiosk and the JSON API, and outpost-sync, the command that enrolls
 the node with the hub and shows and drives its replication.  It runs as
 the systemd service outpost-node as the system user outpost." \
	"libcurl4, init-system-helpers (>= 1.54~)"
build_one outpost-hub hub "Outpost hub: every office's data, sync and admin API" \
" Outpost keeps an America's Job Center office working when its network is
 down.  This package holds the hub daemon (outpost-hub), which receives and
 merges every office node's changes, holds the staff accounts and serves
 the administration console over HTTPS.  It runs as the systemd service
 outpost-hub as the system user outpost." \
	"init-system-helpers (>= 1.54~)"
