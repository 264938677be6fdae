# shellcheck shell=bash disable=SC2016,SC2034
# lib.bash: helpers of hack/bench/run.sh on top of test/bats/helpers.bash
# (bundles, runc wrappers). Sourced, not executed.

# helpers.bash is written for bats; outside bats a failed requirement is fatal.
skip() { die "$*"; }
die() {
	echo "bench: $*" >&2
	exit 1
}
log() { echo "bench: $(date -u +%H:%M:%S) $*" >&2; }

# cg_make HIERARCHY NAME: create /sys/fs/cgroup/HIERARCHY/NAME (a bench
# cgroup; NAME may have several levels) and print its path.
cg_make() {
	local d=/sys/fs/cgroup/$1 part
	local IFS=/
	for part in $2; do
		[ -n "$part" ] || continue
		d=$d/$part
		[ -d "$d" ] && continue
		mkdir "$d"
		if [ "$1" = cpuset ]; then
			# A v1 cpuset starts empty; inherit the parent's CPUs and memory nodes.
			cat "$(dirname "$d")/cpuset.cpus" >"$d/cpuset.cpus"
			cat "$(dirname "$d")/cpuset.mems" >"$d/cpuset.mems"
		fi
	done
	echo "$d"
}

# remove_bench_cgroups: kill what runs in the benchmark's own cgroups
# (names start with procview-bench) and remove them, also after an
# interrupted run.
remove_bench_cgroups() {
	local h
	for h in /sys/fs/cgroup/*/"$CG_REFRESH" /sys/fs/cgroup/*/"$CG_REFRESH"-d* \
		/sys/fs/cgroup/*/"$CG_DAEMON" /sys/fs/cgroup/*/"$CG_LXCFS" /sys/fs/cgroup/*/procview-bench-start; do
		[ -d "$h" ] || continue
		bench_kill_cgroup "$h"
		find "$h" -depth -type d -exec rmdir {} \; 2>/dev/null
	done
	return 0
}

# bench_kill_cgroup DIR: SIGKILL every process in DIR (and below), only
# for the benchmark's own cgroups, and wait up to 2 s for them to leave.
bench_kill_cgroup() {
	local dir=$1 pids i
	case $(realpath -m -- "$dir") in
	/sys/fs/cgroup/*/procview-bench*) ;;
	*) echo "bench_kill_cgroup: refusing $dir" >&2; return 1 ;;
	esac
	for i in $(seq 20); do
		pids=$(find "$dir" -name cgroup.procs -exec cat {} + 2>/dev/null | sort -u)
		[ -n "$pids" ] || return 0
		# shellcheck disable=SC2086
		kill -KILL $pids 2>/dev/null || true
		sleep 0.1
	done
}

# cpu_ns CGROUP: CPU time (ns) used by every task ever in the v1 cpuacct
# cgroup CGROUP, threads that exited included.
cpu_ns() { cat "/sys/fs/cgroup/cpuacct/$1/cpuacct.usage"; }

BENCH_NOFILE=${BENCH_NOFILE:-524288}

# start_in_cgroup CGROUP LOGFILE CMD...: start CMD detached (own session)
# inside cpuacct cgroup CGROUP, with RLIMIT_NOFILE BENCH_NOFILE; prints its pid.
start_in_cgroup() {
	local cg=$1 logf=$2
	shift 2
	cg_make cpuacct "$cg" >/dev/null
	(
		echo "$BASHPID" >"/sys/fs/cgroup/cpuacct/$cg/cgroup.procs"
		# systemd's default hard RLIMIT_NOFILE for services (procviewd's unit
		# runs with it; Go raises the soft limit to it): 1000 containers
		# keep ~30 files each.
		ulimit -Hn "$BENCH_NOFILE" 2>/dev/null && ulimit -n "$BENCH_NOFILE" 2>/dev/null
		# A background subshell is not a group leader, so setsid does not fork:
		# $! below is CMD's pid.
		exec setsid "$@" </dev/null >>"$logf" 2>&1
	) &
	echo $!
}

# stop_pid PID: SIGTERM, wait up to 5 s, SIGKILL.
stop_pid() {
	local pid=$1 i
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null || return 0
	for i in $(seq 50); do
		pid_gone "$pid" && { wait "$pid" 2>/dev/null || true; return 0; }
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

# rss_kb PID / fds PID
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
hwm_kb() { awk '/^VmHWM:/ {print $2}' "/proc/$1/status"; }
fds() { find "/proc/$1/fd" -mindepth 1 -maxdepth 1 | wc -l; }

# ticks_ns PID: utime+stime of PID from /proc/PID/stat, in ns (10 ms steps).
ticks_ns() {
	awk '{sub(/.*\) /, ""); printf "%.0f\n", ($12 + $13) * 10000000}' "/proc/$1/stat"
}

# median: the median of the numbers on stdin ("na" when there are none).
median() {
	grep -E '^-?[0-9.]+$' | sort -g | awk '{a[NR] = $1}
		END {
			if (NR == 0) { print "na"; exit }
			if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2
		}'
}

# pct P: the P-th percentile (nearest rank) of the numbers on stdin.
pct() {
	grep -E '^-?[0-9.]+$' | sort -g | awk -v p="$1" '{a[NR] = $1}
		END {
			if (NR == 0) { print "na"; exit }
			i = int(p / 100 * NR + 0.999999); if (i < 1) i = 1; if (i > NR) i = NR
			print a[i]
		}'
}

# ratio A B [DIGITS]: A/B, or "n/a".
ratio() {
	awk -v a="$1" -v b="$2" -v d="${3:-2}" 'BEGIN {
		if (a == "na" || b == "na" || a == "" || b == "" || b + 0 == 0) { print "n/a"; exit }
		printf "%.*f\n", d, a / b
	}'
}

# fmt_num X [DIGITS]: X rounded, or "n/a".
fmt_num() {
	awk -v a="$1" -v d="${2:-1}" 'BEGIN {
		if (a == "na" || a == "") { print "n/a"; exit }
		printf "%.*f\n", d, a
	}'
}

# add_binds JSON-ARRAY: append mounts to $BUNDLE/config.json, after /proc
# and /sys (a bind placed before them is covered by the later mount).
add_binds() {
	update_config '.mounts += $m' --argjson m "$1"
}

# bind_json SRC DEST [SRC DEST ...]: a JSON array of read-only binds.
bind_json() {
	local out=() s d
	while [ $# -ge 2 ]; do
		s=$1 d=$2
		shift 2
		out+=("$(jq -cn --arg s "$s" --arg d "$d" '{destination: $d, type: "bind", source: $s, options: ["rbind", "ro"]}')")
	done
	printf '%s\n' "${out[@]}" | jq -cs .
}

# install_reader: put the static reader into $BUNDLE's rootfs.
install_reader() {
	install -m 0755 "$BENCH_READER" "$BUNDLE/rootfs/bin/reader"
}

# bench_bundle NAME: a busybox bundle (test limits) with the reader; sets
# BUNDLE and CID and remembers NAME -> CID.
bench_bundle() {
	new_bundle busybox 2>/dev/null
	install_reader
	eval "CID_$1=\$CID BUNDLE_$1=\$BUNDLE"
}

# xc CID CMD...: run CMD in container CID.
xc() {
	local id=$1
	shift
	"$RUNC" --root "$PV_RUNC_ROOT" exec "$id" "$@" </dev/null
}
