#!/usr/bin/env bats
# shellcheck disable=SC2016
# procview-runc wrapping crun (config `runtime = "crun"`) on this cgroup v1
# hybrid host. crun 1.8.1 refuses hybrid hosts whose v2 tree has any
# controller ("cgroups in hybrid mode not supported, drop all controllers
# from cgroupv2"); the development machine's /sys/fs/cgroup/unified has
# hugetlb. So each container runs inside `unshare -m --propagation private`
# after unmounting /sys/fs/cgroup/unified in that private namespace only
# (docs/engines-testing.md). The host's mount is never touched.
#
# crun has no /proc allow-list, so unlike runc every view lands, vmstat and
# pressure/* included. The helpers keep RUNC=runc: crun's containers live in
# their own root ($CRUN_ROOT) and are cleaned up here.

load helpers
load engines

setup_file() {
	pv_setup_file
	eng_need_file crun unshare mountpoint || return 0
	# procviewd runs in the host's namespaces: started here, the hook inside
	# the private namespace finds its lock held and does not start another.
	pv_start_daemon
	wait_until 5000 pv_daemon_pid >/dev/null
}

teardown_file() {
	local id
	if [ -f "$PV_WORK/containers" ]; then
		while read -r id; do
			[ -n "$id" ] || continue
			crun_ns crun --root "$PV_WORK/crun-root" delete --force "$id" >/dev/null 2>&1 || true
		done <"$PV_WORK/containers"
	fi
	pv_teardown_file
}

setup() {
	eng_skip_if_noted
	pv_setup
	requires binaries
	new_bundle busybox
	pv_write_config 'runtime = "crun"'
}

teardown() { pv_teardown; }

# crun_ns COMMAND...: COMMAND in a private mount namespace without the
# cgroup v2 mount of a hybrid host (a no-op on other layouts).
crun_ns() {
	unshare -m --propagation private sh -c '
		if mountpoint -q /sys/fs/cgroup/unified; then umount /sys/fs/cgroup/unified || exit 125; fi
		exec "$@"' sh "$@"
}

# crun_pv_run SHELL-COMMAND: the bundle in the foreground through
# procview-runc, which execs crun.
crun_pv_run() {
	set_cmd "$1"
	crun_ns timeout -k 5 60 "$PV_WRAPPER" --root "$PV_WORK/crun-root" run -b "$BUNDLE" "$CID" </dev/null
}

@test "crun via procview-runc (private mount ns): MemTotal and online follow the limits" {
	run crun_pv_run "$ENG_PROBE"
	echo "$output"
	[ "$status" -eq 0 ]
	eng_check_views "$output"
	eng_state_empty
}

@test "crun: every view is a read-only mount, vmstat and pressure/* included" {
	run crun_pv_run 'cat /proc/self/mountinfo'
	[ "$status" -eq 0 ]
	local p missing=
	for p in "${PV_MOUNTED_VIEW_PATHS[@]}"; do
		case $p in /proc/pressure/*) [ -r "$p" ] || continue ;; esac
		awk -v p="$p" '$5 == p && $6 ~ /(^|,)ro(,|$)/ {f=1} END {exit !f}' <<<"$output" || missing="$missing $p"
	done
	[ -z "$missing" ] || { echo "not a read-only mount:$missing"; echo "$output"; return 1; }
}

@test "crun without the private namespace refuses this hybrid host, through procview-runc too" {
	[ -n "$(cat /sys/fs/cgroup/unified/cgroup.controllers 2>/dev/null)" ] ||
		skip "no hybrid v2 tree with controllers here: crun runs directly"
	set_cmd true
	# Why the tests unshare: crun itself refuses.
	run timeout 60 crun --root "$PV_WORK/crun-root" run -b "$BUNDLE" "$CID" </dev/null
	echo "$output"
	[ "$status" -ne 0 ]
	grep -q 'hybrid mode not supported' <<<"$output"
	# The same refusal through the wrapper shows it really execs crun.
	run timeout 60 "$PV_WRAPPER" --root "$PV_WORK/crun-root" run -b "$BUNDLE" "$CID" </dev/null
	echo "$output"
	[ "$status" -ne 0 ]
	grep -q 'hybrid mode not supported' <<<"$output"
}

@test "crun: a foreground run returns when procviewd is not running yet (the daemon is not left a child of crun)" {
	# crun is a child subreaper while it runs a container in the
	# foreground and waits for every descendant. procview-runc starts
	# procviewd (through a trampoline) before it execs crun, so the daemon
	# is re-parented above crun, and the hook finds it running.
	pv_stop_daemon
	run pv_daemon_pid
	[ "$status" -ne 0 ]
	local started=$SECONDS
	run crun_pv_run "$ENG_PROBE"
	echo "$output (status $status after $((SECONDS - started)) s)"
	case $status in 124 | 137)
		echo "crun run did not return"
		pgrep -a procviewd
		return 1
		;;
	esac
	[ "$status" -eq 0 ]
	eng_check_views "$output"
	local pid ppid
	pid=$(wait_until 5000 pv_daemon_pid)
	ppid=$(awk '{print $4}' "/proc/$pid/stat")
	echo "procviewd $pid, parent $ppid: $(tr '\0' ' ' <"/proc/$ppid/cmdline" 2>/dev/null)"
	[ "$(basename -- "$(readlink "/proc/$ppid/exe")")" != crun ]
}
