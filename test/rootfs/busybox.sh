#!/bin/bash
# busybox.sh DEST: make DEST a minimal busybox root filesystem built from
# Debian's busybox-static (/bin/busybox plus `--install -s` symlinks).
# The tree is cached under $PROCVIEW_TEST_CACHE (default
# /var/cache/procview-test) keyed on the busybox binary, then copied.
set -euo pipefail
. "$(dirname "$(readlink -f "$0")")/common.sh"

[ $# -eq 1 ] || die "usage: $0 DEST"
dest=$1

BUSYBOX=${BUSYBOX:-/bin/busybox}
[ -x "$BUSYBOX" ] || die "$BUSYBOX missing: apt-get install -y busybox-static"
# A dynamically linked busybox would need the host's libc inside the rootfs.
if file -L "$BUSYBOX" 2>/dev/null | grep -q 'dynamically linked'; then
	die "$BUSYBOX is dynamically linked: install busybox-static"
fi

# Bump when the layout below changes, so old caches are not reused.
layout=3
stamp=$( (echo "layout=$layout"; sha256sum <"$BUSYBOX") | sha256sum | cut -c1-12)
cache=$PROCVIEW_TEST_CACHE/busybox-$stamp

build() {
	[ -d "$cache" ] && return 0
	local tmp
	tmp=$(mktemp -d "$PROCVIEW_TEST_CACHE/.busybox.XXXXXX")
	chmod 0755 "$tmp"
	mkdir -p "$tmp"/{bin,sbin,usr/bin,usr/sbin,etc,tmp,dev/shm,proc,sys,root,var/tmp,run}
	chmod 1777 "$tmp/tmp" "$tmp/var/tmp" "$tmp/dev/shm"
	install -m 0755 "$BUSYBOX" "$tmp/bin/busybox"
	# --install -s writes absolute symlinks (/bin/busybox) into the chroot.
	chroot "$tmp" /bin/busybox --install -s
	cat >"$tmp/etc/passwd" <<'PW'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
PW
	cat >"$tmp/etc/group" <<'GR'
root:x:0:
nogroup:x:65534:
GR
	echo procview-test >"$tmp/etc/hostname"
	mv -T "$tmp" "$cache"
}

with_cache_lock build
copy_tree "$cache" "$dest"
