#!/usr/bin/env bats
# Delivery acceptance, lifecycle and failure handling: cleanup after exit,
# surviving a procviewd crash, and the fail_mode policy.

load helpers

setup_file() { pv_setup_file; }
teardown_file() { pv_teardown_file; }
setup() {
	pv_setup
	requires binaries
}
teardown() { pv_teardown; }

# no_view_mounts ID: no mount in the host's mount table (or any of its
# processes') refers to the container's state directory.
no_view_mounts() {
	! grep -F "$PV_STATE/containers/$1" /proc/self/mountinfo /proc/1/mountinfo
}

@test "after the container exits its state directory and view mounts are gone" {
	new_bundle busybox
	run pv_run 'grep MemTotal /proc/meminfo'
	[ "$status" -eq 0 ]
	# It did run with views.
	[ "$(meminfo_kb MemTotal <<<"$output")" -eq $((PV_MEM_LIMIT / 1024)) ]
	[ ! -e "$PV_STATE/containers/$CID" ]
	no_view_mounts "$CID"
	# runc has forgotten it too.
	run "$RUNC" --root "$PV_RUNC_ROOT" state "$CID"
	[ "$status" -ne 0 ]
}

@test "after kill + delete of a detached container its state directory is gone" {
	new_bundle busybox
	pv_start
	wait_views
	[ -d "$PV_STATE/containers/$CID" ]
	"$RUNC" --root "$PV_RUNC_ROOT" kill "$CID" KILL
	wait_until 5000 sh -c "! $RUNC --root $PV_RUNC_ROOT state $CID | grep -q '\"running\"'"
	"$RUNC" --root "$PV_RUNC_ROOT" delete "$CID"
	[ ! -e "$PV_STATE/containers/$CID" ]
	no_view_mounts "$CID"
}

@test "a non-zero exit status of the container is passed through the wrapper" {
	new_bundle busybox
	run pv_run 'exit 7'
	[ "$status" -eq 7 ]
}

# frozen_then_live: the cpu line of /proc/stat stays put while no daemon
# runs, then moves again within 2 s once one runs. A busy loop keeps the
# counters moving whenever somebody refreshes them.
@test "SIGKILL procviewd: reads keep working; a restarted procviewd updates views within 2 s" {
	new_bundle busybox
	pv_start '(while :; do :; done) & exec sleep 100000'
	wait_views
	pid=$(pv_daemon_pid)
	kill -KILL "$pid"
	wait_until 2000 pid_gone "$pid"
	# Reads keep succeeding and still show the limit.
	for i in 1 2 3 4 5; do
		out=$(cexec_ok 'cat /proc/meminfo')
		[ "$(meminfo_kb MemTotal <<<"$out")" -eq $((PV_MEM_LIMIT / 1024)) ]
		cexec_ok 'cat /proc/stat /proc/uptime /proc/loadavg /sys/devices/system/cpu/online' >/dev/null
		sleep 0.2
	done
	# Nobody refreshes now.
	a=$(stat_cpu_line)
	sleep $(( $(config_refresh_ms) * 3 / 1000 + 1 ))
	b=$(stat_cpu_line)
	[ "$a" = "$b" ]
	pv_start_daemon
	moved() { [ "$(stat_cpu_line)" != "$a" ]; }
	wait_until 2000 moved
	pv_daemon_pid
}

@test "SIGKILL procviewd: starting a new container restarts it and the old container's views update" {
	new_bundle busybox
	pv_start '(while :; do :; done) & exec sleep 100000'
	wait_views
	first=$CID
	pid=$(pv_daemon_pid)
	kill -KILL "$pid"
	wait_until 2000 pid_gone "$pid"
	a=$(stat_cpu_line)
	new_bundle busybox
	pv_start
	wait_views
	pv_daemon_pid
	CID=$first
	moved() { [ "$(stat_cpu_line)" != "$a" ]; }
	wait_until 2000 moved
}

@test "only one procviewd runs per state root" {
	new_bundle busybox
	pv_start
	wait_views
	pid=$(pv_daemon_pid)
	new_bundle busybox
	pv_start
	wait_views
	# Starting another by hand must not replace or duplicate it.
	pv_start_daemon
	sleep 1
	[ "$(pv_daemon_pid)" = "$pid" ]
	n=$(pv_daemons | wc -l)
	[ "$n" -eq 1 ] || { pgrep -af procviewd; return 1; }
}

@test "fail-open: hook binary missing -> the container starts and the error is logged" {
	new_bundle busybox
	# A wrapper whose sibling procview-hook does not exist.
	nohook=$PV_WORK/bin-nohook
	mkdir -p "$nohook"
	cp "$PV_WRAPPER" "$nohook/procview-runc"
	pv_write_config 'fail_mode = "open"'
	run rt_run "$nohook/procview-runc" 'echo started'
	echo "$output"
	[ "$status" -eq 0 ]
	[ "${lines[-1]}" = started ]
	grep -i 'procview-hook' "$PV_LOG"
	grep -iE 'level=(error|warn)|"level":"(error|warn)' "$PV_LOG"
}

@test "fail_mode = closed with a broken state root: start refused with a clear message" {
	new_bundle busybox
	# state_root below a regular file can never be created.
	: >"$PV_WORK/not-a-dir"
	broken=$PV_WORK/not-a-dir/state
	{
		echo "state_root = \"$broken\""
		echo "fail_mode = \"closed\""
		echo "log_file = \"$PV_LOG\""
		echo "log_level = \"debug\""
	} >"$PROCVIEW_CONFIG"
	run pv_run 'echo started'
	echo "$output"
	[ "$status" -ne 0 ]
	[[ "$output" != *started* ]]
	# procview's own refusal (not a crash), naming what is wrong.
	refusal=$(grep -E "$PV_REFUSAL_RE" <<<"$output" || true)
	[[ "$refusal" == *"$broken"* ]]
	# Nothing is left running.
	run "$RUNC" --root "$PV_RUNC_ROOT" state "$CID"
	[ "$status" -ne 0 ] || [[ "$output" != *'"running"'* ]]
}

@test "fail_mode = open with a broken state root: the container starts without views" {
	new_bundle busybox
	: >"$PV_WORK/not-a-dir"
	{
		echo "state_root = \"$PV_WORK/not-a-dir/state\""
		echo "fail_mode = \"open\""
		echo "log_file = \"$PV_LOG\""
	} >"$PROCVIEW_CONFIG"
	run pv_run 'echo started'
	echo "$output"
	[ "$status" -eq 0 ]
	[ "${lines[-1]}" = started ]
}
