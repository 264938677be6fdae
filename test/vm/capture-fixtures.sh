#!/usr/bin/env bash
# capture-fixtures.sh — `make fixtures-v2`: boots the cgroup v2 VM in capture
# mode, where guest-capture.sh runs hack/capture-fixture.sh for each v2
# scenario and prints the trees as base64 tar.gz between markers on the serial
# console; this script decodes them into testdata/hosts/v2-<scenario>/.
# Environment: VM_TIMEOUT (default 600), VERBOSE=1, SKIP_BUILD=1, KERNEL_PKG.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

OUT=$CACHE_DIR/out-capture
TMO=${VM_TIMEOUT:-600}
LOG=${VM_LOG:-$CACHE_DIR/console-capture.log}
DEST=$REPO_ROOT/testdata/hosts

need_cmd qemu-system-x86_64 timeout
vm_lock
[ -f "$REPO_ROOT/hack/capture-fixture.sh" ] || die "hack/capture-fixture.sh is not in the repo yet"
if [ "${SKIP_BUILD:-0}" != 1 ] || [ ! -s "$OUT/initrd.img" ]; then
	"$VM_DIR/build.sh" -o "$OUT"
fi

qrc=0
boot_vm "$OUT" capture "$LOG" "$TMO" || qrc=$?

grep -q '^PROCVIEW-FIXTURES-END' "$LOG" || die "no fixture archive on the console (qemu exit $qrc, see $LOG)"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
sed -n '/^PROCVIEW-FIXTURES-BEGIN/,/^PROCVIEW-FIXTURES-END/p' "$LOG" | sed '1d;$d' | base64 -d >"$tmp/fx.tar.gz" ||
	die "cannot decode the fixture archive (see $LOG)"
mkdir -p "$tmp/x"
tar -xzf "$tmp/fx.tar.gz" -C "$tmp/x" || die "cannot unpack the fixture archive"
shopt -s nullglob
trees=("$tmp"/x/v2-*)
[ ${#trees[@]} -gt 0 ] || die "the archive holds no v2-* trees"
mkdir -p "$DEST"
for t in "${trees[@]}"; do
	name=$(basename "$t")
	rm -rf "${DEST:?}/$name"
	cp -a "$t" "$DEST/$name"
	note "wrote testdata/hosts/$name"
done
# Scenario failures are TAP "not ok" lines on the console.
if grep -q '^not ok' "$LOG"; then
	die "some scenarios failed (see the not ok lines above and $LOG)"
fi
