#!/usr/bin/env bash
# capture-fixture.sh: capture a cgroup + host fixture tree from this machine
# into testdata/hosts/<NAME>/ (see testdata/hosts/README.md).
#
#   hack/capture-fixture.sh [options] NAME      capture one scenario
#   hack/capture-fixture.sh --standard | all    capture the standard scenarios (make fixtures)
#   hack/capture-fixture.sh derive-overlimit SRC NAME
#   hack/capture-fixture.sh derive-v1only SRC NAME
#
# Options (limits on the leaf cgroup unless "parent" is named):
#   --memory BYTES  --memsw BYTES (v1 memory+swap; v2: memory.swap.max = memsw-memory)
#   --quota US --period US  --cpuset LIST  --pids-max N
#   --parent-memory BYTES --parent-quota US --parent-period US   (nests the leaf)
#   --alloc BYTES   tmpfs bytes the workload allocates (default 64 MiB)
#   --io BYTES      bytes written and read back with O_DIRECT (default 0)
#
# It needs root. It creates only cgroups named procview-test-fixture-*,
# copies an allow-list of files (never cp -r: cgroupfs has write-only files)
# and removes its cgroups, tmpfs file and I/O file on exit. Works on cgroup
# v1, hybrid (v1 + /sys/fs/cgroup/unified) and pure v2 hosts.
set -euo pipefail

CG=/sys/fs/cgroup
REPO=$(cd "$(dirname "$0")/.." && pwd)
OUT_BASE=$REPO/testdata/hosts
CONTROLLERS="memory cpu cpuacct cpuset blkio pids"

die() { echo "capture-fixture: $*" >&2; exit 1; }
log() { echo "capture-fixture: $*" >&2; }

detect_mode() {
	if [ -f $CG/cgroup.controllers ]; then echo v2
	elif [ -f $CG/unified/cgroup.controllers ]; then echo hybrid
	else echo v1; fi
}

# v1dir CONTROLLER: the real directory (not a symlink) of the controller's hierarchy.
v1dir() {
	local d name
	for d in "$CG"/*/; do
		d=${d%/}
		[ -L "$d" ] && continue
		name=$(basename "$d")
		case ",$name," in *",$1,"*) echo "$name"; return 0 ;; esac
	done
	return 1
}

# --- derived trees -------------------------------------------------------------
derive() {
	local kind=$1 src=$OUT_BASE/$2 dst=$OUT_BASE/$3
	[ -d "$src" ] || die "no source tree $src"
	rm -rf "$dst"
	cp -a "$src" "$dst"
	local cgpath mode
	cgpath=$(jq -r .cgroup "$dst/expect.json")
	mode=$(jq -r .mode "$dst/expect.json")
	case $kind in
	overlimit)
		local limit usage f
		limit=$(jq -r .memory_limit "$dst/expect.json")
		[ "$limit" -gt 0 ] || die "source tree has no memory limit"
		usage=$((limit + 64 * 1024 * 1024))
		if [ "$mode" = v2 ]; then
			f=$dst/sys/fs/cgroup$cgpath/memory.current
		else
			f=$dst/sys/fs/cgroup/$(cd "$dst/sys/fs/cgroup" && for d in */; do d=${d%/}; case ",$d," in *,memory,*) echo "$d";; esac; done)$cgpath/memory.usage_in_bytes
		fi
		[ -f "$f" ] || die "no usage file $f"
		echo "$usage" >"$f"
		jq --arg from "$2" --argjson usage "$usage" \
			'.derived = ("copy of " + $from + " with the leaf memory usage file edited to limit + 64 MiB") | .usage = $usage' \
			"$dst/expect.json" >"$dst/expect.json.new"
		;;
	v1only)
		[ "$mode" = hybrid ] || die "v1only derives from a hybrid tree"
		rm -rf "$dst/sys/fs/cgroup/unified"
		grep -v '^0::' "$src/proc/self/cgroup" >"$dst/proc/self/cgroup"
		jq --arg from "$2" \
			'.derived = ("copy of " + $from + " without sys/fs/cgroup/unified and without the 0:: line of proc/self/cgroup") | .mode = "v1" | .pressure = false' \
			"$dst/expect.json" >"$dst/expect.json.new"
		;;
	*) die "unknown derivation $kind" ;;
	esac
	mv "$dst/expect.json.new" "$dst/expect.json"
	log "derived $dst"
}

# --- capture ---------------------------------------------------------------------
MEMORY=-1 MEMSW=-1 QUOTA=-1 PERIOD=100000 CPUSET="" PIDSMAX=-1
PMEMORY=-1 PQUOTA=-1 PPERIOD=100000 NESTED=0
ALLOC=$((64 * 1024 * 1024)) IOBYTES=0

WORKLOAD_PID="" CREATED=() SHMFILE="" IOFILE="" READY=""
cleanup() {
	set +e
	if [ -n "$WORKLOAD_PID" ]; then
		kill "$WORKLOAD_PID" 2>/dev/null
		wait "$WORKLOAD_PID" 2>/dev/null
	fi
	[ -n "$SHMFILE" ] && rm -f "$SHMFILE"
	[ -n "$IOFILE" ] && rm -f "$IOFILE"
	[ -n "$READY" ] && rm -f "$READY"
	# Children were appended after parents: remove in reverse order.
	local i
	for ((i = ${#CREATED[@]} - 1; i >= 0; i--)); do
		rmdir "${CREATED[$i]}" 2>/dev/null || log "could not remove ${CREATED[$i]}"
	done
}

mkcg() { # mkcg DIR
	mkdir "$1"
	CREATED+=("$1")
}

# copy SRCDIR DSTDIR FILES...: copy the readable files of an allow-list.
copy_files() {
	local src=$1 dst=$2 f
	shift 2
	mkdir -p "$dst"
	for f in "$@"; do
		[ -f "$src/$f" ] || continue
		cat "$src/$f" >"$dst/$f" 2>/dev/null || rm -f "$dst/$f"
	done
}

# Files Read uses, per controller: at every level of the chain (limits) and
# additionally at the leaf (usage, stats, membership).
V1_CHAIN_memory="memory.limit_in_bytes memory.memsw.limit_in_bytes"
V1_LEAF_memory="memory.usage_in_bytes memory.memsw.usage_in_bytes memory.stat memory.kmem.slabinfo memory.oom_control cgroup.procs tasks"
V1_CHAIN_cpu="cpu.cfs_quota_us cpu.cfs_period_us"
V1_LEAF_cpu="cpu.stat cgroup.procs tasks"
V1_CHAIN_cpuacct=""
V1_LEAF_cpuacct="cpuacct.usage cpuacct.usage_all cpuacct.usage_user cpuacct.usage_sys cpuacct.stat cgroup.procs tasks"
V1_CHAIN_cpuset="cpuset.cpus cpuset.effective_cpus"
V1_LEAF_cpuset="cgroup.procs tasks"
V1_CHAIN_blkio=""
V1_LEAF_blkio="blkio.throttle.io_service_bytes_recursive blkio.throttle.io_serviced_recursive blkio.throttle.io_service_bytes blkio.throttle.io_serviced cgroup.procs tasks"
V1_CHAIN_pids="pids.max"
V1_LEAF_pids="pids.current cgroup.procs tasks"
V2_CHAIN="cpu.max memory.max memory.swap.max cpuset.cpus cpuset.cpus.effective pids.max"
V2_LEAF="cgroup.procs cgroup.threads cpu.stat memory.current memory.swap.current memory.stat memory.events io.stat pids.current cpu.pressure memory.pressure io.pressure"

# copy_chain HIERROOT RELPATH DSTROOT CHAINFILES LEAFFILES: copy CHAINFILES
# at the hierarchy root and every directory down to RELPATH, plus LEAFFILES
# at RELPATH itself.
copy_chain() {
	local hroot=$1 rel=$2 droot=$3 chainf=$4 leaff=$5 p="" part parts
	# shellcheck disable=SC2086
	copy_files "$hroot" "$droot" $chainf
	IFS=/ read -ra parts <<<"${rel#/}"
	for part in "${parts[@]}"; do
		p=$p/$part
		# shellcheck disable=SC2086
		copy_files "$hroot$p" "$droot$p" $chainf
	done
	# shellcheck disable=SC2086
	copy_files "$hroot$p" "$droot$p" $leaff
}

capture() {
	local name=$1
	[ "$(id -u)" = 0 ] || die "must run as root"
	case $name in *:*|*/*|"") die "bad NAME '$name'" ;; esac
	local mode out top leaf
	mode=$(detect_mode)
	out=$OUT_BASE/$name
	top=/procview-test-fixture-$name
	leaf=$top
	[ "$NESTED" = 1 ] && leaf=$top/leaf
	[ "$MEMSW" -ge 0 ] && [ "$MEMORY" -lt 0 ] && die "--memsw needs --memory"
	trap cleanup EXIT
	log "mode $mode, cgroup $leaf"

	local procs_files=() c d
	# v2 tree: $CG on v2, $CG/unified on hybrid.
	local v2root=""
	[ "$mode" = v2 ] && v2root=$CG
	[ "$mode" = hybrid ] && v2root=$CG/unified

	if [ "$mode" != v2 ]; then
		declare -A seen=()
		for c in $CONTROLLERS; do
			d=$(v1dir "$c") || { log "controller $c not mounted"; continue; }
			[ -n "${seen[$d]:-}" ] && continue
			seen[$d]=1
			mkcg "$CG/$d$top"
			[ "$NESTED" = 1 ] && mkcg "$CG/$d$leaf"
			procs_files+=("$CG/$d$leaf/cgroup.procs")
		done
		if d=$(v1dir cpuset); then
			local p
			for p in $top $leaf; do
				cat "$(dirname "$CG/$d$p")/cpuset.mems" >"$CG/$d$p/cpuset.mems"
				cat "$(dirname "$CG/$d$p")/cpuset.cpus" >"$CG/$d$p/cpuset.cpus"
			done
			if [ -n "$CPUSET" ]; then echo "$CPUSET" >"$CG/$d$leaf/cpuset.cpus"; fi
		fi
		if d=$(v1dir memory); then
			if [ "$PMEMORY" -ge 0 ]; then echo "$PMEMORY" >"$CG/$d$top/memory.limit_in_bytes"; fi
			if [ "$MEMORY" -ge 0 ]; then echo "$MEMORY" >"$CG/$d$leaf/memory.limit_in_bytes"; fi
			if [ "$MEMSW" -ge 0 ]; then
				[ -f "$CG/$d$leaf/memory.memsw.limit_in_bytes" ] || die "no swap accounting (memsw) on this host"
				echo "$MEMSW" >"$CG/$d$leaf/memory.memsw.limit_in_bytes"
			fi
		fi
		if d=$(v1dir cpu); then
			if [ "$PQUOTA" -ge 0 ]; then
				echo "$PPERIOD" >"$CG/$d$top/cpu.cfs_period_us"
				echo "$PQUOTA" >"$CG/$d$top/cpu.cfs_quota_us"
			fi
			if [ "$QUOTA" -ge 0 ]; then
				echo "$PERIOD" >"$CG/$d$leaf/cpu.cfs_period_us"
				echo "$QUOTA" >"$CG/$d$leaf/cpu.cfs_quota_us"
			fi
		fi
		if d=$(v1dir pids) && [ "$PIDSMAX" -ge 0 ]; then echo "$PIDSMAX" >"$CG/$d$leaf/pids.max"; fi
		if [ "$mode" = hybrid ]; then
			mkcg "$v2root$top"
			[ "$NESTED" = 1 ] && mkcg "$v2root$leaf"
			procs_files+=("$v2root$leaf/cgroup.procs")
		fi
	else
		local want="" have
		have=" $(cat $CG/cgroup.subtree_control) "
		for c in memory cpu io pids cpuset; do
			grep -qw "$c" $CG/cgroup.controllers || continue
			case $have in *" $c "*) ;; *)
				log "enabling +$c in $CG/cgroup.subtree_control"
				echo "+$c" >$CG/cgroup.subtree_control ;;
			esac
			want="$want +$c"
		done
		mkcg "$CG$top"
		if [ "$NESTED" = 1 ]; then
			# shellcheck disable=SC2086
			echo $want >"$CG$top/cgroup.subtree_control"
			mkcg "$CG$leaf"
		fi
		[ "$PMEMORY" -ge 0 ] && echo "$PMEMORY" >"$CG$top/memory.max"
		[ "$MEMORY" -ge 0 ] && echo "$MEMORY" >"$CG$leaf/memory.max"
		[ "$MEMSW" -ge 0 ] && echo $((MEMSW - MEMORY)) >"$CG$leaf/memory.swap.max"
		[ "$PQUOTA" -ge 0 ] && echo "$PQUOTA $PPERIOD" >"$CG$top/cpu.max"
		[ "$QUOTA" -ge 0 ] && echo "$QUOTA $PERIOD" >"$CG$leaf/cpu.max"
		[ -n "$CPUSET" ] && echo "$CPUSET" >"$CG$leaf/cpuset.cpus"
		[ "$PIDSMAX" -ge 0 ] && echo "$PIDSMAX" >"$CG$leaf/pids.max"
		procs_files+=("$CG$leaf/cgroup.procs")
	fi

	SHMFILE=/dev/shm/procview-fixture-$name
	IOFILE=/var/tmp/procview-fixture-$name.io
	READY=$(mktemp /tmp/procview-fixture-ready.XXXXXX)
	rm -f "$READY"
	(
		for f in "${procs_files[@]}"; do echo "$BASHPID" >"$f"; done
		# Memory: a tmpfs file is charged to the cgroup as shmem.
		dd if=/dev/zero of="$SHMFILE" bs=1M count=$((ALLOC / 1048576)) status=none
		# CPU: one second of busy loop (the quota throttles it).
		timeout 1 sh -c 'while :; do :; done' || true
		if [ "$IOBYTES" -gt 0 ]; then
			dd if=/dev/zero of="$IOFILE" bs=1M count=$((IOBYTES / 1048576)) oflag=direct status=none
			dd if="$IOFILE" of=/dev/null bs=1M iflag=direct status=none
		fi
		touch "$READY"
		exec sleep 600
	) &
	WORKLOAD_PID=$!
	local i
	for ((i = 0; i < 600; i++)); do
		[ -e "$READY" ] && break
		kill -0 "$WORKLOAD_PID" 2>/dev/null || die "workload died"
		sleep 0.1
	done
	[ -e "$READY" ] || die "workload not ready"
	sleep 1

	rm -rf "$out"
	mkdir -p "$out/proc/self" "$out/proc/pressure" "$out/sys/devices/system/cpu" "$out/sys/fs/cgroup"
	cat "/proc/$WORKLOAD_PID/cgroup" >"$out/proc/self/cgroup"
	for f in meminfo cpuinfo stat diskstats vmstat swaps uptime loadavg; do
		cat "/proc/$f" >"$out/proc/$f"
	done
	for f in cpu memory io; do
		cat "/proc/pressure/$f" >"$out/proc/pressure/$f" 2>/dev/null || rm -f "$out/proc/pressure/$f"
	done
	cat /sys/devices/system/cpu/online >"$out/sys/devices/system/cpu/online"

	local dst=$out/sys/fs/cgroup
	if [ "$mode" != v2 ]; then
		unset seen
		declare -A seen=()
		for c in $CONTROLLERS; do
			d=$(v1dir "$c") || continue
			[ -n "${seen[$d]:-}" ] && continue
			seen[$d]=1
			local chainf="" leaff="" cc
			for cc in ${d//,/ }; do
				local cv=V1_CHAIN_$cc lv=V1_LEAF_$cc
				chainf="$chainf ${!cv:-}"
				leaff="$leaff ${!lv:-}"
			done
			copy_chain "$CG/$d" "$leaf" "$dst/$d" "$chainf" "$leaff"
			# Keep the "cpu -> cpu,cpuacct" style symlinks.
			for cc in ${d//,/ }; do
				[ -L "$CG/$cc" ] && ln -sfn "$(readlink "$CG/$cc")" "$dst/$cc"
			done
		done
		if [ "$mode" = hybrid ]; then
			copy_files "$v2root" "$dst/unified" cgroup.controllers
			copy_chain "$v2root" "$leaf" "$dst/unified" "$V2_CHAIN" "$V2_LEAF"
		fi
	else
		copy_files "$CG" "$dst" cgroup.controllers
		copy_chain "$CG" "$leaf" "$dst" "$V2_CHAIN" "$V2_LEAF"
	fi

	# What the script set; tests compare Read's results with these.
	local swap=-1 emem=$MEMORY equota=$QUOTA eperiod=$PERIOD acct=false pressure=false
	if [ "$PMEMORY" -ge 0 ] && { [ "$emem" -lt 0 ] || [ "$PMEMORY" -lt "$emem" ]; }; then emem=$PMEMORY; fi
	if [ "$PQUOTA" -ge 0 ]; then
		if [ "$equota" -lt 0 ] || [ $((PQUOTA * PERIOD)) -lt $((equota * PPERIOD)) ]; then
			equota=$PQUOTA eperiod=$PPERIOD
		fi
	fi
	[ "$equota" -lt 0 ] && eperiod=-1
	[ "$MEMSW" -ge 0 ] && swap=$((MEMSW - MEMORY))
	if [ "$mode" = v2 ]; then
		[ -f "$CG$leaf/memory.swap.current" ] && acct=true
	else
		[ -f "$CG/$(v1dir memory)$leaf/memory.memsw.usage_in_bytes" ] && acct=true
	fi
	[ -n "$v2root" ] && [ -f "$v2root$leaf/cpu.pressure" ] && pressure=true
	jq -n --arg name "$name" --arg mode "$mode" --arg cgroup "$leaf" \
		--arg kernel "$(uname -r)" --arg captured "$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
		--argjson memory_limit "$emem" --argjson swap_limit "$swap" \
		--argjson cpu_quota "$equota" --argjson cpu_period "$eperiod" \
		--arg cpuset "$CPUSET" --argjson pids_max "$PIDSMAX" \
		--argjson alloc_bytes "$ALLOC" --argjson io_bytes "$IOBYTES" \
		--argjson swap_accounting "$acct" --argjson pressure "$pressure" \
		--argjson pid "$WORKLOAD_PID" \
		'{name: $name, mode: $mode, cgroup: $cgroup, kernel: $kernel, captured: $captured,
		  memory_limit: $memory_limit, swap_limit: $swap_limit,
		  cpu_quota: $cpu_quota, cpu_period: $cpu_period, cpuset: $cpuset,
		  pids_max: $pids_max, alloc_bytes: $alloc_bytes, io_bytes: $io_bytes,
		  swap_accounting: $swap_accounting, pressure: $pressure, pid: $pid}' >"$out/expect.json"
	log "captured $out"
}

standard() {
	local self=$0 mode
	mode=$(detect_mode)
	local M256=$((256 * 1024 * 1024)) M128=$((128 * 1024 * 1024)) M512=$((512 * 1024 * 1024))
	"$self" --memory $M256 --quota 50000 --period 100000 --pids-max 100 --io $((8 * 1024 * 1024)) "$mode-limit256m-quota0.5-io"
	"$self" --parent-memory $M128 --parent-quota 150000 --parent-period 100000 --memory $M512 "$mode-nested-parent128m-quota1.5-leaf512m"
	"$self" "$mode-nolimit"
	"$self" --cpuset 1 "$mode-cpuset1"
	"$self" --memory $M256 --memsw $M512 "$mode-swap-limit256m-memsw512m"
	if [ "$mode" = hybrid ]; then
		"$self" derive-overlimit "$mode-limit256m-quota0.5-io" "$mode-derived-overlimit"
		"$self" derive-v1only "$mode-limit256m-quota0.5-io" "v1-derived-limit256m-quota0.5-io"
	fi
}

main() {
	case ${1:-} in
	derive-overlimit) [ $# = 3 ] || die "usage: derive-overlimit SRC NAME"; derive overlimit "$2" "$3"; return ;;
	derive-v1only) [ $# = 3 ] || die "usage: derive-v1only SRC NAME"; derive v1only "$2" "$3"; return ;;
	--standard | all) standard; return ;;
	esac
	while [ $# -gt 1 ]; do
		case $1 in
		--memory) MEMORY=$2 ;;
		--memsw) MEMSW=$2 ;;
		--quota) QUOTA=$2 ;;
		--period) PERIOD=$2 ;;
		--cpuset) CPUSET=$2 ;;
		--pids-max) PIDSMAX=$2 ;;
		--parent-memory) PMEMORY=$2; NESTED=1 ;;
		--parent-quota) PQUOTA=$2; NESTED=1 ;;
		--parent-period) PPERIOD=$2 ;;
		--alloc) ALLOC=$2 ;;
		--io) IOBYTES=$2 ;;
		*) die "unknown option $1" ;;
		esac
		shift 2
	done
	[ $# = 1 ] || die "usage: $0 [options] NAME | --standard | derive-overlimit SRC NAME | derive-v1only SRC NAME"
	capture "$1"
}

main "$@"
