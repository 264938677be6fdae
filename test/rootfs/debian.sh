#!/bin/bash
# debian.sh DEST: make DEST a Debian root filesystem (the host's release,
# minbase) with the tools the bats tests drive: procps, sysstat,
# python3-psutil, coreutils, util-linux (lscpu), nodejs. Built with debootstrap from the Debian mirror
# the host's apt sources use, cached under $PROCVIEW_TEST_CACHE as a
# directory named by a stamp of the suite, mirror and package list, so the
# cache is rebuilt whenever the package list changes.
set -euo pipefail
. "$(dirname "$(readlink -f "$0")")/common.sh"

[ $# -eq 1 ] || die "usage: $0 DEST"
dest=$1

# The package list: change it here and the cache is rebuilt.
PACKAGES=(procps sysstat python3-psutil python3-minimal coreutils util-linux nodejs)

command -v debootstrap >/dev/null || die "debootstrap missing: apt-get install -y debootstrap"

. /etc/os-release
suite=${DEBIAN_SUITE:-${VERSION_CODENAME:-bookworm}}

# host_mirror prints the first main Debian archive URI in the host's apt
# sources (deb822 .sources or one-line .list), skipping the security archive.
host_mirror() {
	local f
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		awk -v suite="$suite" '
			function flush() {
				if (uri != "" && suites ~ ("(^| )" suite "( |$)") && uri !~ /security/) { print uri; found = 1; exit }
				uri = ""; suites = ""
			}
			/^[[:space:]]*$/ { flush(); next }
			/^URIs:/ { uri = $2 }
			/^Suites:/ { $1 = ""; suites = substr($0, 2) }
			END { if (!found) flush() }
		' "$f"
	done
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -f "$f" ] || continue
		awk -v suite="$suite" '
			$1 == "deb" {
				i = 2
				if ($i ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
				if ($(i+1) == suite && $i !~ /security/) { print $i; exit }
			}' "$f"
	done
}

mirror=${DEBIAN_MIRROR:-$(host_mirror | head -n1)}
[ -n "$mirror" ] || die "no Debian mirror for $suite in /etc/apt/sources*; set DEBIAN_MIRROR"

# Bump when the build steps below change.
layout=2
include=$(IFS=,; echo "${PACKAGES[*]}")
stamp=$(printf 'layout=%s suite=%s arch=%s include=%s\n' "$layout" "$suite" "$(dpkg --print-architecture)" "$include" | sha256sum | cut -c1-12)
cache=$PROCVIEW_TEST_CACHE/debian-$suite-$stamp

build() {
	[ -f "$cache/.procview-stamp" ] && return 0
	local tmp log
	tmp=$(mktemp -d "$PROCVIEW_TEST_CACHE/.debian.XXXXXX")
	chmod 0755 "$tmp"
	log=$tmp.log
	echo "debian.sh: debootstrap $suite from $mirror (packages: $include); log $log" >&2
	if ! debootstrap --variant=minbase --include="$include" "$suite" "$tmp" "$mirror" >"$log" 2>&1; then
		tail -n 30 "$log" >&2
		rm -rf "$tmp"
		die "debootstrap failed (full log: $log)"
	fi
	# Trim what no test reads, to keep per-test copies fast.
	rm -rf "$tmp"/var/cache/apt/archives/*.deb "$tmp"/var/lib/apt/lists/* \
		"$tmp"/usr/share/doc/* "$tmp"/usr/share/man/* "$tmp"/usr/share/locale/*
	mkdir -p "$tmp/dev/shm"
	chmod 1777 "$tmp/dev/shm"
	echo procview-test >"$tmp/etc/hostname"
	printf '%s\n' "$stamp" "$mirror" "$include" >"$tmp/.procview-stamp"
	rm -f "$log"
	rm -rf "$cache"
	mv -T "$tmp" "$cache"
	# Caches of other package lists are kept: another checkout (or a test
	# run in parallel) may still use them.
}

with_cache_lock build
copy_tree "$cache" "$dest"
