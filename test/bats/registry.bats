#!/usr/bin/env bats
# shellcheck disable=SC2016
# The registry, metrics and `procview ps` (issue 13): a container procview
# manages (docker --runtime procview), one docker runs with its default
# runtime and one podman runs with plain runc are all in `procview ps -o
# json` and in /metrics with their names, limits and managed flags; values
# are checked against the cgroup files; a removed container is gone from
# both within 2 refreshes; promtool check metrics is clean.
#
# A private containerd + dockerd and a private podman store live in this
# file's work dir; procviewd serves metrics on REG_PORT (not 9847: other
# daemons on the machine may hold it). Heavy: run under
# flock /tmp/procview-heavy.lock.

load helpers
load engines

REG_PORT=${REG_PORT:-19861}

reg_config() {
	pv_write_config "metrics_address = \"127.0.0.1:$REG_PORT\"" \
		"docker_root = \"$PV_WORK/engines/dockerd/data\"" \
		"podman_root = \"$PV_WORK/podman/root\""
}

setup_file() {
	pv_setup_file
	eng_need_file dockerd containerd docker curl promtool || return 0
	reg_config
	eng_start_dockerd
	pv_start_daemon
	wait_until 10000 curl -sf -o /dev/null "127.0.0.1:$REG_PORT/metrics"
}

teardown_file() {
	local ids
	if [ -S "$PV_WORK/engines/dockerd/docker.sock" ]; then
		ids=$(eng_docker ps -aq 2>/dev/null) || ids=
		# shellcheck disable=SC2086
		[ -z "$ids" ] || eng_docker rm -f $ids >/dev/null 2>&1 || true
	fi
	if command -v podman >/dev/null && [ -d "$PV_WORK/podman" ]; then
		reg_podman rm -af >/dev/null 2>&1 || true
	fi
	eng_stop_all
	pv_teardown_file
}

setup() { eng_setup cli cgroupv1; }

teardown() {
	eng_failure_dump dockerd
	pv_teardown
	reg_config
}

reg_podman() {
	timeout 120 podman --root "$PV_WORK/podman/root" --runroot "$PV_WORK/podman/runroot" \
		--tmpdir "$PV_WORK/podman/tmp" --storage-driver vfs --cgroup-manager cgroupfs --events-backend file "$@"
}

# reg_metrics: one scrape.
reg_metrics() { curl -sf "127.0.0.1:$REG_PORT/metrics"; }

# reg_value NAME ID: the value of series NAME of container ID in the last
# scrape ($METRICS).
reg_value() {
	awk -v n="$1" -v id="container_id=\"$2\"" 'index($0, n "{") == 1 && index($0, id) {print $NF; f=1} END {exit !f}' <<<"$METRICS"
}

# reg_int NAME ID: reg_value as an integer (Prometheus prints 2.68435456e+08).
reg_int() {
	local v
	v=$(reg_value "$@") || return 1
	awk -v v="$v" 'BEGIN {printf "%d", v}'
}

# reg_rounds: procviewd's refresh rounds so far.
reg_rounds() { reg_metrics | awk '$1 == "procview_refresh_rounds_total" {print $2}'; }

# reg_wait_rounds N: wait until procviewd finished N more rounds.
reg_wait_rounds() {
	local want=$(($(reg_rounds) + $1))
	wait_until 20000 eval '[ "$(reg_rounds)" -ge '"$want"' ]'
}

# reg_in_ps ID...: every ID is in procview ps -o json.
reg_in_ps() {
	local json id
	json=$("$PV_CLI" ps -o json) || return 1
	for id in "$@"; do
		jq -e --arg id "$id" 'any(.[]; .id == $id)' <<<"$json" >/dev/null || return 1
	done
}

# cg_file PID CONTROLLER FILE: FILE of PID's cgroup in the v1 hierarchy of
# CONTROLLER, read from the kernel (not from procview).
cg_file() {
	local p
	p=$(awk -F: -v c="$2" '{n = split($2, cs, ","); for (i = 1; i <= n; i++) if (cs[i] == c) print $3}' "/proc/$1/cgroup")
	# The controller's directory may be "cpu,cpuacct" (or a link to it).
	cat /sys/fs/cgroup/"$2"*/"${p#/}"/"$3" 2>/dev/null | head -n 1
}

# ps_field JSON ID FIELD
ps_field() { jq -r --arg id "$2" --arg f "$3" '.[] | select(.id == $id) | .[$f]' <<<"$1"; }

start_containers() {
	run eng_docker run -d --name pvreg-managed --runtime procview --network none -m 256m --cpus 0.5 \
		procview-test/busybox:latest sleep 100000
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	MANAGED=$(tail -n1 <<<"$output")
	run eng_docker run -d --name pvreg-plain --network none -m 128m --cpus 0.25 \
		procview-test/busybox:latest sleep 100000
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	PLAIN=$(tail -n1 <<<"$output")
	MPID=$(eng_docker inspect -f '{{.State.Pid}}' "$MANAGED")
	PPID_=$(eng_docker inspect -f '{{.State.Pid}}' "$PLAIN")
}

@test "registry: a procview container and a default-runtime docker container in ps -o json with their limits, names and managed flags" {
	start_containers
	# A new unmanaged container shows at the next discovery (every 5 rounds).
	wait_until 15000 reg_in_ps "$MANAGED" "$PLAIN"
	json=$("$PV_CLI" ps -o json)
	[ "$(ps_field "$json" "$MANAGED" name)" = pvreg-managed ]
	[ "$(ps_field "$json" "$MANAGED" managed)" = true ]
	[ "$(ps_field "$json" "$MANAGED" runtime)" = docker ]
	[ "$(ps_field "$json" "$MANAGED" pid)" -eq "$MPID" ]
	[ "$(ps_field "$json" "$PLAIN" name)" = pvreg-plain ]
	[ "$(ps_field "$json" "$PLAIN" managed)" = false ]
	[ "$(ps_field "$json" "$PLAIN" runtime)" = docker ]
	[ "$(ps_field "$json" "$PLAIN" image)" = procview-test/busybox:latest ]
	[ "$(ps_field "$json" "$PLAIN" pid)" -eq "$PPID_" ]
	for c in "$MANAGED:$MPID" "$PLAIN:$PPID_"; do
		id=${c%%:*} pid=${c#*:}
		[ "$(ps_field "$json" "$id" memory_limit_bytes)" -eq "$(cg_file "$pid" memory memory.limit_in_bytes)" ]
		want=$(awk -v q="$(cg_file "$pid" cpu cpu.cfs_quota_us)" -v p="$(cg_file "$pid" cpu cpu.cfs_period_us)" 'BEGIN {print q / p}')
		[ "$(ps_field "$json" "$id" cpu_limit_cores)" = "$want" ]
		# The working set is usage - inactive_file of one sample: at most usage now + slack.
		ws=$(ps_field "$json" "$id" memory_working_set_bytes)
		[ "$ws" -gt 0 ]
		[ "$ws" -le "$(cg_file "$pid" memory memory.max_usage_in_bytes)" ]
	done
	[ "$(ps_field "$json" "$MANAGED" memory_limit_bytes)" -eq 268435456 ]
	[ "$(ps_field "$json" "$PLAIN" memory_limit_bytes)" -eq 134217728 ]
	[ "$(ps_field "$json" "$MANAGED" cpu_limit_cores)" = 0.5 ]
	[ "$(ps_field "$json" "$PLAIN" cpu_limit_cores)" = 0.25 ]
	# The table names both too.
	run "$PV_CLI" ps
	[ "$status" -eq 0 ]
	grep -q "^${MANAGED:0:12} .*pvreg-managed" <<<"$output"
	grep -q "^${PLAIN:0:12} .*pvreg-plain" <<<"$output"
	# top's batch mode prints N frames.
	run "$PV_CLI" top -b -n 2 --order memory
	[ "$status" -eq 0 ]
	[ "$(grep -c '^procview top' <<<"$output")" -eq 2 ]
	grep -q pvreg-plain <<<"$output"
}

@test "registry: /metrics has cAdvisor-named series for both with their cgroups' values; promtool check metrics is clean" {
	reg_in_ps "$(eng_docker inspect -f '{{.Id}}' pvreg-managed)" || start_containers
	MANAGED=$(eng_docker inspect -f '{{.Id}}' pvreg-managed)
	PLAIN=$(eng_docker inspect -f '{{.Id}}' pvreg-plain)
	MPID=$(eng_docker inspect -f '{{.State.Pid}}' "$MANAGED")
	PPID_=$(eng_docker inspect -f '{{.State.Pid}}' "$PLAIN")
	wait_until 15000 reg_in_ps "$MANAGED" "$PLAIN"
	# Counters: read the cgroup, let two rounds pass, scrape, read again:
	# the scraped value lies between the two readings.
	u0m=$(cg_file "$MPID" cpuacct cpuacct.usage)
	u0p=$(cg_file "$PPID_" cpuacct cpuacct.usage)
	reg_wait_rounds 2
	METRICS=$(reg_metrics)
	u1m=$(cg_file "$MPID" cpuacct cpuacct.usage)
	u1p=$(cg_file "$PPID_" cpuacct cpuacct.usage)
	for c in "$MANAGED:$MPID:$u0m:$u1m:true:pvreg-managed" "$PLAIN:$PPID_:$u0p:$u1p:false:pvreg-plain"; do
		IFS=: read -r id pid u0 u1 managed name <<<"$c"
		v=$(reg_value container_cpu_usage_seconds_total "$id")
		awk -v v="$v" -v a="$u0" -v b="$u1" 'BEGIN {exit !(v >= a / 1e9 - 1e-9 && v <= b / 1e9 + 1e-9)}' ||
			{ echo "cpu usage $v not in [$u0, $u1] ns"; false; }
		[ "$(reg_int container_spec_memory_limit_bytes "$id")" -eq "$(cg_file "$pid" memory memory.limit_in_bytes)" ]
		[ "$(reg_value container_spec_cpu_quota "$id")" -eq "$(cg_file "$pid" cpu cpu.cfs_quota_us)" ]
		[ "$(reg_value container_spec_cpu_period "$id")" -eq "$(cg_file "$pid" cpu cpu.cfs_period_us)" ]
		[ "$(reg_int container_processes "$id")" -eq "$(cat /sys/fs/cgroup/pids/"$(awk -F: '$2 == "pids" {print $3}' "/proc/$pid/cgroup")"/cgroup.procs | wc -l)" ]
		for n in container_memory_working_set_bytes container_memory_usage_bytes container_memory_rss container_memory_cache \
			container_cpu_user_seconds_total container_cpu_system_seconds_total container_cpu_cfs_throttled_periods_total \
			container_oom_events_total container_fs_reads_bytes_total container_threads container_start_time_seconds; do
			reg_value "$n" "$id" >/dev/null || { echo "no $n for $id"; false; }
		done
		grep -q "^procview_container_info{.*container_id=\"$id\".*managed=\"$managed\".*name=\"$name\"" <<<"$METRICS"
	done
	# What procview shows the managed container, next to the truth.
	[ "$(reg_int procview_view_memtotal_bytes "$MANAGED")" -eq 268435456 ]
	[ "$(reg_value procview_view_cpus "$MANAGED")" -eq 1 ]
	! reg_value procview_view_cpus "$PLAIN" >/dev/null || false
	run promtool check metrics <<<"$METRICS"
	echo "$output"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
}

@test "registry: a podman container (plain runc) is listed with its name, unmanaged" {
	requires podman
	mkdir -p "$PV_WORK/podman"
	if ! reg_podman image exists pvreg/busybox; then
		tar -C "$PV_WORK/engines/dockerd/rootfs" -c . | reg_podman import - pvreg/busybox >&2
	fi
	run reg_podman run -d --name pvreg-podman --runtime runc --network none \
		--ulimit nofile=1024:1024 --ulimit nproc=4096:4096 -m 64m --cpus 0.75 pvreg/busybox sleep 100000
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	id=$(tail -n1 <<<"$output")
	pid=$(reg_podman inspect -f '{{.State.Pid}}' "$id")
	wait_until 15000 reg_in_ps "$id"
	json=$("$PV_CLI" ps -o json)
	[ "$(ps_field "$json" "$id" name)" = pvreg-podman ]
	[ "$(ps_field "$json" "$id" runtime)" = podman ]
	[ "$(ps_field "$json" "$id" managed)" = false ]
	[ "$(ps_field "$json" "$id" memory_limit_bytes)" -eq "$(cg_file "$pid" memory memory.limit_in_bytes)" ]
	[ "$(ps_field "$json" "$id" cpu_limit_cores)" = 0.75 ]
	reg_podman rm -f "$id" >/dev/null
	reg_wait_rounds 2
	run reg_in_ps "$id"
	[ "$status" -ne 0 ]
}

@test "registry: removed containers leave ps and /metrics within 2 refreshes" {
	MANAGED=$(eng_docker inspect -f '{{.Id}}' pvreg-managed 2>/dev/null) || start_containers
	PLAIN=$(eng_docker inspect -f '{{.Id}}' pvreg-plain)
	wait_until 15000 reg_in_ps "$MANAGED" "$PLAIN"
	eng_docker rm -f "$MANAGED" "$PLAIN" >/dev/null
	reg_wait_rounds 2
	json=$("$PV_CLI" ps -o json)
	[ "$(jq --arg a "$MANAGED" --arg b "$PLAIN" '[.[] | select(.id == $a or .id == $b)] | length' <<<"$json")" -eq 0 ]
	METRICS=$(reg_metrics)
	run grep -c -e "container_id=\"$MANAGED\"" -e "container_id=\"$PLAIN\"" <<<"$METRICS"
	[ "$output" = 0 ]
}

@test "registry: procview ps reads the cgroups itself when no daemon runs" {
	run "$PV_CLI" ps --local -o json
	[ "$status" -eq 0 ]
	jq -e 'type == "array"' <<<"$output"
}
