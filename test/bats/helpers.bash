# shellcheck shell=bash disable=SC2016,SC2034,SC2119,SC2120
# helpers.bash: shared setup for procview's end-to-end bats tests.
#
# Every test file gets a private work directory ($PV_WORK, on a real disk so
# direct I/O reaches a block device), a private state root ($PV_STATE, on
# /run), a private runc root ($PV_RUNC_ROOT) and a config file
# ($PROCVIEW_CONFIG). Containers get unique ids and cgroups under
# /procview-test-bats/<id>; teardown removes every container, procviewd and
# cgroup the file made, and nothing else.
#
# Usage in a .bats file:
#   load helpers
#   setup_file()    { pv_setup_file; }
#   teardown_file() { pv_teardown_file; }
#   setup()         { pv_setup; }
#   teardown()      { pv_teardown; }

PV_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PV_BIN=${PROCVIEW_BIN:-$PV_REPO/bin}
PV_WRAPPER=$PV_BIN/procview-runc
PV_HOOK=$PV_BIN/procview-hook
PV_DAEMON=$PV_BIN/procviewd
PV_CLI=$PV_BIN/procview
RUNC=${RUNC:-runc}
# Parent of every cgroup the tests create, in every hierarchy.
PV_CGROUP_PARENT=procview-test-bats

# No single runtime call may hang the suite: each is killed after this
# many seconds (exit status 124).
PV_TIMEOUT=${PV_TIMEOUT:-120}

# The limits every bundle gets; expected values are derived from these.
PV_MEM_LIMIT=268435456
PV_CPU_QUOTA=50000
PV_CPU_PERIOD=100000

# What only procview's own fail_mode=closed refusal prints: the hook's
# "procview: refusing to start the container (fail_mode = "closed")" or the
# wrapper's "procview-runc: refusing to create container ... (fail_mode=closed)".
# Tests grep for this, not for "procview", which work paths and crash traces
# contain too.
# runc quotes the hook's stderr in its own error, escaping the quotes.
PV_REFUSAL_RE='procview(-runc)?: refusing to .*fail_mode[ =\\"]*closed'

# Files under /proc (and /sys) that procview provides.
PV_VIEW_PATHS=(
	/proc/meminfo /proc/cpuinfo /proc/stat /proc/uptime /proc/loadavg
	/proc/diskstats /proc/swaps /proc/vmstat
	/proc/pressure/cpu /proc/pressure/memory /proc/pressure/io
	/sys/devices/system/cpu/online /sys/devices/system/cpu/possible
	/sys/devices/system/cpu/present
)
# The paths mounted in a container with the default uptime = "auto": all but
# /proc/uptime, which is mounted only with uptime = "container" and no time
# namespace (elsewhere the kernel's own file is the right one; debian.bats).
PV_MOUNTED_VIEW_PATHS=()
for _p in "${PV_VIEW_PATHS[@]}"; do
	[ "$_p" = /proc/uptime ] || PV_MOUNTED_VIEW_PATHS+=("$_p")
done
unset _p

# requires WHAT...: skip the test unless each requirement holds.
# root, runc, crun, podman, jq, python3, debootstrap (any command name),
# binaries (bin/procview-{runc,hook}, procviewd built), cgroupv1, cgroupv2,
# psi (host has /proc/pressure).
requires() {
	local r
	for r in "$@"; do
		case $r in
		root)
			[ "$(id -u)" -eq 0 ] || skip "needs root"
			;;
		binaries)
			local b
			for b in "$PV_WRAPPER" "$PV_HOOK" "$PV_DAEMON"; do
				[ -x "$b" ] && continue
				# In CI a missing binary is a build failure, not a reason to skip.
				if [ -n "${CI:-}" ] || [ -n "${PROCVIEW_TEST_STRICT:-}" ]; then
					echo "missing $b (run make build)" >&2
					return 1
				fi
				skip "needs $b (run make build)"
			done
			;;
		cli)
			[ -x "$PV_CLI" ] || skip "needs $PV_CLI (run make build)"
			;;
		cgroupv1)
			[ -d /sys/fs/cgroup/memory ] || skip "needs cgroup v1 memory controller"
			;;
		cgroupv2)
			[ -f /sys/fs/cgroup/cgroup.controllers ] || skip "needs a cgroup v2 host"
			;;
		psi)
			[ -r /proc/pressure/cpu ] || skip "host kernel has no PSI"
			;;
		*)
			command -v "$r" >/dev/null || skip "needs $r"
			;;
		esac
	done
}

# pv_cpus prints how many CPUs the container view should show:
# min(host CPUs, ceil(quota/period)), the "quota" cpu_view.
pv_cpus() {
	local host n
	host=$(grep -c '^processor' /proc/cpuinfo)
	n=$(((PV_CPU_QUOTA + PV_CPU_PERIOD - 1) / PV_CPU_PERIOD))
	[ "$n" -gt "$host" ] && n=$host
	echo "$n"
}

# pv_write_config [EXTRA TOML LINES...]: (re)write $PROCVIEW_CONFIG.
pv_write_config() {
	{
		echo "state_root = \"$PV_STATE\""
		echo "refresh_interval = \"${PV_REFRESH:-500ms}\""
		echo "log_level = \"debug\""
		echo "log_file = \"$PV_LOG\""
		[ -z "${PV_RUNTIME:-}" ] || echo "runtime = \"$PV_RUNTIME\""
		local l
		for l in "$@"; do echo "$l"; done
		# No metrics unless a test asks: the default port is one per machine,
		# and a daemon that cannot bind it logs a warning.
		[[ " $* " == *" metrics_address "* ]] || echo 'metrics_address = ""'
	} >"$PROCVIEW_CONFIG"
}

# pv_use_runc12: run this file's containers on runc 1.2 (time namespaces),
# built from the Go module proxy and cached by test/runtimes/runc12.sh; call
# at the start of setup_file, before pv_setup_file.
pv_use_runc12() {
	PV_RUNTIME=$("$PV_REPO/test/runtimes/runc12.sh") || return 1
	RUNC=$PV_RUNTIME
	export PV_RUNTIME RUNC
}

pv_setup_file() {
	# bats 1.8 reports a skip in setup_file as a failure: when the basics
	# are missing do nothing here and let pv_setup's `requires` skip each test.
	[ "$(id -u)" -eq 0 ] && command -v jq >/dev/null && command -v "$RUNC" >/dev/null || return 0
	# A real disk, not tmpfs: the diskstats test needs direct I/O on a block
	# device, and the Debian rootfs is too big for a small /tmp.
	local base=${PROCVIEW_TEST_WORKDIR:-/var/tmp}
	mkdir -p "$base"
	PV_WORK=$(mktemp -d "$base/procview-test.XXXXXX")
	chmod 0755 "$PV_WORK"
	PV_STATE=$(mktemp -d /run/procview-test.XXXXXX)
	PV_RUNC_ROOT=$PV_WORK/runc-root
	PV_LOG=$PV_WORK/procview.log
	PROCVIEW_CONFIG=$PV_WORK/config.toml
	mkdir -p "$PV_RUNC_ROOT" "$PV_WORK/bundles"
	: >"$PV_WORK/containers"
	export PV_WORK PV_STATE PV_RUNC_ROOT PV_LOG PROCVIEW_CONFIG
	pv_write_config
}

pv_teardown_file() {
	[ -n "${PV_WORK:-}" ] || return 0
	pv_cleanup_containers
	pv_stop_daemon
	pv_stop_agent
	pv_umount_under "$PV_STATE"
	pv_umount_under "$PV_WORK"
	pv_remove_cgroups
	rm -rf "$PV_STATE" "$PV_WORK"
}

pv_setup() {
	requires root jq "$RUNC"
	[ -n "${PV_WORK:-}" ] || { echo "pv_setup_file did not run" >&2; return 1; }
	: >"$PV_WORK/containers.test"
}

pv_teardown() {
	[ -n "${PV_WORK:-}" ] || return 0
	if [ -z "${BATS_TEST_COMPLETED:-}" ]; then
		pv_dump_logs
	fi
	pv_cleanup_containers
	# Tests that rewrote the config restore the file-wide one.
	pv_write_config
}

# pv_dump_logs prints what helps to understand a failure.
pv_dump_logs() {
	echo "---- procview log ($PV_LOG), last 60 lines"
	tail -n 60 "$PV_LOG" 2>/dev/null || echo "(none)"
	echo "---- state root $PV_STATE"
	find "$PV_STATE" -maxdepth 4 2>/dev/null | head -n 60
	local f
	for f in "$PV_WORK"/bundles/*/out.log; do
		[ -s "$f" ] || continue
		echo "---- $f"
		tail -n 20 "$f"
	done
	echo "---- runc list"
	"$RUNC" --root "$PV_RUNC_ROOT" list 2>&1 || true
}

# pv_cleanup_containers kills and deletes every container this file made.
pv_cleanup_containers() {
	local id
	[ -f "$PV_WORK/containers" ] || return 0
	while read -r id; do
		[ -n "$id" ] || continue
		if "$RUNC" --root "$PV_RUNC_ROOT" state "$id" >/dev/null 2>&1; then
			"$RUNC" --root "$PV_RUNC_ROOT" kill "$id" KILL >/dev/null 2>&1 || true
			# delete --force runs the poststop hook, which is procview's cleanup.
			"$RUNC" --root "$PV_RUNC_ROOT" delete --force "$id" >/dev/null 2>&1 ||
				{ sleep 0.5; "$RUNC" --root "$PV_RUNC_ROOT" delete --force "$id" >/dev/null 2>&1 || true; }
		fi
	done <"$PV_WORK/containers"
}

# pv_daemon_pid prints the pid of the procviewd serving $PV_STATE, if alive.
pv_daemon_pid() {
	local pid
	pid=$(cat "$PV_STATE/procviewd.pid" 2>/dev/null) || return 1
	pid=${pid//[^0-9]/}
	[ -n "$pid" ] && [ -d "/proc/$pid" ] || return 1
	# Guard against pid reuse: only ever signal a process whose argv[0] is
	# procviewd (a bats test's own argv may name "procviewd" too).
	local argv0
	argv0=$(tr '\0' '\n' 2>/dev/null <"/proc/$pid/cmdline" | head -n1)
	[ "$(basename -- "${argv0:-x}")" = procviewd ] || return 1
	echo "$pid"
}

# pid_gone PID: the process has exited (gone, or a zombie nobody reaped yet).
pid_gone() {
	[ ! -d "/proc/$1" ] || grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null
}

# pv_daemons lists the pids of every live procviewd started for this file's
# config (named on its command line or in its environment).
pv_daemons() {
	local d cmd env
	for d in /proc/[0-9]*; do
		cmd=$(tr '\0' '\n' 2>/dev/null <"$d/cmdline") || continue
		# argv[0] only: the bats test's own cmdline names "procviewd" too.
		[ "$(basename -- "$(head -n1 <<<"$cmd")")" = procviewd ] || continue
		env=$(tr '\0' '\n' 2>/dev/null <"$d/environ") || env=
		if grep -qxF -e "$PROCVIEW_CONFIG" -e "--config=$PROCVIEW_CONFIG" <<<"$cmd" ||
			grep -qxF "PROCVIEW_CONFIG=$PROCVIEW_CONFIG" <<<"$env"; then
			echo "${d#/proc/}"
		fi
	done
}

# pv_stop_daemon stops the procviewd of this file's state root (only that one).
pv_stop_daemon() {
	local pid i
	pid=$(pv_daemon_pid) || return 0
	kill -TERM "$pid" 2>/dev/null || return 0
	for i in $(seq 50); do
		[ -d "/proc/$pid" ] || return 0
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
}

# pv_agent_pids prints the procview-agent holder of $PV_STATE and its
# workers (children started with --worker), if alive.
pv_agent_pids() {
	local pid c
	pid=$(cat "$PV_STATE/agent.pid" 2>/dev/null) || return 0
	pid=${pid//[^0-9]/}
	[ -n "$pid" ] && [ -d "/proc/$pid" ] || return 0
	[ "$(basename -- "$(tr '\0' '\n' <"/proc/$pid/cmdline" | head -n1)")" = procview-agent ] || return 0
	echo "$pid"
	pv_agent_workers "$pid"
}

# pv_agent_workers HOLDER: the holder's worker children.
pv_agent_workers() {
	local c
	for c in $(cat "/proc/$1/task/"*/children 2>/dev/null); do
		grep -qa -- --worker "/proc/$c/cmdline" 2>/dev/null && echo "$c"
	done
	return 0
}

# pv_stop_agent kills the procview-agent of this file's state root (holder,
# workers, and orphaned workers a test listed in $PV_WORK/agent-orphans).
pv_stop_agent() {
	local p
	for p in $(pv_agent_pids) $(cat "$PV_WORK/agent-orphans" 2>/dev/null); do
		kill -KILL "$p" 2>/dev/null || true
	done
}

# pv_build_probe: build test/bats/sysinfo/sysinfo.c statically into
# $PV_WORK/probe64 (and $PV_WORK/probe32 with gcc-multilib), once per file.
pv_build_probe() {
	[ -x "$PV_WORK/probe64" ] && return 0
	command -v gcc >/dev/null || return 0
	gcc -O2 -static -o "$PV_WORK/probe64" "$PV_REPO/test/bats/sysinfo/sysinfo.c"
	gcc -O2 -m32 -static -o "$PV_WORK/probe32" "$PV_REPO/test/bats/sysinfo/sysinfo.c" 2>/dev/null || true
}

# pv_start_daemon starts procviewd on this file's config, detached.
pv_start_daemon() {
	setsid -f "$PV_DAEMON" --config "$PROCVIEW_CONFIG" </dev/null >>"$PV_WORK/procviewd.out" 2>&1
}

# pv_umount_under DIR: unmount every mount at or below DIR, deepest first.
pv_umount_under() {
	local dir=$1 m
	[ -n "$dir" ] && [ -d "$dir" ] || return 0
	awk '{print $5}' /proc/self/mountinfo | grep -E "^${dir}(/|$)" | sort -r |
		while read -r m; do umount -l "$m" 2>/dev/null || true; done
}

# pv_kill_cgroup DIR: SIGKILL every process in the cgroup DIR (and below)
# and wait up to 2 s for them to leave.
pv_kill_cgroup() {
	local dir=$1 pids i
	# Never anything but a test's own cgroup: .../procview-test-bats/<id>.
	case $(realpath -m -- "$dir") in
	/sys/fs/cgroup/*/"$PV_CGROUP_PARENT"/?* | /sys/fs/cgroup/"$PV_CGROUP_PARENT"/?*) ;;
	*) echo "pv_kill_cgroup: refusing $dir" >&2; return 1 ;;
	esac
	for i in $(seq 20); do
		pids=$(find "$dir" -name cgroup.procs -exec cat {} + 2>/dev/null | sort -u)
		[ -n "$pids" ] || return 0
		# shellcheck disable=SC2086
		kill -KILL $pids 2>/dev/null || true
		sleep 0.1
	done
}

# pv_remove_cgroups removes the cgroups under /procview-test-bats that this
# file's containers used (runc normally removes them on delete), then the
# parent if it is empty. Nothing outside procview-test-bats is touched.
pv_remove_cgroups() {
	local id h
	while read -r id; do
		# A plain name only: "..", "" or a path could name another cgroup.
		[[ $id =~ ^[A-Za-z0-9][A-Za-z0-9_.-]*$ ]] || continue
		for h in /sys/fs/cgroup/*/"$PV_CGROUP_PARENT"/"$id" /sys/fs/cgroup/"$PV_CGROUP_PARENT"/"$id"; do
			[ -d "$h" ] || continue
			# Safety net for containers runc lost track of (a test killed
			# mid-way): whatever still runs in this test's own cgroup goes.
			pv_kill_cgroup "$h"
			find "$h" -depth -type d -exec rmdir {} \; 2>/dev/null || true
		done
	done <"$PV_WORK/containers"
	for h in /sys/fs/cgroup/*/"$PV_CGROUP_PARENT" /sys/fs/cgroup/"$PV_CGROUP_PARENT"; do
		if [ -d "$h" ]; then rmdir "$h" 2>/dev/null || true; fi
	done
}

# update_config JQ [JQ-OPTIONS...]: apply a jq filter to $BUNDLE/config.json,
# e.g. update_config '.process.args = [$a]' --arg a ls
update_config() {
	local filter=$1
	shift
	jq "$@" "$filter" "$BUNDLE/config.json" >"$BUNDLE/config.json.new"
	mv "$BUNDLE/config.json.new" "$BUNDLE/config.json"
}

# new_bundle [busybox|debian]: make a bundle with a fresh rootfs, the test
# limits and a unique container id; sets BUNDLE and CID.
new_bundle() {
	local kind=${1:-busybox}
	if [ "$kind" = debian ]; then requires debootstrap; fi
	CID=pvt-$(head -c 6 /dev/urandom | od -An -tx1 | tr -d ' \n')
	BUNDLE=$PV_WORK/bundles/$CID
	mkdir -p "$BUNDLE"
	echo "$CID" >>"$PV_WORK/containers"
	"$PV_REPO/test/rootfs/$kind.sh" "$BUNDLE/rootfs" >&2
	(cd "$BUNDLE" && "$RUNC" spec)
	# /dev/shm is raised from runc's 64 MiB so the shm test can fill 100 MiB
	# inside the memory limit; the rootfs is writable for dd.
	update_config '
		.process.terminal = false
		| .process.args = ["sh", "-c", "sleep 100000"]
		| .root.readonly = false
		| .mounts |= map(if .destination == "/dev/shm"
			then .options |= map(if startswith("size=") then "size=200m" else . end)
			else . end)
		| .linux.resources.memory.limit = '"$PV_MEM_LIMIT"'
		| .linux.resources.cpu.quota = '"$PV_CPU_QUOTA"'
		| .linux.resources.cpu.period = '"$PV_CPU_PERIOD"'
		| .linux.cgroupsPath = "/'"$PV_CGROUP_PARENT/$CID"'"'
	export BUNDLE CID
}

# set_cmd SHELL-COMMAND: the container runs sh -c SHELL-COMMAND.
set_cmd() {
	update_config '.process.args = ["sh", "-c", $c]' --arg c "$1"
}

# set_annotation KEY VALUE
set_annotation() {
	update_config '.annotations[$k] = $v' --arg k "$1" --arg v "$2"
}

# rt_run RUNTIME SHELL-COMMAND: run the bundle in the foreground with
# `RUNTIME run` and print its output; exit status is the container's.
rt_run() {
	local rt=$1
	set_cmd "$2"
	timeout -k 5 "$PV_TIMEOUT" "$rt" --root "$PV_RUNC_ROOT" run -b "$BUNDLE" "$CID" </dev/null
}

# pv_run SHELL-COMMAND: run through bin/procview-runc. Use as `run pv_run ...`.
pv_run() { rt_run "$PV_WRAPPER" "$1"; }

# plain_run SHELL-COMMAND: run through plain runc.
plain_run() { rt_run "$RUNC" "$1"; }

# rt_start RUNTIME [SHELL-COMMAND]: start the bundle detached (`run -d`);
# the container's output goes to $BUNDLE/out.log.
rt_start() {
	local rt=$1
	set_cmd "${2:-sleep 100000}"
	timeout -k 5 "$PV_TIMEOUT" "$rt" --root "$PV_RUNC_ROOT" run -d -b "$BUNDLE" "$CID" </dev/null >"$BUNDLE/out.log" 2>&1 ||
		{ cat "$BUNDLE/out.log" >&2; return 1; }
}

pv_start() { rt_start "$PV_WRAPPER" "${1:-}"; }
plain_start() { rt_start "$RUNC" "${1:-}"; }

# cexec SHELL-COMMAND: run a command in the running container $CID.
cexec() {
	timeout -k 5 "$PV_TIMEOUT" "$RUNC" --root "$PV_RUNC_ROOT" exec "$CID" sh -c "$1" </dev/null
}

# cexec_ok SHELL-COMMAND: like cexec, but fails loudly with the output.
cexec_ok() {
	local out
	if ! out=$(cexec "$1" 2>&1); then
		echo "exec failed: $1: $out" >&2
		return 1
	fi
	printf '%s\n' "$out"
}

# meminfo_kb FIELD < meminfo: print FIELD's value in kB.
meminfo_kb() {
	awk -v f="$1:" '$1 == f {print $2; found=1} END {exit !found}'
}

# now_ms prints a monotonic-enough wall clock in milliseconds.
now_ms() { echo $(($(date +%s%N) / 1000000)); }

# wait_until TIMEOUT_MS COMMAND...: retry COMMAND every 100 ms until it
# succeeds or TIMEOUT_MS have passed since the call.
wait_until() {
	local deadline=$(($(now_ms) + $1))
	shift
	while :; do
		"$@" && return 0
		[ "$(now_ms)" -ge "$deadline" ] && return 1
		sleep 0.1
	done
}

# wait_views: wait (up to 5 s) until the container's /proc/meminfo shows
# the memory limit, i.e. procview's views are in place.
wait_views() {
	wait_until 5000 _views_in_place
}
_views_in_place() {
	local kb
	kb=$(cexec 'cat /proc/meminfo' 2>/dev/null | meminfo_kb MemTotal) || return 1
	[ "$kb" -eq $((PV_MEM_LIMIT / 1024)) ]
}

# stat_cpu_line: the container's aggregate "cpu" line from /proc/stat.
stat_cpu_line() {
	cexec 'head -n1 /proc/stat'
}

# busy_percent LINE1 LINE2: 100*(user+nice+system)/total between two
# "cpu ..." lines of /proc/stat (integer).
busy_percent() {
	awk -v a="$1" -v b="$2" 'BEGIN {
		n = split(a, x); split(b, y)
		for (i = 2; i <= n && i <= 9; i++) total += y[i] - x[i]
		busy = (y[2] - x[2]) + (y[3] - x[3]) + (y[4] - x[4])
		if (total <= 0) { print -1; exit }
		printf "%d\n", 100 * busy / total
	}'
}

# host_dev_of PATH: print "MAJ MIN" of the block device holding PATH.
host_dev_of() {
	local mm
	mm=$(findmnt -n -o MAJ:MIN -T "$1" | head -n1) || return 1
	echo "${mm%%:*} ${mm##*:}"
}

# diskstats_written MAJ MIN < diskstats: sectors written (field 10).
diskstats_written() {
	awk -v M="$1" -v m="$2" '$1 == M && $2 == m {print $10; found=1} END {exit !found}'
}

# config_refresh_ms prints refresh_interval of $PROCVIEW_CONFIG in ms.
config_refresh_ms() {
	local v
	v=$(sed -n 's/^refresh_interval *= *"\(.*\)"/\1/p' "$PROCVIEW_CONFIG")
	case $v in
	*ms) echo "${v%ms}" ;;
	*s) awk -v s="${v%s}" 'BEGIN {printf "%d\n", s * 1000}' ;;
	*) echo 1000 ;;
	esac
}

# cgroup_cpu_usec: CPU time (µs) the container's cgroup has used, from
# cgroup v1 cpuacct.usage or v2 cpu.stat usage_usec.
cgroup_cpu_usec() {
	local v1=/sys/fs/cgroup/cpuacct/$PV_CGROUP_PARENT/$CID/cpuacct.usage
	local v2=/sys/fs/cgroup/$PV_CGROUP_PARENT/$CID/cpu.stat
	if [ -r "$v1" ]; then
		echo $(($(cat "$v1") / 1000))
	elif [ -r "$v2" ]; then
		awk '$1 == "usage_usec" {print $2}' "$v2"
	else
		return 1
	fi
}

# quota_share_percent USEC1 USEC2 MS1 MS2: how much of its CPU quota
# the cgroup really got between two points (100 = the whole quota).
quota_share_percent() {
	awk -v u1="$1" -v u2="$2" -v t1="$3" -v t2="$4" -v q="$PV_CPU_QUOTA" -v p="$PV_CPU_PERIOD" \
		'BEGIN { if (t2 <= t1) { print -1; exit } printf "%d\n", 100 * (u2 - u1) / ((t2 - t1) * 1000 * q / p) }'
}

# pv_view_file NAME: host-side path of the container's view NAME (meminfo,
# stat, ...): the file procviewd rewrites and the container's bind mount
# shows. Reading it from the host adds no `runc exec` (whose runc init is
# charged to the container's cgroup) to what is measured.
pv_view_file() {
	local d=$PV_STATE/containers/$CID m
	if [ ! -d "$d" ]; then
		# State directories may be keyed by a hash of the id: find its meta.json.
		m=$(grep -lF "\"$CID\"" "$PV_STATE"/containers/*/meta.json 2>/dev/null | head -n1) || true
		[ -n "$m" ] && d=$(dirname "$m")
	fi
	echo "$d/views/$1"
}

# pv_cpu_sample: wait (up to 12 s: longer than any refresh interval) for procviewd's next rewrite of the
# container's /proc/stat view, then print "USEC MS CPULINE": the cgroup's
# CPU usage and the clock read right after that rewrite, and the view's
# aggregate "cpu" line. Two such samples give procview's busy % and the
# kernel's own figure (quota_share_percent) over the same window, give or
# take one poll (10 ms) and one daemon round.
pv_cpu_sample() {
	local f first line deadline
	f=$(pv_view_file stat)
	IFS= read -r first <"$f" || return 1
	deadline=$(($(now_ms) + 12000))
	while IFS= read -r line <"$f" && [ "$line" = "$first" ]; do
		[ "$(now_ms)" -lt "$deadline" ] || { echo "pv_cpu_sample: $f not rewritten in 12 s" >&2; return 1; }
		sleep 0.01
	done
	echo "$(cgroup_cpu_usec) $(now_ms) $line"
}

# busy_matches_share BUSY SHARE: procview's busy % agrees with the share of
# its quota the kernel says the cgroup used over the same window (SHARE from
# quota_share_percent, capped at 100) within 10 points. On an idle host a
# busy loop gets its whole quota, so this asks for >= 90 % busy; on a loaded
# host the loop gets less and the view must say so, rather than the test
# skipping exactly when load makes it interesting.
busy_matches_share() {
	local busy=$1 share=$2
	[ -n "$busy" ] && [ -n "$share" ] && [ "$busy" -ge 0 ] && [ "$share" -ge 0 ] || {
		echo "busy_matches_share: no figure (busy '$busy', kernel '$share')" >&2
		return 1
	}
	[ "$share" -le 100 ] || share=100
	if [ $((busy - share)) -gt 10 ] || [ $((share - busy)) -gt 10 ]; then
		echo "procview says $busy % busy, the kernel $share % of the quota over the same window" >&2
		return 1
	fi
}
