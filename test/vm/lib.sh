# shellcheck shell=bash
# Shared by build.sh, run.sh and capture-fixtures.sh (bash, host side).

VM_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck disable=SC2034 # used by the scripts that source this file
REPO_ROOT=$(cd "$VM_DIR/../.." && pwd)
# Everything fetched or built lives outside the repo so `git status` stays clean
# and repeated runs reuse it.
CACHE_DIR=${PROCVIEW_VM_CACHE:-/var/cache/procview-vm}
# Bump when the layout of the cached base initramfs changes.
BASE_FORMAT=5

die() { echo "procview-vm: error: $*" >&2; exit 1; }
note() { echo "procview-vm: $*" >&2; }

need_cmd() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || die "missing command '$c' ($(pkg_hint "$c"))"
	done
}

pkg_hint() {
	case $1 in
	qemu-system-x86_64) echo "apt-get install -y qemu-system-x86" ;;
	busybox) echo "apt-get install -y busybox-static" ;;
	jq) echo "apt-get install -y jq" ;;
	runc) echo "apt-get install -y runc" ;;
	dpkg-deb | apt-get | apt-cache | dpkg-query) echo "needs a Debian host" ;;
	go) echo "install Go or put it on PATH (/usr/local/go/bin)" ;;
	*) echo "install it with apt-get" ;;
	esac
}

# pkg_version PKG prints the installed version of a Debian package, or fails.
pkg_version() {
	dpkg-query -W -f '${Version}' "$1" 2>/dev/null | grep . || return 1
}

# kernel_pkg prints the kernel package to use: $KERNEL_PKG, else what the
# linux-image-cloud-amd64 meta package depends on.
kernel_pkg() {
	if [ -n "${KERNEL_PKG:-}" ]; then
		echo "$KERNEL_PKG"
		return
	fi
	local p
	p=$(apt-cache depends linux-image-cloud-amd64 2>/dev/null |
		awk '/Depends: linux-image-/ {print $2; exit}')
	[ -n "$p" ] || die "cannot resolve linux-image-cloud-amd64 (run apt-get update, or set KERNEL_PKG)"
	echo "$p"
}

# candidate_version PKG prints the version apt would download.
candidate_version() {
	apt-cache policy "$1" 2>/dev/null | awk '/Candidate:/ {print $2; exit}'
}

# safe turns a version string into something harmless in a path.
safe() { echo "$1" | tr -c 'A-Za-z0-9._\n-' '_'; }

# base_key names the cached base (kernel + busybox + runc + modules) by the
# versions of the packages it was built from.
base_key() {
	local kp kv bv rv cv jv
	kp=$(kernel_pkg)
	kv=$(candidate_version "$kp")
	[ -n "$kv" ] && [ "$kv" != "(none)" ] || die "package $kp has no candidate version (apt-get update?)"
	bv=$(pkg_version busybox-static) || die "busybox-static not installed (apt-get install -y busybox-static)"
	rv=$(pkg_version runc) || die "runc not installed (apt-get install -y runc)"
	cv=$(pkg_version coreutils) || die "coreutils not installed"
	jv=$(pkg_version jq) || die "jq not installed (apt-get install -y jq)"
	echo "base-$(safe "$kp")_$(safe "$kv")-bb$(safe "$bv")-runc$(safe "$rv")-cu$(safe "$cv")-jq$(safe "$jv")-f$BASE_FORMAT"
}

# boot_vm OUTDIR MODE LOG TIMEOUT boots the VM built in OUTDIR with
# procview.mode=MODE, writes the whole serial console to LOG and streams it to
# stdout (only TAP lines unless VERBOSE=1). It returns qemu's exit status
# (124 on timeout). TCG only: KVM is present on the dev machine but hangs guests.
boot_vm() {
	local out=$1 mode=$2 log=$3 tmo=$4 work rc filter
	need_cmd qemu-system-x86_64 timeout truncate
	work=$(mktemp -d "${TMPDIR:-/tmp}/procview-vm.XXXXXX")
	# Sparse images, fresh each boot: the guest formats them.
	truncate -s 1G "$work/data.img"
	truncate -s 256M "$work/swap.img"
	filter='^(ok |not ok |1\.\.[0-9]|#|Bail out!|PROCVIEW-)'
	[ "${VERBOSE:-0}" = 1 ] && filter=.
	note "booting ($mode, timeout ${tmo}s, console log $log)"
	set +e
	# sed -u: tr would block-buffer and hide the live console.
	timeout -k 10 "$tmo" qemu-system-x86_64 \
		-accel tcg,thread=multi -cpu max -m 1024 -smp 2 \
		-nodefaults -no-reboot -display none -vga none -monitor none \
		-serial stdio \
		-kernel "$out/vmlinuz" -initrd "$out/initrd.img" \
		-append "console=ttyS0 psi=1 cgroup_no_v1=all quiet loglevel=1 panic=-1 procview.mode=$mode procview.timeout=$((tmo - 30))" \
		-drive "file=$work/data.img,if=none,id=data,format=raw,cache=unsafe" \
		-device virtio-blk-pci,drive=data,serial=pvdata \
		-drive "file=$work/swap.img,if=none,id=swap,format=raw,cache=unsafe" \
		-device virtio-blk-pci,drive=swap,serial=pvswap \
		</dev/null 2>&1 | sed -u 's/\r$//' | tee "$log" | grep -aE --line-buffered "$filter"
	rc=${PIPESTATUS[0]}
	set -e
	rm -rf "$work"
	[ "$rc" = 124 ] && note "qemu timed out after ${tmo}s"
	return "$rc"
}

# vm_lock serializes builds and boots that share $CACHE_DIR (the outputs and
# console logs have fixed names). Nested calls (run.sh -> build.sh) skip it.
vm_lock() {
	[ -n "${PROCVIEW_VM_LOCKED:-}" ] && return 0
	need_cmd flock
	mkdir -p "$CACHE_DIR"
	exec 9>"$CACHE_DIR/.lock"
	flock -w 1200 9 || die "another procview VM run holds $CACHE_DIR/.lock"
	export PROCVIEW_VM_LOCKED=1
}
