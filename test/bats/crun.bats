#!/usr/bin/env bats
# procview-runc in front of crun (config `runtime = "crun"`). crun has no
# /proc allow-list, so every view must land. Skips where crun itself cannot
# run containers (crun 1.8 refuses cgroup v1 hybrid hosts whose v2 tree has
# controllers, as on the development machine).

# Everything the helpers do with "the real runtime" (exec, kill, delete,
# cleanup) must talk to crun's state.
export RUNC=crun
load helpers

setup_file() { pv_setup_file; }
teardown_file() { pv_teardown_file; }
setup() {
	pv_setup
	requires binaries crun
	new_bundle busybox
	local out
	if ! out=$(plain_run 'true' 2>&1); then
		skip "crun cannot run containers here: $out"
	fi
	new_bundle busybox
	pv_write_config 'runtime = "crun"'
}
teardown() { pv_teardown; }

@test "crun: a foreground run returns although the hook starts procviewd" {
	# crun is a child subreaper while it runs a container in the
	# foreground: a procviewd the hook starts is re-parented to crun,
	# which then waits for it (seen with crun 1.8.1 in a private mount
	# namespace without the v2 tree). procviewd must not end up a child of
	# the runtime.
	PV_TIMEOUT=20 run pv_run 'grep MemTotal /proc/meminfo'
	echo "$output"
	if [ "$status" -eq 124 ] || [ "$status" -eq 137 ]; then
		echo "crun run did not return within 20 s (status $status)"
		pgrep -a procviewd
		return 1
	fi
	[ "$status" -eq 0 ]
	[ "$(meminfo_kb MemTotal <<<"$output")" -eq $((PV_MEM_LIMIT / 1024)) ]
}

@test "crun: MemTotal, online and cpuinfo follow the limits (procviewd already running)" {
	pv_start_daemon
	wait_until 5000 pv_daemon_pid
	run pv_run 'grep MemTotal /proc/meminfo; grep -c ^processor /proc/cpuinfo; cat /sys/devices/system/cpu/online'
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(meminfo_kb MemTotal <<<"$output")" -eq $((PV_MEM_LIMIT / 1024)) ]
	[ "${lines[1]}" -eq "$(pv_cpus)" ]
	n=$(pv_cpus)
	if [ "$n" -eq 1 ]; then want=0; else want=0-$((n - 1)); fi
	[ "${lines[2]}" = "$want" ]
	[ ! -e "$PV_STATE/containers/$CID" ]
}

@test "crun: every view is a mount (procviewd already running)" {
	pv_start_daemon
	wait_until 5000 pv_daemon_pid
	pv_start
	wait_views
	mi=$(cexec_ok 'cat /proc/self/mountinfo')
	for p in "${PV_VIEW_PATHS[@]}"; do
		case $p in /proc/pressure/*) [ -r "$p" ] || continue ;; esac
		awk -v p="$p" '$5 == p {f=1} END {exit !f}' <<<"$mi" || { echo "$p is not a mount"; return 1; }
	done
}
