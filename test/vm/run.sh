#!/usr/bin/env bash
# run.sh — the pure cgroup v2 end-to-end suite: builds the VM (cached), boots it
# under qemu TCG, prints the guest's TAP and exits with the guest's result.
# Environment: VM_TIMEOUT (seconds, default 900: a loaded host slows TCG a lot), VERBOSE=1 (whole console),
# SKIP_BUILD=1 (reuse the last build), KERNEL_PKG, PROCVIEW_BIN_DIR (see build.sh).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

OUT=$CACHE_DIR/out-test
TMO=${VM_TIMEOUT:-900}
LOG=${VM_LOG:-$CACHE_DIR/console-test.log}

need_cmd qemu-system-x86_64 timeout
vm_lock
start=$(date +%s)
if [ "${SKIP_BUILD:-0}" != 1 ] || [ ! -s "$OUT/initrd.img" ]; then
	"$VM_DIR/build.sh" -o "$OUT"
fi

qrc=0
boot_vm "$OUT" test "$LOG" "$TMO" || qrc=$?

tap=$(grep -aE '^(ok |not ok |1\.\.[0-9]|Bail out!)' "$LOG" || true)
plan=$(echo "$tap" | sed -n 's/^1\.\.\([0-9][0-9]*\).*/\1/p' | tail -n1)
nok=$(echo "$tap" | grep -c '^ok ' || true)
nfail=$(echo "$tap" | grep -c '^not ok ' || true)
guest=$(sed -n 's/^PROCVIEW-VM-EXIT \([0-9]*\).*/\1/p' "$LOG" | tail -n1)

echo "# procview-vm: $nok ok, $nfail not ok, plan ${plan:-none}, guest exit ${guest:-none}, qemu exit $qrc, $(($(date +%s) - start))s"
if [ -z "$plan" ] || [ "$nok" = 0 ]; then
	echo "# procview-vm: FAIL: no TAP plan or no ok lines came back (see $LOG)"
	tail -n 30 "$LOG" | sed 's/^/#   console: /'
	exit 1
fi
if [ "$nfail" != 0 ] || [ $((nok + nfail)) != "$plan" ] || [ "${guest:-1}" != 0 ]; then
	echo "# procview-vm: FAIL (console log: $LOG)"
	exit 1
fi
echo "# procview-vm: PASS"
