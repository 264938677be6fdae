#!/usr/bin/env bats
# System-call views: sysinfo(2) answered by procview-agent through seccomp
# user notification, from the same snapshot as the container's /proc views.
# A static probe (test/bats/sysinfo/sysinfo.c, built here) prints what a
# program sees.

load helpers

setup_file() {
	pv_setup_file
	[ -n "${PV_WORK:-}" ] || return 0
	if command -v gcc >/dev/null; then
		gcc -O2 -static -o "$PV_WORK/probe64" "$PV_REPO/test/bats/sysinfo/sysinfo.c"
		# i386: gcc-multilib; whether this host can run it is checked per test.
		gcc -O2 -m32 -static -o "$PV_WORK/probe32" "$PV_REPO/test/bats/sysinfo/sysinfo.c" 2>/dev/null || true
	fi
}
teardown_file() {
	[ -n "${PV_WORK:-}" ] || return 0
	pv_cleanup_containers
	stop_agents
	pv_teardown_file
}
setup() {
	pv_setup
	requires binaries gcc
	[ -x "$PV_BIN/procview-agent" ] || skip "needs $PV_BIN/procview-agent (run make build)"
	[ -x "$PV_WORK/probe64" ] || skip "static probe not built (gcc, libc6-dev)"
}
teardown() { pv_teardown; }

# agent_pids: the holder of this file's state root and its workers.
agent_pids() {
	local pid
	pid=$(cat "$PV_STATE/agent.pid" 2>/dev/null) || return 0
	pid=${pid//[^0-9]/}
	[ -n "$pid" ] && [ -d "/proc/$pid" ] || return 0
	[ "$(basename -- "$(tr '\0' '\n' <"/proc/$pid/cmdline" | head -n1)")" = procview-agent ] || return 0
	echo "$pid"
	worker_pids "$pid"
}

# worker_pids HOLDER: the holder's worker children.
worker_pids() {
	local c
	for c in $(cat "/proc/$1/task/"*/children 2>/dev/null); do
		grep -qa -- --worker "/proc/$c/cmdline" 2>/dev/null && echo "$c"
	done
	return 0
}

stop_agents() {
	local p
	for p in $(agent_pids) ${PV_ORPHANS:-}; do kill -KILL "$p" 2>/dev/null || true; done
}

# probe_bundle [32]: a busybox bundle with the static probe as /bin/probe.
probe_bundle() {
	new_bundle busybox
	cp "$PV_WORK/probe${1:-64}" "$BUNDLE/rootfs/bin/probe"
}

# probe_val KEY < probe output
probe_val() { awk -F= -v k="$1" '$1 == k {print $2; f=1} END {exit !f}'; }

# container_tasks: threads in the container's cgroup (pids or memory v1).
cgroup_dir_of() {
	local h
	for h in /sys/fs/cgroup/pids /sys/fs/cgroup/memory /sys/fs/cgroup; do
		[ -d "$h/$PV_CGROUP_PARENT/$CID" ] && { echo "$h/$PV_CGROUP_PARENT/$CID"; return 0; }
	done
	return 1
}

@test "sysinfo: totalram, sysconf(_SC_PHYS_PAGES) and busybox free show the memory limit" {
	probe_bundle
	pv_start
	wait_views
	run cexec_ok 'probe show'
	[ "$status" -eq 0 ]
	echo "$output"
	[ "$(probe_val totalram <<<"$output")" -eq "$PV_MEM_LIMIT" ]
	[ "$(probe_val phys_bytes <<<"$output")" -eq "$PV_MEM_LIMIT" ]
	[ "$(probe_val mem_unit <<<"$output")" -eq 1 ]
	run cexec_ok 'free'
	[ "$status" -eq 0 ]
	echo "$output"
	[ "$(awk '$1 == "Mem:" {print $2}' <<<"$output")" -eq 262144 ]
}
