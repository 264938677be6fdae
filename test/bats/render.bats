#!/usr/bin/env bats
# procview render: the operator's view of any process's container, computed
# from live cgroups this file creates (cgroup v1/hybrid or v2).

load helpers

setup_file() { pv_setup_file; }
teardown_file() { pv_teardown_file; }

setup() {
	requires root binaries
	CG=procview-test-render-$$-$BATS_TEST_NUMBER
	SLEEPER=
}

teardown() {
	[ -n "$SLEEPER" ] && kill "$SLEEPER" 2>/dev/null
	wait 2>/dev/null || true
	local d
	for d in $(cg_dirs); do
		[ -d "$d" ] && rmdir "$d" 2>/dev/null || true
	done
}

# cg_dirs: the test cgroup's directory in every hierarchy it uses.
cg_dirs() {
	if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
		echo "/sys/fs/cgroup/$CG"
	else
		local c
		for c in memory cpu cpuacct pids blkio unified; do
			[ -d "/sys/fs/cgroup/$c" ] && echo "/sys/fs/cgroup/$c/$CG"
		done
	fi
}

# make_cgroup: a cgroup limited to 256 MiB and 50000/100000 with a sleeping
# process in it (its pid in SLEEPER).
make_cgroup() {
	local d
	for d in $(cg_dirs); do mkdir -p "$d"; done
	if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
		echo "$PV_MEM_LIMIT" >"/sys/fs/cgroup/$CG/memory.max"
		echo "$PV_CPU_QUOTA $PV_CPU_PERIOD" >"/sys/fs/cgroup/$CG/cpu.max"
	else
		echo "$PV_MEM_LIMIT" >"/sys/fs/cgroup/memory/$CG/memory.limit_in_bytes"
		echo "$PV_CPU_PERIOD" >"/sys/fs/cgroup/cpu/$CG/cpu.cfs_period_us"
		echo "$PV_CPU_QUOTA" >"/sys/fs/cgroup/cpu/$CG/cpu.cfs_quota_us"
	fi
	sleep 300 &
	SLEEPER=$!
	for d in $(cg_dirs); do echo "$SLEEPER" >"$d/cgroup.procs"; done
}

@test "render --pid: 256 MiB and half a CPU give MemTotal 262144 kB, one processor, online 0" {
	make_cgroup
	run "$PV_CLI" render --pid "$SLEEPER" meminfo
	[ "$status" -eq 0 ]
	[ "$(meminfo_kb MemTotal <<<"$output")" -eq $((PV_MEM_LIMIT / 1024)) ]
	run "$PV_CLI" render --pid "$SLEEPER" cpuinfo
	[ "$status" -eq 0 ]
	[ "$(grep -c '^processor' <<<"$output")" -eq 1 ]
	run "$PV_CLI" render --pid "$SLEEPER" /sys/devices/system/cpu/online
	[ "$status" -eq 0 ]
	[ "$output" = 0 ]
}

@test "render --pid: every other view renders" {
	make_cgroup
	for v in stat uptime loadavg diskstats swaps vmstat pressure/cpu pressure/memory pressure/io; do
		run "$PV_CLI" render --pid "$SLEEPER" "$v"
		echo "$v: status $status"
		[ "$status" -eq 0 ]
	done
	run "$PV_CLI" render --pid "$SLEEPER" all
	[ "$status" -eq 0 ]
	[ "$(grep -c '^==> ' <<<"$output")" -eq ${#PV_VIEW_PATHS[@]} ]
}

@test "render --cgroup gives the same limits as --pid" {
	make_cgroup
	run "$PV_CLI" render --cgroup "/$CG" meminfo online
	[ "$status" -eq 0 ]
	[ "$(meminfo_kb MemTotal <<<"$output")" -eq $((PV_MEM_LIMIT / 1024)) ]
	grep -qx '0' <<<"$output"
}

@test "render: a fixture tree through --cgroup-root/--proc-root" {
	tree=$PV_REPO/testdata/hosts/hybrid-limit256m-quota0.5-io
	run "$PV_CLI" render --pid self --cgroup-root "$tree/sys/fs/cgroup" --proc-root "$tree/proc" meminfo
	[ "$status" -eq 0 ]
	want=$(jq .memory_limit "$tree/expect.json")
	[ "$(meminfo_kb MemTotal <<<"$output")" -eq $((want / 1024)) ]
}

@test "render: unknown view and missing target are clear errors" {
	run "$PV_CLI" render --pid 1 nosuchview
	[ "$status" -ne 0 ]
	[[ "$output" == *"unknown view"* ]]
	run "$PV_CLI" render meminfo
	[ "$status" -ne 0 ]
	[[ "$output" == *"--pid"* ]]
}
