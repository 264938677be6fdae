#!/usr/bin/env bash
# build.sh [-o OUTDIR] — builds what the cgroup v2 test VM boots:
#   OUTDIR/vmlinuz     Debian cloud kernel (fetched with apt-get download)
#   OUTDIR/initrd.img  base.cpio.gz (cached: busybox, runc + its libraries,
#                      virtio modules, container rootfs, bash) followed by a
#                      fresh overlay cpio (init, test scripts, procview binaries).
# The kernel accepts concatenated cpio archives, so only the small overlay is
# rebuilt on every run. The base is cached in $PROCVIEW_VM_CACHE (default
# /var/cache/procview-vm) under a key made of the package versions.
# Environment: KERNEL_PKG (default: what linux-image-cloud-amd64 depends on),
# PROCVIEW_BIN_DIR (use prebuilt binaries from there instead of `go build`).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

OUT=$CACHE_DIR/out
while getopts o: opt; do
	case $opt in
	o) OUT=$OPTARG ;;
	*) die "usage: build.sh [-o OUTDIR]" ;;
	esac
done

need_cmd apt-get apt-cache dpkg-deb dpkg-query ldd gzip find bash jq
BUSYBOX=/bin/busybox
[ -x "$BUSYBOX" ] || die "missing $BUSYBOX ($(pkg_hint busybox))"
# The guest has no libc outside what we copy: busybox must be the static one.
"$BUSYBOX" --list | grep -x cpio >/dev/null || die "$BUSYBOX has no cpio applet"
if command -v file >/dev/null && ! file -L "$BUSYBOX" | grep "statically linked" >/dev/null; then
	die "$BUSYBOX is not static (apt-get install -y busybox-static)"
fi
RUNC=$(command -v runc) || die "missing runc ($(pkg_hint runc))"

vm_lock
mkdir -p "$CACHE_DIR/debs" "$OUT"
# Leftovers of interrupted builds (we hold the lock, so none is in use).
find "$CACHE_DIR" -mindepth 1 -maxdepth 1 -name 'tmp.*' -exec rm -rf {} +
KEY=$(base_key)
BASE=$CACHE_DIR/$KEY
KPKG=$(kernel_pkg)

# mkcpio DIR FILE writes DIR as a gzip'd newc archive (busybox cpio: the host
# has no GNU cpio). Files are owned by root because we build as root.
mkcpio() {
	(cd "$1" && find . -mindepth 1 | LC_ALL=C sort | "$BUSYBOX" cpio -o -H newc 2>/dev/null) | gzip -1 >"$2.tmp"
	mv "$2.tmp" "$2"
}

# copy_with_libs BIN DESTROOT copies BIN and every shared library ldd lists
# to the same paths under DESTROOT.
copy_with_libs() {
	local bin=$1 root=$2 lib
	install -D -m 0755 "$(readlink -f "$bin")" "$root$bin"
	for lib in $(ldd "$bin" | grep -o '/[^ ]*' | sort -u); do
		install -D -m 0755 "$(readlink -f "$lib")" "$root$lib"
	done
}

# bb_links DIR makes one symlink per busybox applet in DIR/bin.
bb_links() {
	local a
	for a in $("$BUSYBOX" --list); do
		[ "$a" = busybox ] || ln -sf busybox "$1/bin/$a"
	done
}

build_base() {
	local tmp deb kdir kver moddir m
	tmp=$(mktemp -d "$CACHE_DIR/tmp.XXXXXX")
	trap 'rm -rf "$tmp"' RETURN
	note "building base $KEY"

	deb=$(ls "$CACHE_DIR/debs/${KPKG}_"*.deb 2>/dev/null | head -n1 || true)
	if [ -z "$deb" ] || [ "$(dpkg-deb -f "$deb" Version)" != "$(candidate_version "$KPKG")" ]; then
		rm -f "$CACHE_DIR/debs/${KPKG}_"*.deb
		(cd "$CACHE_DIR/debs" && timeout 300 apt-get download "$KPKG" 2>&1 | grep -v '^W: Download is performed unsandboxed' >&2) ||
			die "apt-get download $KPKG failed (apt-get update?)"
		deb=$(ls "$CACHE_DIR/debs/${KPKG}_"*.deb | head -n1)
	fi
	dpkg-deb -x "$deb" "$tmp/k"
	kdir=$(ls -d "$tmp"/k/lib/modules/* "$tmp"/k/usr/lib/modules/* 2>/dev/null | head -n1 || true)
	[ -n "$kdir" ] || die "no modules directory in $deb"
	kver=$(basename "$kdir")

	local r=$tmp/root
	mkdir -p "$r"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,run,tmp,mnt,newroot,procview}
	install -m 0755 "$BUSYBOX" "$r/bin/busybox"
	bb_links "$r"
	ln -sf busybox "$r/bin/mkfs.ext2"
	copy_with_libs "$RUNC" "$r"
	[ "$RUNC" = /usr/sbin/runc ] || ln -sf "$RUNC" "$r/usr/sbin/runc"
	# bash: hack/capture-fixture.sh may use it. coreutils stat: busybox's
	# `stat -f` does not know cgroup2fs by name.
	copy_with_libs "$(command -v bash)" "$r"
	copy_with_libs /usr/bin/stat "$r"
	# jq: hack/capture-fixture.sh writes expect.json with it.
	copy_with_libs "$(command -v jq)" "$r"
	printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$r/etc/passwd"
	printf 'root:x:0:\nnogroup:x:65534:\n' >"$r/etc/group"

	# Virtio disk modules, in dependency order (the package ships no
	# modules.dep: depmod runs at install time, so read depends= ourselves).
	moddir=$r/lib/modules/$kver
	mkdir -p "$moddir"
	local -a order=()
	resolve() {
		local name=$1 f deps d x
		for x in "${order[@]}"; do [ "$x" = "$name" ] && return 0; done
		f=$(find "$kdir" -name "$name.ko*" -o -name "$(echo "$name" | tr _ -).ko*" | head -n1)
		[ -n "$f" ] || die "module $name not found in $KPKG"
		case $f in
		*.xz) xz -dc "$f" >"$tmp/$name.ko" ;;
		*.zst) zstd -qdc "$f" >"$tmp/$name.ko" ;;
		*.gz) gzip -dc "$f" >"$tmp/$name.ko" ;;
		*) cp "$f" "$tmp/$name.ko" ;;
		esac
		deps=$(tr '\0' '\n' <"$tmp/$name.ko" | sed -n 's/^depends=//p' | head -n1 | tr , ' ')
		for d in $deps; do resolve "$d"; done
		cp "$tmp/$name.ko" "$moddir/$name.ko"
		order+=("$name")
	}
	for m in virtio_pci virtio_blk; do
		if grep -q "/$m.ko" "$kdir/modules.builtin" 2>/dev/null; then continue; fi
		resolve "$m"
	done
	printf '%s\n' "${order[@]}" >"$moddir/load-order"

	# Container rootfs: busybox only.
	local c=$r/procview/rootfs
	mkdir -p "$c"/{bin,proc,sys,dev,tmp,etc,data,root}
	install -m 0755 "$BUSYBOX" "$c/bin/busybox"
	bb_links "$c"
	cp "$r/etc/passwd" "$r/etc/group" "$c/etc/"

	mkdir -p "$tmp/out"
	cp "$tmp/k/boot/vmlinuz-$kver" "$tmp/out/vmlinuz"
	echo "$kver" >"$tmp/out/kver"
	mkcpio "$r" "$tmp/out/base.cpio.gz"
	rm -rf "$BASE"
	mv "$tmp/out" "$BASE"
	# Bases of the same kernel package built from older package versions
	# are dead weight (other kernels, chosen with KERNEL_PKG, stay).
	find "$CACHE_DIR" -mindepth 1 -maxdepth 1 -name "base-$(safe "$KPKG")_*" ! -name "$KEY" -exec rm -rf {} +
}

if [ ! -s "$BASE/base.cpio.gz" ] || [ ! -s "$BASE/vmlinuz" ]; then build_base; fi

# Overlay: rebuilt every time (seconds).
OV=$(mktemp -d "$CACHE_DIR/tmp.XXXXXX")
trap 'rm -rf "$OV"' EXIT
mkdir -p "$OV/procview/bin" "$OV/procview/repo/hack"
install -m 0755 "$VM_DIR/init" "$OV/init"
install -m 0755 "$VM_DIR/guest-tests.sh" "$VM_DIR/guest-capture.sh" "$OV/procview/"
if [ -d "$REPO_ROOT/hack" ]; then
	cp -a "$REPO_ROOT/hack/." "$OV/procview/repo/hack/"
fi

# name:package pairs of the project's binaries.
BINS="procview:./cli procview-runc:./runtime-wrapper procview-hook:./hook procviewd:./gen"
status=$OV/procview/bin/BUILD-STATUS
: >"$status"
for pair in $BINS; do
	name=${pair%%:*} pkg=${pair#*:}
	if [ -n "${PROCVIEW_BIN_DIR:-}" ]; then
		if [ -x "$PROCVIEW_BIN_DIR/$name" ]; then
			cp "$PROCVIEW_BIN_DIR/$name" "$OV/procview/bin/$name"
			echo "$name: copied from $PROCVIEW_BIN_DIR" >>"$status"
		else
			echo "$name: missing in $PROCVIEW_BIN_DIR" >>"$status"
		fi
		continue
	fi
	need_cmd go
	if ! ls "$REPO_ROOT/$pkg"/*.go >/dev/null 2>&1; then
		echo "$name: not built: no Go files in $pkg" >>"$status"
		note "skip $name: no Go files in $pkg yet"
		continue
	fi
	# A broken package must not stop the VM: the guest reports the missing
	# binary as a TAP failure with this message.
	if log=$(cd "$REPO_ROOT" && CGO_ENABLED=0 timeout 300 go build -buildvcs=false -trimpath \
		-o "$OV/procview/bin/$name" "$pkg" 2>&1); then
		echo "$name: built from $pkg" >>"$status"
	else
		echo "$name: go build $pkg failed: $(echo "$log" | head -n 3 | tr '\n' ' ')" >>"$status"
		note "go build $pkg failed:"
		echo "$log" | head -n 20 >&2
	fi
done

mkcpio "$OV" "$OUT/overlay.cpio.gz"
cat "$BASE/base.cpio.gz" "$OUT/overlay.cpio.gz" >"$OUT/initrd.img.tmp"
mv "$OUT/initrd.img.tmp" "$OUT/initrd.img"
cp "$BASE/vmlinuz" "$OUT/vmlinuz"
cp "$BASE/kver" "$OUT/kver"
note "built $OUT (kernel $(cat "$OUT/kver"), base $KEY)"
sed 's/^/procview-vm: /' "$status" >&2
