#!/usr/bin/env bats
# Delivery acceptance, static views: a busybox container started through
# bin/procview-runc with 256 MiB and a 50000/100000 CPU quota sees its own
# limits in /proc and /sys. Expected values come from the limits set in
# helpers.bash (PV_MEM_LIMIT, PV_CPU_QUOTA/PERIOD) or from the host.

load helpers

setup_file() { pv_setup_file; }
teardown_file() { pv_teardown_file; }
setup() {
	pv_setup
	requires binaries
}
teardown() { pv_teardown; }

@test "meminfo: MemTotal is the memory limit" {
	new_bundle busybox
	run pv_run 'cat /proc/meminfo'
	[ "$status" -eq 0 ]
	got=$(meminfo_kb MemTotal <<<"$output")
	[ "$got" -eq $((PV_MEM_LIMIT / 1024)) ]
	# MemFree and MemAvailable can not exceed the total.
	[ "$(meminfo_kb MemFree <<<"$output")" -le "$got" ]
	[ "$(meminfo_kb MemAvailable <<<"$output")" -le "$got" ]
}

@test "online: /sys/devices/system/cpu/online lists ceil(quota/period) CPUs" {
	new_bundle busybox
	run pv_run 'cat /sys/devices/system/cpu/online'
	[ "$status" -eq 0 ]
	n=$(pv_cpus)
	if [ "$n" -eq 1 ]; then want=0; else want=0-$((n - 1)); fi
	[ "$output" = "$want" ]
}

@test "cpuinfo: one processor entry per visible CPU" {
	new_bundle busybox
	run pv_run 'grep -c ^processor /proc/cpuinfo'
	[ "$status" -eq 0 ]
	[ "$output" -eq "$(pv_cpus)" ]
}

@test "stat: one cpuN line per visible CPU" {
	new_bundle busybox
	run pv_run 'grep -c "^cpu[0-9]" /proc/stat'
	[ "$status" -eq 0 ]
	[ "$output" -eq "$(pv_cpus)" ]
}

@test "uptime = container: first field is below 5 s right after start" {
	new_bundle busybox
	# The default (auto) shows the host's uptime without a time namespace
	# (debian.bats checks it against ps and psutil).
	set_annotation io.procview.uptime container
	run pv_run 'cat /proc/uptime'
	[ "$status" -eq 0 ]
	up=$(awk '{print int($1)}' <<<"$output")
	[ "$up" -lt 5 ]
	# The host's uptime is larger: the view is not the host file.
	host=$(awk '{print int($1)}' /proc/uptime)
	[ "$host" -gt 5 ] || skip "host booted less than 5 s ago"
}

@test "vmstat: differs from the host's; pgfault is the cgroup's, below the host's" {
	new_bundle busybox
	run pv_run 'cat /proc/vmstat'
	[ "$status" -eq 0 ]
	[ -n "$output" ]
	got=$(awk '$1 == "pgfault" {print $2}' <<<"$output")
	host=$(awk '$1 == "pgfault" {print $2}' /proc/vmstat)
	echo "pgfault container=$got host=$host"
	[ -n "$got" ]
	# A fresh container has faulted a tiny fraction of what the host has
	# (the host's counter only grows, so a plain /proc read would be close).
	[ "$got" -lt $((host / 2)) ]
}

@test "every view is a mount in the container and reads non-empty" {
	new_bundle busybox
	pv_start
	wait_views
	mi=$(cexec_ok 'cat /proc/self/mountinfo')
	missing=()
	for p in "${PV_MOUNTED_VIEW_PATHS[@]}"; do
		case $p in /proc/pressure/*) [ -r "$p" ] || continue ;; esac
		bytes=$(cexec "cat $p | wc -c") || bytes=0
		# diskstats lists only devices the container used: empty before any I/O.
		if [ "${bytes:-0}" -le 0 ] && [ "$p" != /proc/diskstats ]; then
			missing+=("$p: empty or unreadable")
		fi
		if ! awk -v p="$p" '$5 == p {f=1} END {exit !f}' <<<"$mi"; then
			missing+=("$p: not a mount point")
		fi
	done
	if [ ${#missing[@]} -gt 0 ]; then
		printf '%s\n' "${missing[@]}"
		return 1
	fi
}

@test "views are read-only mounts in the container" {
	new_bundle busybox
	run pv_run 'awk '\''$5 == "/proc/meminfo" || $5 == "/sys/devices/system/cpu/online" {print $5, $6}'\'' /proc/self/mountinfo; echo x >/proc/meminfo && echo WRITABLE'
	echo "$output"
	[ "$status" -ne 0 ] || [[ "$output" != *WRITABLE* ]]
	[ "$(grep -c '^/' <<<"$output")" -eq 2 ]
	while read -r path opts; do
		[[ ",$opts," == *,ro,* ]] || { echo "$path is mounted $opts"; return 1; }
	done < <(grep '^/' <<<"$output")
}

@test "swaps: reads, header first" {
	new_bundle busybox
	run pv_run 'cat /proc/swaps'
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == Filename* ]]
}

@test "state: the container has a directory with meta.json under the state root while it runs" {
	new_bundle busybox
	pv_start
	wait_views
	[ -d "$PV_STATE/containers/$CID" ]
	[ -f "$PV_STATE/containers/$CID/meta.json" ]
	jq -e . "$PV_STATE/containers/$CID/meta.json" >/dev/null
	[ -s "$PV_STATE/containers/$CID/views/meminfo" ]
	# A daemon runs for this state root.
	pv_daemon_pid
}

@test "annotation io.procview.enabled=false opts the container out" {
	new_bundle busybox
	set_annotation io.procview.enabled false
	run pv_run 'cat /proc/meminfo'
	[ "$status" -eq 0 ]
	host=$(meminfo_kb MemTotal </proc/meminfo)
	[ "$(meminfo_kb MemTotal <<<"$output")" -eq "$host" ]
	[ ! -e "$PV_STATE/containers/$CID" ]
}

# The rows of docs/views.md's former "checked by hand" list that no
# consumer test in debian.bats covers: procps `uptime`'s load, util-linux
# `swapon --show`, psutil's per-CPU times.
@test "consumers (Debian): uptime's load is /proc/loadavg's, swapon --show parses /proc/swaps, psutil cpu_times(percpu=True) has one entry per visible CPU" {
	requires python3
	new_bundle debian
	pv_start
	wait_views
	# loadavg read before and after uptime in one exec; a refresh between
	# them changes the file, so retry until both reads agree.
	same_load() {
		out=$(cexec 'cat /proc/loadavg; LC_ALL=C uptime; cat /proc/loadavg') || return 1
		l1=$(awk 'NR == 1 {print $1 ", " $2 ", " $3}' <<<"$out")
		l2=$(awk 'NR == 3 {print $1 ", " $2 ", " $3}' <<<"$out")
		# ... and that is the view procviewd writes.
		l3=$(awk '{print $1 ", " $2 ", " $3}' "$(pv_view_file loadavg)")
		[ "$l1" = "$l2" ] && [ "$l1" = "$l3" ] && [[ "$(sed -n 2p <<<"$out")" == *"load average: $l1" ]]
	}
	if ! wait_until 5000 same_load; then
		echo "loadavg / uptime / loadavg: $out"
		return 1
	fi
	echo "$out"
	# swapon reads /proc/swaps: one device line per swap line after the header.
	run cexec 'swapon --show=NAME,SIZE --bytes --noheadings; echo rc=$?; tail -n +2 /proc/swaps'
	echo "$output"
	[ "${lines[0]}" = "rc=0" ] || [[ "$output" == *$'\nrc=0'* ]]
	swaps=$(sed -n '/^rc=0$/,$p' <<<"$output" | tail -n +2 | grep -c . || true)
	shown=$(sed -n '/^rc=0$/q;p' <<<"$output" | grep -c . || true)
	[ "$shown" -eq "$swaps" ]
	run cexec 'python3 -c "import psutil; print(len(psutil.cpu_times(percpu=True)))"'
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$output" -eq "$(pv_cpus)" ]
	[ "$(pv_cpus)" -lt "$(nproc)" ]
}
