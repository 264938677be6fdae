#!/bin/bash
# demo.sh: run the same 256 MiB / half-CPU busybox container with plain runc
# and with procview-runc and print what tools inside see, side by side.
# Installs runc and busybox-static with apt when missing (Debian/Ubuntu).
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."
[ "$(id -u)" = 0 ] || { echo "demo: run as root (sudo make demo)" >&2; exit 1; }

need=()
command -v runc >/dev/null || need+=(runc)
[ -x /bin/busybox ] && ! file -L /bin/busybox 2>/dev/null | grep -q dynamically || need+=(busybox-static)
command -v jq >/dev/null || need+=(jq)
command -v free >/dev/null || need+=(procps)
if [ ${#need[@]} -gt 0 ]; then
	echo "demo: installing ${need[*]}"
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
make -s build

work=$(mktemp -d /tmp/procview-demo.XXXXXX)
state=$work/state
cleanup() {
	for id in demo-plain demo-procview; do runc delete -f "$id" >/dev/null 2>&1 || true; done
	[ -f "$state/procviewd.pid" ] && kill "$(cat "$state/procviewd.pid")" 2>/dev/null || true
	sleep 0.2
	rm -rf "$work"
}
trap cleanup EXIT

test/rootfs/busybox.sh "$work/rootfs" >/dev/null
# procps and getconf from the host, with their libraries, so the container
# runs the tools people actually use (busybox free/uptime use sysinfo(2),
# which no file overlay changes).
copy_bin() {
	local b
	b=$(command -v "$1") || return 0
	install -D "$b" "$work/rootfs/usr/local/bin/$1"
	ldd "$b" 2>/dev/null | grep -o '/[^ ]*' | while read -r lib; do
		[ -e "$work/rootfs$lib" ] || install -D "$lib" "$work/rootfs$lib"
	done
}
for b in free top uptime getconf; do copy_bin "$b"; done
# procps top needs a terminfo entry even in batch mode.
for t in /lib/terminfo/d/dumb /usr/share/terminfo/d/dumb; do [ -e "$t" ] && install -D "$t" "$work/rootfs$t"; done

cat >"$work/config.toml" <<CFG
state_root = "$state"
log_file = "$work/procview.log"
CFG
export PROCVIEW_CONFIG=$work/config.toml

# Full paths: Debian's busybox-static shell prefers its own applets over PATH.
script='export TERM=dumb L=/usr/local/bin
echo "--- free -m (procps)"; $L/free -m
echo "--- top -bn1 (procps) | head -4"; $L/top -bn1 2>/dev/null | head -4
echo "--- nproc: $(nproc)   getconf _NPROCESSORS_ONLN: $($L/getconf _NPROCESSORS_ONLN)"
echo "--- uptime (procps)"; $L/uptime
echo "--- /proc/uptime: $(cat /proc/uptime)"
echo "--- /sys/devices/system/cpu/online: $(cat /sys/devices/system/cpu/online)"'

bundle() {
	local b=$work/$1
	mkdir -p "$b"
	(cd "$b" && runc spec)
	jq --arg root "$work/rootfs" --arg s "$script" --arg cg "/procview-demo/$1" '
		.root = {path: $root, readonly: true}
		| .process.terminal = false
		| .process.args = ["/bin/sh", "-c", $s]
		| .linux.cgroupsPath = $cg
		| .linux.resources.memory.limit = 268435456
		| .linux.resources.cpu = {quota: 50000, period: 100000}' \
		"$b/config.json" >"$b/config.json.new" && mv "$b/config.json.new" "$b/config.json"
	echo "$b"
}

runc run -b "$(bundle plain)" demo-plain >"$work/plain.out" 2>&1 || true
bin/procview-runc run -b "$(bundle procview)" demo-procview >"$work/procview.out" 2>&1 || true

echo "Container limits: memory 256 MiB, CPU quota 50000/100000 (half a CPU)."
echo
paste -d'|' <(sed 's/\t/ /g' "$work/plain.out" | cut -c1-60 | awk '{printf "%-60s\n", $0}' | sed '1i\== plain runc' ) \
	<(sed 's/\t/ /g' "$work/procview.out" | cut -c1-60 | sed '1i\== procview-runc') | sed 's/|/ | /'
echo
echo "nproc counts sched_getaffinity(2), which a file overlay cannot change (see docs/views.md)."
