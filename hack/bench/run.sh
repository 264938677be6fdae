#!/bin/bash
# shellcheck disable=SC2034,SC2153,SC2154 # variables shared with helpers.bash and report.bash; CID_<name> set by bench_bundle
# run.sh: procview's benchmark suite (make bench; root). Prints a table and
# writes docs/benchmarks.md. Benchmarks report; they never fail on a missed
# goal. Parts:
#   1 read latency in real containers: view vs native procfs vs tmpfs copy vs LXCFS
#   2 refresh cost of procviewd at N = 1, 100, 1000 containers: all idle,
#     10 % changing every second, all changing, and the every-round loop
#   3 daemon CPU with 50 idle vs 50 reading containers (and LXCFS)
#   4 start overhead: runc run vs procview-runc run
#   5 staleness: cgroup change -> visible in the view
#   6 registry and metrics: discovery, scrape latency, daemon CPU (registry.sh)
#   sysinfo: sysinfo(2) native vs through procview-agent, agent CPU (sysinfo.sh)
#
# Environment: BENCH_QUICK=1 shrinks every part (a smoke run, minutes less);
# BENCH_PARTS="1 2 3 4 5 6" picks parts; BENCH_OUT=FILE writes the report
# elsewhere than docs/benchmarks.md; BENCH_GO=0 skips the Go micro-benchmarks;
# BENCH_RESULTS=DIR keeps the raw measurements; BENCH_REFRESH_NS="1 100"
# and BENCH_REFRESH_MAX=30s change part 2's container counts and
# refresh_max_interval (default: procviewd's).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../../test/bats/helpers.bash
. "$HERE/../../test/bats/helpers.bash"
# shellcheck source=lib.bash
. "$HERE/lib.bash"
# shellcheck source=registry.sh
. "$HERE/registry.sh"

[ "$(id -u)" -eq 0 ] || die "needs root"
for c in "$RUNC" jq lxcfs gcc go busybox findmnt; do
	command -v "$c" >/dev/null || die "needs $c (apt-get install -y runc jq lxcfs gcc busybox-static; Go)"
done
for b in "$PV_WRAPPER" "$PV_HOOK" "$PV_DAEMON"; do
	[ -x "$b" ] || die "missing $b (run make build)"
done

QUICK=${BENCH_QUICK:-0}
PARTS=${BENCH_PARTS:-1 2 3 4 5 6 sysinfo}
OUT=${BENCH_OUT:-$PV_REPO/docs/benchmarks.md}
if [ "$QUICK" = 1 ]; then
	LAT_N=2000 LAT_N_FUSE=200 LAT_REPS=2 REFRESH_NS="1 100" REFRESH_WIN=10 IND_N=6 IND_WIN=4
	START_RUNS=4 START_DEBUG_RUNS=3 STALE_TRIALS=10 STALE_TRIALS_FUSE=4
else
	LAT_N=20000 LAT_N_FUSE=1000 LAT_REPS=9 REFRESH_NS="1 100 1000" REFRESH_WIN=20 IND_N=50 IND_WIN=10
	START_RUNS=30 START_DEBUG_RUNS=10 STALE_TRIALS=100 STALE_TRIALS_FUSE=20
fi
STALE_MIB=32
# Part 2's N, refresh_max_interval (the default in deploy/config.toml) and the run strace
# looks into: the idle load at the largest N.
REFRESH_NS=${BENCH_REFRESH_NS:-$REFRESH_NS}
REFRESH_MAX=${BENCH_REFRESH_MAX:-$(awk -F'"' '/^refresh_max_interval/ {print $2}' "$PV_REPO/deploy/config.toml")}
STRACE_RUN=live-hybrid-${REFRESH_NS##* }-idle

# Everything the run makes lives below these, and is removed on exit.
B=/run/procview-bench
PV_CGROUP_PARENT=procview-bench
CG_DAEMON=procview-bench-daemon
CG_LXCFS=procview-bench-lxcfs
CG_REFRESH=procview-bench-refresh
# Leftovers of an interrupted run: its cgroups, a live lxcfs on our mount
# point (found by its pid file), the tmpfs.
remove_bench_cgroups
if [ -s "$B/lxcfs.pid" ] && tr '\0' ' ' <"/proc/$(cat "$B/lxcfs.pid")/cmdline" 2>/dev/null | grep -q "^lxcfs .*$B/lxcfs"; then
	kill -TERM "$(cat "$B/lxcfs.pid")" 2>/dev/null || true
	sleep 1
fi
if mountpoint -q "$B"; then
	pv_umount_under "$B"
fi
mkdir -p "$B"
mount -t tmpfs -o size=2g,mode=0755 procview-bench "$B"
PV_WORK=$(mktemp -d /var/tmp/procview-bench.XXXXXX)
chmod 0755 "$PV_WORK"
PV_STATE=$B/state
PV_RUNC_ROOT=$PV_WORK/runc-root
PV_LOG=$PV_WORK/procview.log
PROCVIEW_CONFIG=$PV_WORK/config.toml
RES=$PV_WORK/results
mkdir -p "$PV_RUNC_ROOT" "$PV_WORK/bundles" "$RES" "$PV_STATE"
: >"$PV_WORK/containers"
export PV_WORK PV_STATE PV_RUNC_ROOT PV_LOG PROCVIEW_CONFIG
cat >"$PROCVIEW_CONFIG" <<EOF
state_root = "$PV_STATE"
refresh_interval = "1s"
log_level = "info"
log_file = "$PV_LOG"
EOF

DAEMON_PID="" LXCFS_PID="" SLEEPERS=()
cleanup() {
	set +e
	trap - ERR
	log "cleaning up"
	pv_cleanup_containers
	stop_pid "$DAEMON_PID"
	stop_pid "$LXCFS_PID"
	[ ${#SLEEPERS[@]} -eq 0 ] || kill -KILL "${SLEEPERS[@]}" 2>/dev/null
	pv_umount_under "$B/lxcfs"
	pv_remove_cgroups
	remove_bench_cgroups
	pv_umount_under "$PV_WORK"
	umount -l "$B" 2>/dev/null
	rmdir "$B" 2>/dev/null
	rm -rf "$PV_WORK"
}
trap cleanup EXIT
trap 'log "failed at line $LINENO: $BASH_COMMAND"' ERR
trap 'exit 130' INT TERM

T0=$(date +%s)
LOAD0=$(cut -d" " -f1-3 /proc/loadavg)
log "work dir $PV_WORK, quick=$QUICK, parts: $PARTS"
BENCH_READER=$PV_WORK/reader
gcc -O2 -static -Wall -o "$BENCH_READER" "$HERE/reader.c"
(cd "$PV_REPO" && CGO_ENABLED=0 go build -o "$PV_WORK/mkstate" ./hack/bench/mkstate)

want() { [[ " $PARTS " == *" $1 "* ]]; }

# Views, as (name, path in the container).
VIEWS=(meminfo cpuinfo stat uptime loadavg diskstats swaps vmstat pressure/cpu pressure/memory pressure/io online)
view_path() { if [ "$1" = online ]; then echo /sys/devices/system/cpu/online; else echo "/proc/$1"; fi; }
# runc 1.1.5 refuses binds on /proc paths outside its allow-list.
runc_allows() { case $1 in vmstat | pressure/*) return 1 ;; *) return 0 ;; esac; }

start_daemon() {
	DAEMON_PID=$(start_in_cgroup "$CG_DAEMON" "$PV_WORK/procviewd.out" "$PV_DAEMON" --config "$PROCVIEW_CONFIG")
	wait_until 5000 test -s "$PV_STATE/procviewd.pid" || die "procviewd did not start"
}

start_lxcfs() {
	mkdir -p "$B/lxcfs"
	LXCFS_PID=$(start_in_cgroup "$CG_LXCFS" "$PV_WORK/lxcfs.out" lxcfs -f -p "$B/lxcfs.pid" "$B/lxcfs")
	wait_until 10000 test -r "$B/lxcfs/proc/meminfo" || die "lxcfs did not start: $(cat "$PV_WORK/lxcfs.out")"
}

###############################################################################
# Part 1: read latency
###############################################################################
part1() {
	log "part 1: read latency (N=$LAT_N, LXCFS N=$LAT_N_FUSE, $LAT_REPS reps)"
	local v p
	# (a) procview
	bench_bundle pv
	pv_start
	wait_views || die "views not in place in $CID"
	# (b) native procfs
	bench_bundle native
	plain_start
	# (c) tmpfs copies of the same view files; runc-allowed paths are bound
	# where the view is, the rest under /bench.
	mkdir -p "$B/tmpfscopy"
	cp -r "$PV_STATE/containers/$CID_pv/views/." "$B/tmpfscopy/"
	bench_bundle tmpfs
	local args=()
	for v in "${VIEWS[@]}"; do
		if runc_allows "$v"; then args+=("$B/tmpfscopy/$v" "$(view_path "$v")"); else args+=("$B/tmpfscopy/$v" "/bench/$v"); fi
	done
	add_binds "$(bind_json "${args[@]}")"
	mkdir -p "$BUNDLE/rootfs/bench/pressure"
	for v in vmstat pressure/cpu pressure/memory pressure/io; do : >"$BUNDLE/rootfs/bench/$v"; done
	plain_start
	# (d) LXCFS files bound where LXC and the LXCFS README bind them
	bench_bundle lxcfs
	args=()
	for v in meminfo cpuinfo stat uptime loadavg diskstats swaps; do args+=("$B/lxcfs/proc/$v" "/proc/$v"); done
	args+=("$B/lxcfs/sys/devices/system/cpu/online" /sys/devices/system/cpu/online)
	add_binds "$(bind_json "${args[@]}")"
	plain_start

	# Variant -> container path of each view ("" = not available).
	vpath() {
		case $1 in
		pv | native) view_path "$2" ;;
		tmpfs) if runc_allows "$2"; then view_path "$2"; else echo "/bench/$2"; fi ;;
		lxcfs) case $2 in vmstat | pressure/*) echo "" ;; *) view_path "$2" ;; esac ;;
		esac
	}
	local r variant id n paths
	: >"$RES/lat.tsv"
	for r in $(seq "$LAT_REPS"); do
		for variant in pv native tmpfs lxcfs; do
			id=CID_$variant
			n=$LAT_N
			[ "$variant" = lxcfs ] && n=$LAT_N_FUSE
			paths=()
			for v in "${VIEWS[@]}"; do
				p=$(vpath "$variant" "$v")
				[ -n "$p" ] && paths+=("$p")
			done
			xc "${!id}" /bin/reader lat "$n" 1 "${paths[@]}" >"$RES/lat.raw"
			for v in "${VIEWS[@]}"; do
				p=$(vpath "$variant" "$v")
				[ -n "$p" ] || continue
				awk -v p="$p" -v va="$variant" -v vi="$v" '$1 == p {print va, vi, $2, $3}' "$RES/lat.raw" >>"$RES/lat.tsv"
			done
		done
		log "part 1: rep $r/$LAT_REPS done"
	done
	# Sizes: what one read returns in each variant.
	: >"$RES/sizes.tsv"
	for v in "${VIEWS[@]}"; do
		echo "$v $(xc "$CID_pv" cat "$(view_path "$v")" | wc -c) $(xc "$CID_native" cat "$(view_path "$v")" | wc -c)" >>"$RES/sizes.tsv"
	done
}

###############################################################################
# Part 5: staleness (uses the procview and LXCFS containers of part 1)
###############################################################################
part5() {
	log "part 5: staleness ($STALE_TRIALS trials, $STALE_MIB MiB)"
	xc "$CID_pv" /bin/reader stale "$STALE_TRIALS" "$STALE_MIB" /proc/meminfo 1000 >"$RES/stale_pv.txt"
	# LXCFS computes on each read: a few trials show its floor.
	xc "$CID_lxcfs" /bin/reader stale "$STALE_TRIALS_FUSE" "$STALE_MIB" /proc/meminfo 20 >"$RES/stale_lxcfs.txt"
}

###############################################################################
# Part 4: start overhead
###############################################################################
# Every run gets a pristine copy of its bundle (procview-runc writes its
# hooks into config.json in place, so a shared bundle would give the "plain
# runc" runs procview's hooks from the second run on). Variants:
#   runc           plain runc, the template bundle
#   runc-noop      runc, the template plus two no-op hooks (/bin/true at
#                  createRuntime and poststop): the runtime's cost of hooks
#   runc-pvhooks   runc, the config.json procview-runc writes: procview's
#                  hooks without the wrapper
#   procview-runc  the wrapper on the template
# One round runs each variant once, in an order that rotates every round;
# the medians compare like with like. A failed run is logged and counted,
# never timed. Each run's CPU time is its process tree's (runtime, hooks,
# the container's init until it joins its own cgroup), read from a cpuacct
# cgroup: it moves less than wall time when other sessions load the machine.
START_VARIANTS=(runc runc-noop runc-pvhooks procview-runc)
CG_START=procview-bench-start

# start_once VARIANT N: one timed run; appends "VARIANT N STATUS WALL_US CPU_NS" to start.tsv.
start_once() {
	local v=$1 n=$2 bin=$RUNC tmpl=$B/start/runc b id t0 t1 c0 c1 st=0
	case $v in
	runc-noop) tmpl=$B/start/runc-noop ;;
	runc-pvhooks) tmpl=$B/start/runc-pvhooks ;;
	procview-runc) bin=$PV_WRAPPER ;;
	esac
	b=$B/start/run-$v-$n
	id=$CID-$v-$n
	rm -rf "$b"
	cp -a "$tmpl" "$b"
	echo "$id" >>"$PV_WORK/containers"
	c0=$(cpu_ns "$CG_START")
	t0=$(date +%s%N)
	(
		echo "$BASHPID" >"/sys/fs/cgroup/cpuacct/$CG_START/cgroup.procs"
		exec "$bin" --root "$PV_RUNC_ROOT" run -b "$b" "$id" </dev/null >"$PV_WORK/start-last.out" 2>&1
	) || st=$?
	t1=$(date +%s%N)
	c1=$(cpu_ns "$CG_START")
	if [ "$st" -ne 0 ]; then
		log "part 4: $v run $n failed (exit $st): $(tail -c 300 "$PV_WORK/start-last.out")"
		"$RUNC" --root "$PV_RUNC_ROOT" delete --force "$id" >/dev/null 2>&1 || true
	fi
	echo "$v $n $st $(((t1 - t0) / 1000)) $((c1 - c0))" >>"$RES/start.tsv"
	rm -rf "$b"
}

part4() {
	log "part 4: start overhead ($START_RUNS rounds of ${#START_VARIANTS[@]} variants, rotating order)"
	bench_bundle start
	set_cmd true
	cg_make cpuacct "$CG_START" >/dev/null
	mkdir -p "$B/start"
	cp -a "$BUNDLE" "$B/start/runc"
	cp -a "$BUNDLE" "$B/start/runc-noop"
	jq '.hooks = {createRuntime: [{path: "/bin/true"}], poststop: [{path: "/bin/true"}]}' \
		"$BUNDLE/config.json" >"$B/start/runc-noop/config.json"
	# The spec procview-runc writes: run the wrapper once on a copy (this
	# also fills its runtime features cache, as on any node after the
	# first start).
	cp -a "$BUNDLE" "$B/start/runc-pvhooks"
	echo "$CID-warm" >>"$PV_WORK/containers"
	"$PV_WRAPPER" --root "$PV_RUNC_ROOT" run -b "$B/start/runc-pvhooks" "$CID-warm" </dev/null >/dev/null 2>&1 ||
		die "part 4: procview-runc run failed"
	jq -e '.hooks.createRuntime and .hooks.poststop' "$B/start/runc-pvhooks/config.json" >/dev/null ||
		die "part 4: procview-runc did not add its hooks"
	: >"$RES/start.tsv"
	local r k n=0 v
	# Round 0 warms the page cache for every variant and is not reported.
	for r in $(seq 0 "$START_RUNS"); do
		for k in $(seq 0 $((${#START_VARIANTS[@]} - 1))); do
			v=${START_VARIANTS[$(((k + r) % ${#START_VARIANTS[@]}))]}
			n=$((n + 1))
			start_once "$v" "$r.$n"
		done
	done
	awk '$2 !~ /^0\./' "$RES/start.tsv" >"$RES/start.tsv.new" && mv "$RES/start.tsv.new" "$RES/start.tsv"

	# Pass-through: procview-runc's own start (Go runtime, config, log
	# files, runtime lookup, exec) on a command it does not edit.
	bench_bundle startstate
	plain_start
	: >"$RES/start-state.tsv"
	local t0 t1
	for r in $(seq "$START_RUNS"); do
		for v in runc procview-runc; do
			local bin=$RUNC
			[ "$v" = procview-runc ] && bin=$PV_WRAPPER
			t0=$(date +%s%N)
			"$bin" --root "$PV_RUNC_ROOT" state "$CID" </dev/null >/dev/null 2>&1 || { log "part 4: $v state failed"; continue; }
			t1=$(date +%s%N)
			echo "$v $(((t1 - t0) / 1000))" >>"$RES/start-state.tsv"
		done
	done

	# Where the hook's time goes: a few more procview-runc runs with the
	# hooks at log level debug (their "took" and per-step laps), kept apart
	# from the timed runs above.
	local dcfg=$PV_WORK/config-debug.toml
	sed -e 's/^log_level = .*/log_level = "debug"/' -e "s|^log_file = .*|log_file = \"$PV_WORK/start-debug.log\"|" \
		"$PROCVIEW_CONFIG" >"$dcfg"
	for r in $(seq "$START_DEBUG_RUNS"); do
		PROCVIEW_CONFIG=$dcfg start_once procview-runc "debug.$r"
	done
	grep 'component=hook' "$PV_WORK/start-debug.log" >"$RES/start-hook.log" || true
	awk '$1 == "procview-runc" && $2 ~ /^debug\./' "$RES/start.tsv" >"$RES/start-debug.tsv"
	awk '$2 !~ /^debug\./' "$RES/start.tsv" >"$RES/start.tsv.new" && mv "$RES/start.tsv.new" "$RES/start.tsv"
	rmdir "/sys/fs/cgroup/cpuacct/$CG_START" 2>/dev/null || true
}

###############################################################################
# Part 3: daemon cost vs readers
###############################################################################
part3() {
	log "part 3: $IND_N containers, idle vs reading (${IND_WIN}s windows)"
	local i ids=() id phase f d0 l0 d1 l1
	for i in $(seq "$IND_N"); do
		bench_bundle "ind$i"
		add_binds "$(bind_json "$B/lxcfs" /lxcfs)"
		pv_start
		ids+=("$CID")
	done
	# Views are in place once every container's meminfo shows the limit.
	for id in "${ids[@]}"; do CID=$id wait_views || die "views not in place in $id"; done
	: >"$RES/ind.tsv"
	for phase in idle procview lxcfs; do
		case $phase in
		procview) f=/proc/meminfo ;;
		lxcfs) f=/lxcfs/proc/meminfo ;;
		*) f= ;;
		esac
		if [ -n "$f" ]; then
			for id in "${ids[@]}"; do
				# The loops run at nice 19 (reader loop does it): they take
				# every idle cycle but leave the machine usable.
				"$RUNC" --root "$PV_RUNC_ROOT" exec -d "$id" /bin/reader loop "$f" $((IND_WIN + 3)) \
					</dev/null >"$PV_WORK/bundles/$id/loop.out" 2>&1
			done
			sleep 1
		fi
		d0=$(cpu_ns "$CG_DAEMON") l0=$(cpu_ns "$CG_LXCFS")
		sleep "$IND_WIN"
		d1=$(cpu_ns "$CG_DAEMON") l1=$(cpu_ns "$CG_LXCFS")
		if [ -n "$f" ]; then
			# Wait for the loops to end and sum what they read.
			sleep 3
			wait_until 10000 _loops_done "${ids[@]}" || log "part 3: some loops still running"
		fi
		local reads=0
		if [ -n "$f" ]; then
			reads=$(for id in "${ids[@]}"; do cat "$PV_WORK/bundles/$id/loop.out"; done 2>/dev/null |
				awk '$1 == "reads" && $3 > 0 {s += $2 / $3 * 1e9} END {printf "%.0f\n", s}')
		fi
		echo "$phase $((d1 - d0)) $((l1 - l0)) $reads" >>"$RES/ind.tsv"
		log "part 3: $phase: procviewd $(((d1 - d0) / 1000000)) ms, lxcfs $(((l1 - l0) / 1000000)) ms CPU in ${IND_WIN}s"
	done
	for id in "${ids[@]}"; do
		"$RUNC" --root "$PV_RUNC_ROOT" kill "$id" KILL >/dev/null 2>&1 || true
		"$RUNC" --root "$PV_RUNC_ROOT" delete --force "$id" >/dev/null 2>&1 || true
	done
}
_loops_done() {
	local id
	for id in "$@"; do grep -q '^reads' "$PV_WORK/bundles/$id/loop.out" 2>/dev/null || return 1; done
}

###############################################################################
# Part 2: refresh cost
###############################################################################
# Loads of part 2, run at the largest N (the others run "idle" only):
#   idle        every container sleeps; nobody reads its views
#   10pct       the first tenth of the containers change every second
#   all         every container changes every second
#   everyround  idle, with refresh_max_interval = refresh_interval: the loop
#               that refreshes every container fully every round (the
#               cost the adaptive loop is measured against)
#   idle10      idle, with refresh_max_interval = 10s (what a shorter safety
#               net costs)
REFRESH_LOADS="everyround idle idle10 10pct all"

# changing N LOAD: how many containers change every second under LOAD.
changing() {
	case $2 in
	10pct) echo $(($1 / 10)) ;;
	all) echo "$1" ;;
	*) echo 0 ;;
	esac
}

# refresh_measure NAME SHAPE N LOAD CONFIG: run a procviewd on CONFIG and
# measure a window.
refresh_measure() {
	local name=$1 shape=$2 n=$3 load=$4 cfg=$5 cg=$CG_REFRESH-d$RANDOM pid c0 c1 t0 t1 k0 k1
	pid=$(start_in_cgroup "$cg" "$PV_WORK/refresh-$name.out" "$PV_DAEMON" --config "$cfg")
	# The first rounds adopt (open) every container's files.
	sleep 2.5
	c0=$(cpu_ns "$cg") k0=$(ticks_ns "$pid") t0=$(date +%s%N)
	sleep "$REFRESH_WIN"
	c1=$(cpu_ns "$cg") k1=$(ticks_ns "$pid") t1=$(date +%s%N)
	echo "$name $shape $n $load $((c1 - c0)) $((t1 - t0)) $(rss_kb "$pid") $(hwm_kb "$pid") $(fds "$pid") $((k1 - k0))" >>"$RES/refresh.tsv"
	# Where the time goes: every syscall of a few rounds (after the CPU
	# window: strace slows the daemon down).
	if [ "$name" = "$STRACE_RUN" ] && command -v strace >/dev/null; then
		timeout -s INT 5 strace -f -qq -o "$RES/strace.txt" -p "$pid" 2>/dev/null || true
	fi
	if grep -q 'level=warning' "$PV_WORK/refresh-$name.log" 2>/dev/null; then
		log "part 2: $name: daemon warnings: $(grep -m1 'level=warning' "$PV_WORK/refresh-$name.log")"
	fi
	stop_pid "$pid"
	rmdir "/sys/fs/cgroup/cpuacct/$cg" 2>/dev/null || true
	log "part 2: $name: $(((c1 - c0) / 1000000)) ms CPU in $(((t1 - t0) / 1000000)) ms"
}

refresh_config() { # NAME CGROUP_ROOT PROC_ROOT MAX_INTERVAL
	local dir=$B/refresh-$1
	mkdir -p "$dir/state"
	cat >"$dir/config.toml" <<EOF
state_root = "$dir/state"
refresh_interval = "1s"
refresh_max_interval = "$4"
log_level = "info"
log_file = "$PV_WORK/refresh-$1.log"
cgroup_root = "$2"
proc_root = "$3"
EOF
	echo "$dir/config.toml"
}

# loads N: the loads measured at N.
loads() { if [ "$1" = "${REFRESH_NS##* }" ]; then echo "$REFRESH_LOADS"; else echo idle; fi; }
max_interval() {
	case $1 in
	everyround) echo 1s ;;
	idle10) echo 10s ;;
	*) echo "$REFRESH_MAX" ;;
	esac
}

LIVE_HIER=(memory cpu cpuacct cpuset blkio pids unified)

# live_make N: cgroups c1..cN under $CG_REFRESH in every hierarchy, with
# the bats limits on memory and cpu.
live_make() {
	local h i dirs=() cpus mems
	for h in "${LIVE_HIER[@]}"; do cg_make "$h" "$CG_REFRESH" >/dev/null; done
	for i in $(seq "$1"); do
		for h in "${LIVE_HIER[@]}"; do dirs+=("/sys/fs/cgroup/$h/$CG_REFRESH/c$i"); done
	done
	mkdir -p "${dirs[@]}"
	cpus=$(<"/sys/fs/cgroup/cpuset/$CG_REFRESH/cpuset.cpus") mems=$(<"/sys/fs/cgroup/cpuset/$CG_REFRESH/cpuset.mems")
	for i in $(seq "$1"); do
		# A v1 cpuset starts empty; inherit the parent's CPUs and memory nodes.
		echo "$cpus" >"/sys/fs/cgroup/cpuset/$CG_REFRESH/c$i/cpuset.cpus"
		echo "$mems" >"/sys/fs/cgroup/cpuset/$CG_REFRESH/c$i/cpuset.mems"
		echo "$PV_MEM_LIMIT" >"/sys/fs/cgroup/memory/$CG_REFRESH/c$i/memory.limit_in_bytes"
		echo "$PV_CPU_QUOTA" >"/sys/fs/cgroup/cpu/$CG_REFRESH/c$i/cpu.cfs_quota_us"
	done
}

# live_join I PID: move PID into container I's cgroups.
live_join() {
	local h
	for h in "${LIVE_HIER[@]}"; do echo "$2" >"/sys/fs/cgroup/$h/$CG_REFRESH/c$1/cgroup.procs"; done
}

part2() {
	log "part 2: refresh cost, N in $REFRESH_NS, ${REFRESH_WIN}s windows"
	: >"$RES/refresh.tsv"
	local n i k cfg h name shape fx load ticker changers
	for n in $REFRESH_NS; do
		# Live cgroups (this host: v1 hybrid), one sleeping task in each, the
		# bats limits on memory and cpu. Made with builtins and one mkdir:
		# a fork per cgroup takes minutes at N=1000 on a loaded machine.
		: >"$B/refresh-pids"
		SLEEPERS=()
		live_make "$n"
		for i in $(seq "$n"); do
			sleep 100000 &
			SLEEPERS+=($!)
			disown $! # no "Killed" job reports when they go
			live_join "$i" "$!"
			echo $! >>"$B/refresh-pids"
		done
		for load in $(loads "$n"); do
			name=live-hybrid-$n-$load
			cfg=$(refresh_config "$name" /sys/fs/cgroup /proc "$(max_interval "$load")")
			"$PV_WORK/mkstate" -config "$cfg" -pids "$B/refresh-pids"
			# A changing container gets a second task that moves its memory
			# and CPU usage every second (reader tick).
			changers=()
			k=$(changing "$n" "$load")
			for i in $(seq "$k"); do
				"$BENCH_READER" tick &
				changers+=($!)
				disown $!
				live_join "$i" "$!"
			done
			SLEEPERS+=("${changers[@]}")
			refresh_measure "$name" live-hybrid "$n" "$load" "$cfg"
			[ ${#changers[@]} -eq 0 ] || kill -KILL "${changers[@]}" 2>/dev/null || true
			rm -rf "$B/refresh-$name"
		done
		kill -KILL "${SLEEPERS[@]}" 2>/dev/null || true
		for i in "${SLEEPERS[@]}"; do wait_until 5000 pid_gone "$i" || true; done
		SLEEPERS=()
		for h in memory cpu cpuacct cpuset blkio pids unified; do
			find "/sys/fs/cgroup/$h/$CG_REFRESH" -mindepth 1 -depth -type d -delete 2>/dev/null || true
		done

		# Fixture-shaped trees on tmpfs (v2 and hybrid), the readers' roots
		# pointing there; mkstate -tick moves the counters of the changing
		# copies every second.
		for shape in v2 hybrid; do
			for load in $(loads "$n"); do
				name=fixture-$shape-$n-$load
				fx=$B/refresh-$name/host
				mkdir -p "$fx"
				cp -a "$PV_REPO/testdata/hosts/$shape-limit256m-quota0.5-io/." "$fx/"
				cfg=$(refresh_config "$name" "$fx/sys/fs/cgroup" "$fx/proc" "$(max_interval "$load")")
				"$PV_WORK/mkstate" -config "$cfg" -fixture -n "$n"
				ticker=""
				k=$(changing "$n" "$load")
				if [ "$k" -gt 0 ]; then
					"$PV_WORK/mkstate" -config "$cfg" -tick "$k" &
					ticker=$!
				fi
				refresh_measure "$name" "fixture-$shape" "$n" "$load" "$cfg"
				[ -z "$ticker" ] || { kill "$ticker" 2>/dev/null; wait "$ticker" 2>/dev/null || true; }
				rm -rf "$B/refresh-$name"
			done
		done
	done
}

###############################################################################
# Go micro-benchmarks
###############################################################################
partgo() {
	log "go micro-benchmarks"
	# Every package that has benchmarks.
	local pkgs
	pkgs=$(cd "$PV_REPO" && grep -rl --include='*_test.go' '^func Benchmark' internal | xargs -n1 dirname | sort -u | sed 's|^|./|')
	# shellcheck disable=SC2086
	(cd "$PV_REPO" && go test -run '^$' -bench . -benchmem $pkgs) >"$RES/gobench.txt" 2>&1 ||
		log "go benchmarks failed: $(tail -n 5 "$RES/gobench.txt")"
}

if want 1 || want 3 || want 4 || want 5; then
	start_daemon
	start_lxcfs
fi
want 1 && part1
want 5 && { want 1 || die "part 5 needs part 1's containers"; } && part5
want 4 && part4
want 3 && part3
# shellcheck source=sysinfo.sh
want sysinfo && { . "$HERE/sysinfo.sh" && part_sysinfo; }
# Part 2 runs on a quieter machine: no containers, no LXCFS.
pv_cleanup_containers
if want 2; then
	part2
fi
want 6 && part6
[ "${BENCH_GO:-1}" = 0 ] || partgo
ELAPSED=$(($(date +%s) - T0))
# BENCH_RESULTS=DIR keeps the raw results.
[ -z "${BENCH_RESULTS:-}" ] || { mkdir -p "$BENCH_RESULTS" && cp -r "$RES/." "$BENCH_RESULTS/"; }

# shellcheck source=report.bash
. "$HERE/report.bash"
report >"$OUT.new"
want 6 && registry_report >>"$OUT.new"
[ ! -s "$RES/sysinfo.md" ] || cat "$RES/sysinfo.md" >>"$OUT.new"
mv "$OUT.new" "$OUT"
print_table
log "done in ${ELAPSED}s; report written to $OUT"
