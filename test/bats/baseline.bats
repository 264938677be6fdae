#!/usr/bin/env bats
# Baseline with plain runc (no procview): proves the test rig itself works
# (bundles, limits, cgroups, exec, cleanup) and shows what procview fixes.

load helpers

setup_file() { pv_setup_file; }
teardown_file() { pv_teardown_file; }
setup() { pv_setup; }
teardown() { pv_teardown; }

@test "plain runc: container runs with the test limits in its cgroup" {
	requires cgroupv1
	new_bundle busybox
	plain_start
	local cg=/sys/fs/cgroup/memory/$PV_CGROUP_PARENT/$CID
	[ -d "$cg" ]
	[ "$(cat "$cg/memory.limit_in_bytes")" -eq "$PV_MEM_LIMIT" ]
	[ "$(cat "/sys/fs/cgroup/cpu/$PV_CGROUP_PARENT/$CID/cpu.cfs_quota_us")" -eq "$PV_CPU_QUOTA" ]
	run cexec 'echo hello'
	[ "$status" -eq 0 ]
	[ "$output" = hello ]
}

@test "plain runc: /proc/meminfo shows the host's MemTotal (the problem procview solves)" {
	new_bundle busybox
	run plain_run 'cat /proc/meminfo'
	[ "$status" -eq 0 ]
	host=$(meminfo_kb MemTotal </proc/meminfo)
	got=$(meminfo_kb MemTotal <<<"$output")
	[ "$got" -eq "$host" ]
}

@test "plain runc: exit status of the container process is passed through" {
	new_bundle busybox
	run plain_run 'exit 7'
	[ "$status" -eq 7 ]
}
