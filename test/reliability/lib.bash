# shellcheck shell=bash disable=SC2016,SC2034,SC2086
# (SC2086: $files is a list of view paths without blanks, split on purpose.)
# lib.bash: procview's reliability scenarios, shared by the short versions
# in test/bats/reliability.bats (make test) and the long ones in
# test/reliability/reliability.bats (make reliability). Each scenario takes
# its size as arguments, asserts its goal and records its figures with
# rel_result (in $REL_RESULTS when set).
#
# Load after helpers.bash:
#   load helpers                      # test/bats
#   load ../reliability/lib

PV_READER=${PV_READER:-}

# rel_result KEY VALUE: record a figure (one "KEY VALUE" line) and print it.
rel_result() {
	echo "# $1 = $2" >&3 2>/dev/null || true
	[ -z "${REL_RESULTS:-}" ] || echo "$1 $2" >>"$REL_RESULTS"
}

# rel_setup_file: pv_setup_file plus the static reader program.
rel_setup_file() {
	pv_setup_file
	PV_READER=$PV_WORK/pvreader
	if ! (cd "$PV_REPO" && CGO_ENABLED=0 go build -o "$PV_READER" ./test/reliability/reader) >&2; then
		echo "cannot build test/reliability/reader" >&2
		return 1
	fi
	export PV_READER
}

# rel_restart_daemon_with REFRESH: use refresh_interval REFRESH from now on;
# the running procviewd (if any) is stopped so the next start reads it.
rel_restart_daemon_with() {
	PV_REFRESH=$1
	export PV_REFRESH
	pv_write_config
	pv_stop_daemon
}

# rel_bundle: new_bundle busybox with the reader copied in.
rel_bundle() {
	new_bundle busybox
	install -m 0755 "$PV_READER" "$BUNDLE/rootfs/reader"
}

# SHM_SWING is a container command that moves Shmem (and MemFree, Cached,
# MemAvailable...) across digit boundaries forever: 4 kB to 100 MB and back.
SHM_SWING='while :; do
	for k in 4 40 400 4000 40000 100000 40000 4000 400 40; do
		dd if=/dev/zero of=/dev/shm/swing bs=1k count=$k 2>/dev/null
	done
	rm -f /dev/shm/swing
done'

# rel_view_files: the view paths whose files are non-empty in the
# container $CID (an empty diskstats is legal: no I/O yet).
rel_view_files() {
	local p found=()
	for p in "${PV_VIEW_PATHS[@]}"; do
		if cexec "test -s $p" 2>/dev/null; then found+=("$p"); fi
	done
	echo "${found[*]}"
}

# rel_sum_readers FILE...: add up the readers' JSON summary lines into
# "reads bad empty truncated bad_length unparseable errors distinct".
rel_sum_readers() {
	local f
	for f in "$@"; do tail -n1 "$f"; done | jq -rs '
		if length == 0 then "0 1 0 0 0 0 1 0" else
		[ (map(.reads)|add), (map(.bad)|add), (map(.empty)|add), (map(.truncated)|add),
		  (map(.bad_length)|add), (map(.unparseable)|add), (map(.errors)|add),
		  (map(.distinct_contents)|add) ] | map(tostring) | join(" ") end'
}

# rel_torn_reads TOTAL [CONTAINERS] [READERS_PER_CONTAINER]: TOTAL reads
# of every view by readers inside CONTAINERS containers (half the readers
# open+read+close, half lseek(0)+read on one fd) while procviewd refreshes
# every 10 ms and each container swings its shared memory. 0 bad reads.
rel_torn_reads() {
	local total=$1 ncont=${2:-2} per=${3:-2} i r mode files n
	rel_restart_daemon_with 10ms
	local cids=() outs=() pids=()
	for ((i = 0; i < ncont; i++)); do
		rel_bundle
		pv_start "$SHM_SWING"
		wait_views
		cids+=("$CID")
	done
	files=$(rel_view_files)
	[ -n "$files" ]
	n=$((total / (ncont * per)))
	local t0
	t0=$(now_ms)
	for CID in "${cids[@]}"; do
		for ((r = 0; r < per; r++)); do
			mode=open
			[ $((r % 2)) -eq 1 ] && mode=seek
			local out=$PV_WORK/reader.$CID.$r
			outs+=("$out")
			"$RUNC" --root "$PV_RUNC_ROOT" exec "$CID" /reader -mode "$mode" -reads "$n" $files </dev/null >"$out" 2>&1 &
			pids+=($!)
		done
	done
	local p
	for p in "${pids[@]}"; do wait "$p" || true; done
	local secs=$((($(now_ms) - t0) / 1000))
	read -r reads bad empty trunc badlen unparse errs distinct < <(rel_sum_readers "${outs[@]}")
	rel_result torn.readers $((ncont * per))
	rel_result torn.files "$(wc -w <<<"$files")"
	rel_result torn.reads "$reads"
	rel_result torn.bad "$bad"
	rel_result torn.detail "empty=$empty truncated=$trunc bad_length=$badlen unparseable=$unparse errors=$errs"
	rel_result torn.distinct_contents "$distinct"
	rel_result torn.seconds "$secs"
	if [ "$bad" -ne 0 ] || [ "$reads" -lt $((n * ncont * per)) ]; then
		grep -h BAD "${outs[@]}" | head -n 20
		tail -n 3 "${outs[@]}"
		return 1
	fi
	# The views did change under the readers (the test is not vacuous).
	[ "$distinct" -gt $((ncont * per * 10)) ]
	for CID in "${cids[@]}"; do
		"$RUNC" --root "$PV_RUNC_ROOT" kill "$CID" KILL 2>/dev/null || true
	done
}

# rel_uptime_file ID: the host-side path of the container's uptime view
# (the same inode the container reads).
rel_uptime_file() {
	echo "$PV_STATE/containers/$1/views/uptime"
}

# rel_all_updated_since STAMPFILE ID...: every container's uptime view
# differs from what STAMPFILE recorded.
rel_all_updated_since() {
	local stamp=$1 id
	shift
	for id in "$@"; do
		[ "$(cat "$(rel_uptime_file "$id")")" != "$(grep "^$id " "$stamp" | cut -d' ' -f2-)" ] || return 1
	done
}

# rel_crash CONTAINERS [KILLS]: CONTAINERS containers each read every view
# in a loop while procviewd is SIGKILLed KILLS times mid-refresh and
# restarted: 0 failed reads, every container's views update within 2 s of
# each restart, and a burst of concurrent starts leaves one daemon.
rel_crash() {
	local ncont=$1 kills=${2:-3} i k
	rel_restart_daemon_with 10ms
	local cids=() outs=() pids=()
	for ((i = 0; i < ncont; i++)); do
		rel_bundle
		pv_start
		cids+=("$CID")
	done
	for CID in "${cids[@]}"; do wait_views; done
	local files
	files=$(rel_view_files)
	# Readers run for the whole outage sequence (at most 10 s per kill).
	local dur=$((kills * 6 + 4))
	for CID in "${cids[@]}"; do
		local out=$PV_WORK/crash-reader.$CID
		outs+=("$out")
		"$RUNC" --root "$PV_RUNC_ROOT" exec "$CID" /reader -mode open -reads 1000000000 -duration "${dur}s" $files </dev/null >"$out" 2>&1 &
		pids+=($!)
	done
	local worst=0 failed_updates=0
	for ((k = 0; k < kills; k++)); do
		local pid
		pid=$(pv_daemon_pid)
		# A random point inside the 10 ms refresh cycle.
		sleep "0.$((RANDOM % 10))$((RANDOM % 10))"
		kill -KILL "$pid"
		wait_until 2000 pid_gone "$pid"
		sleep 1
		local stamp=$PV_WORK/uptime.stamp
		: >"$stamp"
		for id in "${cids[@]}"; do echo "$id $(cat "$(rel_uptime_file "$id")")" >>"$stamp"; done
		sleep 0.3
		# Nothing refreshes during the outage.
		if rel_all_updated_since "$stamp" "${cids[@]}"; then
			echo "views changed with no daemon running" >&2
			return 1
		fi
		local t0 took
		t0=$(now_ms)
		pv_start_daemon
		if wait_until 2000 rel_all_updated_since "$stamp" "${cids[@]}"; then
			took=$(($(now_ms) - t0))
			[ "$took" -gt "$worst" ] && worst=$took
		else
			failed_updates=$((failed_updates + 1))
		fi
		sleep 1
	done
	# Several daemons started at once on one state root: one survives.
	pv_stop_daemon
	for i in 1 2 3 4 5 6 7 8; do pv_start_daemon & done
	wait
	sleep 2
	local ndaemons
	ndaemons=$(pv_daemons | wc -l)
	local p
	for p in "${pids[@]}"; do wait "$p" || true; done
	read -r reads bad empty trunc badlen unparse errs distinct < <(rel_sum_readers "${outs[@]}")
	rel_result crash.containers "$ncont"
	rel_result crash.kills "$kills"
	rel_result crash.outage_reads "$reads"
	rel_result crash.failed_reads "$bad"
	rel_result crash.worst_readopt_ms "$worst"
	rel_result crash.readopt_over_2s "$failed_updates"
	rel_result crash.daemons_after_8_concurrent_starts "$ndaemons"
	if [ "$bad" -ne 0 ]; then
		grep -h BAD "${outs[@]}" | head -n 20
		return 1
	fi
	[ "$reads" -gt 0 ]
	[ "$failed_updates" -eq 0 ]
	[ "$ndaemons" -eq 1 ] || { pv_daemons; return 1; }
	for CID in "${cids[@]}"; do
		"$RUNC" --root "$PV_RUNC_ROOT" kill "$CID" KILL 2>/dev/null || true
	done
}

# ---- fail-open ----

# rel_failopen_case NAME MODE: prepare the failure NAME (config and
# binaries), start a container through the wrapper with runc's JSON log,
# and check the outcome for fail_mode MODE (open: starts, error logged;
# closed: refused with a message naming procview). Prints one result line.
rel_failopen_case() {
	local name=$1 mode=$2 wrapper=$PV_WRAPPER extra=() state=$PV_STATE
	local dir=$PV_WORK/failopen-$name-$mode
	rm -rf "$dir"
	mkdir -p "$dir"
	pv_stop_daemon
	rel_bundle # sets CID, which hook-stuck needs
	case $name in
	daemon-missing)
		# Wrapper and hook without a procviewd next to them.
		cp "$PV_WRAPPER" "$PV_HOOK" "$dir/"
		wrapper=$dir/procview-runc
		;;
	daemon-failing)
		cp "$PV_WRAPPER" "$PV_HOOK" "$dir/"
		printf '#!/bin/sh\necho "procviewd: simulated failure" >&2\nexit 1\n' >"$dir/procviewd"
		chmod +x "$dir/procviewd"
		wrapper=$dir/procview-runc
		;;
	state-readonly)
		mkdir -p "$dir/ro"
		mount --bind "$dir/ro" "$dir/ro"
		mount -o remount,bind,ro "$dir/ro"
		state=$dir/ro/state
		;;
	cgroup-garbage)
		mkdir -p "$dir/cg/memory" "$dir/cg/unified"
		head -c 4096 /dev/urandom >"$dir/cg/memory/memory.stat"
		echo garbage >"$dir/cg/cgroup.controllers"
		extra=("cgroup_root = \"$dir/cg\"")
		;;
	hook-stuck)
		# A cgroup filesystem that never answers: the memory files of the
		# container's cgroup and its ancestors are fifos nobody writes, so
		# the hook's first read blocks forever. The hook must give up
		# within hook_timeout (its own budget: 4/5 of it) and then fail
		# open or closed itself, before runc's timeout kills it.
		local d f
		for d in "$dir/cg/memory" "$dir/cg/memory/$PV_CGROUP_PARENT" "$dir/cg/memory/$PV_CGROUP_PARENT/$CID"; do
			mkdir -p "$d"
			for f in memory.limit_in_bytes memory.memsw.limit_in_bytes memory.usage_in_bytes \
				memory.memsw.usage_in_bytes memory.stat; do
				mkfifo "$d/$f"
			done
		done
		extra=("cgroup_root = \"$dir/cg\"" "hook_timeout = 3")
		;;
	hook-slow)
		# A hook slower than hook_timeout: runc kills it.
		cp "$PV_WRAPPER" "$dir/"
		printf '#!/bin/sh\nsleep 5\n' >"$dir/procview-hook"
		chmod +x "$dir/procview-hook"
		wrapper=$dir/procview-runc
		extra=("hook_timeout = 1")
		;;
	*)
		echo "unknown case $name" >&2
		return 2
		;;
	esac
	# Written whole: a key given twice makes the file invalid (defaults).
	{
		echo "state_root = \"$state\""
		echo "log_level = \"debug\""
		echo "log_file = \"$PV_LOG\""
		echo "fail_mode = \"$mode\""
		echo 'metrics_address = ""' # a taken metrics port would put a warning in the log
		local l
		for l in "${extra[@]}"; do echo "$l"; done
	} >"$PROCVIEW_CONFIG"
	: >"$PV_LOG"
	local jlog=$dir/runc.json status started=no in_log=no in_runc_log=no
	set_cmd 'echo started'
	local out
	out=$(timeout -k 5 60 "$wrapper" --log "$jlog" --log-format json --root "$PV_RUNC_ROOT" run -b "$BUNDLE" "$CID" </dev/null 2>&1) && status=0 || status=$?
	[ "$status" -eq 0 ] && [[ "$out" == *started* ]] && started=yes
	grep -qiE '"level":"(error|warning|warn)"|level=(error|warning|warn)' "$PV_LOG" && in_log=yes
	# procview's own lines carry "component" (hook) or "command" (wrapper);
	# runc's do not, and any line may name a path containing "procview".
	grep -iE '"level":"(error|warning)"' "$jlog" 2>/dev/null | grep -qE '"(component|command)":' && in_runc_log=yes
	# The stuck case must be the hook's own timeout, not another error.
	if [ "$name" = hook-stuck ] && ! grep -q 'gave up' "$PV_LOG"; then in_log=no; fi
	if [ "$name" = state-readonly ]; then umount -l "$dir/ro" 2>/dev/null || true; fi
	pv_write_config
	# open: the container starts and the error is in procview's log and in
	# runc's JSON log (the hook writes its warnings there, runc records a
	# hook's output only when it fails). closed: refused, the message names
	# procview.
	local ok=no
	if [ "$mode" = open ]; then
		[ $started = yes ] && [ $in_log = yes ] && [ $in_runc_log = yes ] && ok=yes
	else
		# Only procview's own refusal says this (hook or wrapper); a crash
		# trace or a path containing "procview" does not.
		[ $started = no ] && grep -qE "$PV_REFUSAL_RE" <<<"$out" && ok=yes
	fi
	echo "$name $mode started=$started log=$in_log runc_json_log=$in_runc_log ok=$ok"
	[ $ok = yes ] || {
		echo "---- output (exit $status):"
		echo "$out"
		echo "---- procview log:"
		tail -n 20 "$PV_LOG"
		echo "---- runc log:"
		cat "$jlog" 2>/dev/null
		return 1
	} >&2
}

# rel_failopen CASE...: every case in open and in closed mode.
rel_failopen() {
	local c m line fails=0 n=0 nojson=0
	for c in "$@"; do
		for m in open closed; do
			# A hook killed by runc's timeout fails the start in any mode;
			# record what happens rather than assert fail-open.
			n=$((n + 1))
			if line=$(rel_failopen_case "$c" "$m"); then :; else
				if [ "$c" != hook-slow ]; then fails=$((fails + 1)); fi
			fi
			echo "$line"
			rel_result "failopen.$c.$m" "$(cut -d' ' -f3- <<<"$line")"
			[[ "$line" == *runc_json_log=no* && $m == open ]] && nojson=$((nojson + 1))
		done
	done
	rel_result failopen.cases "$n"
	rel_result failopen.failed "$fails"
	rel_result failopen.open_cases_without_error_in_runc_json_log "$nojson"
	[ "$fails" -eq 0 ]
}

# ---- hostile input ----
#
# Every case must end in one of: "started" (the container ran; procview
# mounted what was safe), "refused by runc", "refused by procview" or "error"
# (a clear message, exit status < 128) - and never in an escape: a mount in
# the host's mount table on the canary directory or on a host /proc or /sys
# view path, a changed canary file, or a crash (signal, "panic:").

# rel_canary_setup: $REL_CANARY, a host directory shaped like /proc and
# /sys/devices/system/cpu, which hostile symlinks point at.
rel_canary_setup() {
	REL_CANARY=$PV_WORK/canary
	mkdir -p "$REL_CANARY/pressure"
	local f
	for f in meminfo cpuinfo stat uptime loadavg diskstats swaps vmstat pressure/cpu pressure/memory pressure/io online; do
		echo "canary $f" >"$REL_CANARY/$f"
	done
	REL_CANARY_SUM=$(rel_canary_sum)
}

rel_canary_sum() {
	(cd "$REL_CANARY" && find . -printf '%p %y %s\n' | sort && find . -type f -exec sha256sum {} + | sort) | sha256sum
}

# rel_escaped: non-empty output (and status 0) when something escaped.
rel_escaped() {
	local mi
	for mi in /proc/self/mountinfo /proc/1/mountinfo; do
		awk -v c="$REL_CANARY" '$5 == c || index($5, c "/") == 1 {print "mount on canary: " $5}' "$mi"
		awk '$5 ~ "^/proc/(meminfo|cpuinfo|stat|uptime|loadavg|diskstats|swaps|vmstat|pressure/(cpu|memory|io))$" || $5 == "/sys/devices/system/cpu/online" {print "mount on host view path: " $5}' "$mi"
	done
	[ "$(rel_canary_sum)" = "$REL_CANARY_SUM" ] || echo "canary changed"
}

# rel_crashed STATUS OUTPUT: the program died of a signal or panicked.
rel_crashed() {
	[ "$1" -ge 128 ] || grep -qE '^panic:|goroutine [0-9]+ \[' <<<"$2"
}

REL_HOSTILE_TRIED=0
REL_HOSTILE_ESCAPED=0
REL_HOSTILE_CRASHED=0

# rel_hostile_record NAME STATUS OUTPUT [STARTED-MARKER]: classify and count.
rel_hostile_record() {
	local name=$1 status=$2 out=$3 outcome esc
	REL_HOSTILE_TRIED=$((REL_HOSTILE_TRIED + 1))
	if [ "$status" -eq 0 ] && [[ $out == *pv-started* ]]; then
		outcome=started
	elif grep -qiE 'procview(-runc|-hook)?: |fail_mode' <<<"$out"; then
		outcome="refused by procview"
	elif [ "$status" -ne 0 ]; then
		outcome="refused by runc"
	else
		outcome="exit 0"
	fi
	if [ "$status" -eq 124 ]; then
		outcome="TIMEOUT"
		REL_HOSTILE_CRASHED=$((REL_HOSTILE_CRASHED + 1))
	elif rel_crashed "$status" "$out"; then
		outcome="CRASH"
		REL_HOSTILE_CRASHED=$((REL_HOSTILE_CRASHED + 1))
	fi
	esc=$(rel_escaped)
	if [ -n "$esc" ]; then
		outcome="ESCAPED: $esc"
		REL_HOSTILE_ESCAPED=$((REL_HOSTILE_ESCAPED + 1))
	fi
	local msg
	msg=$(grep -iE 'error|refus|invalid|symlink|escape|not a|denied|too|larger' <<<"$out" | head -n1 | cut -c1-160)
	echo "$name: $outcome${msg:+ ($msg)}"
	rel_result "hostile.$name" "$outcome"
}

# rel_hostile_rootfs NAME SETUP [JQ]: a bundle whose rootfs SETUP (shell,
# run in the rootfs directory with $C the canary) made hostile, spec edited
# by JQ, run through procview-runc. In /proc and /sys cases the rootfs view
# of that path matters only where runc does not mount over it, so JQ may
# drop the proc or sysfs mount.
rel_hostile_rootfs() {
	local name=$1 setup=$2 filter=${3:-.} out status
	rel_bundle
	(cd "$BUNDLE/rootfs" && C=$REL_CANARY sh -c "$setup")
	update_config "$filter"
	# Reads are bounded: a fifo target left in place would block cat.
	set_cmd 'echo pv-started; for f in /proc/meminfo /sys/devices/system/cpu/online; do [ -f "$f" ] && timeout 2 cat "$f" >/dev/null 2>&1; done; true'
	out=$(timeout -k 5 60 "$PV_WRAPPER" --root "$PV_RUNC_ROOT" run -b "$BUNDLE" "$CID" </dev/null 2>&1) && status=0 || status=$?
	"$RUNC" --root "$PV_RUNC_ROOT" delete --force "$CID" >/dev/null 2>&1 || true
	rel_hostile_record "$name" "$status" "$out"
}

# rel_hostile_id NAME ID: a container id through procview-runc (and runc's
# own verdict on it, for the record).
rel_hostile_id() {
	local name=$1 id=$2 out status plain
	rel_bundle
	set_cmd 'echo pv-started'
	# The hostile id is NEVER written to $PV_WORK/containers: teardown
	# builds cgroup paths from those ids, and ".." would name the root
	# cgroup (and kill every process on the host). The bundle's own $CID
	# (its cgroup) is listed by new_bundle; the id is deleted here.
	out=$(timeout -k 5 60 "$PV_WRAPPER" --root "$PV_RUNC_ROOT" run -b "$BUNDLE" "$id" </dev/null 2>&1) && status=0 || status=$?
	"$RUNC" --root "$PV_RUNC_ROOT" delete --force "$id" >/dev/null 2>&1 || true
	plain=$(timeout -k 5 60 "$RUNC" --root "$PV_RUNC_ROOT" run -b "$BUNDLE" "$id" </dev/null 2>&1) && plain="runc: accepted" || plain="runc: refused"
	"$RUNC" --root "$PV_RUNC_ROOT" delete --force "$id" >/dev/null 2>&1 || true
	rel_hostile_record "$name" "$status" "$out"
	echo "  ($plain)"
	# No state left behind under any name.
	[ -z "$(ls -A "$PV_STATE/containers" 2>/dev/null)" ] || {
		echo "  state left: $(ls -A "$PV_STATE/containers")"
		REL_HOSTILE_ESCAPED=$((REL_HOSTILE_ESCAPED + 1))
	}
}

# rel_hostile_config NAME WRITER: config.json replaced by WRITER's output.
rel_hostile_config() {
	local name=$1 writer=$2 out status
	rel_bundle
	set_cmd 'echo pv-started'
	B=$BUNDLE sh -c "$writer" >"$BUNDLE/config.json.new"
	mv "$BUNDLE/config.json.new" "$BUNDLE/config.json"
	out=$(timeout -k 5 60 "$PV_WRAPPER" --root "$PV_RUNC_ROOT" run -b "$BUNDLE" "$CID" </dev/null 2>&1) && status=0 || status=$?
	"$RUNC" --root "$PV_RUNC_ROOT" delete --force "$CID" >/dev/null 2>&1 || true
	rel_hostile_record "$name" "$status" "$out"
}

# rel_hostile_hookstate NAME STATE-WRITER [BUNDLE-CONFIG-WRITER]: feed
# procview-hook create-runtime a hostile state (and bundle config.json).
rel_hostile_hookstate() {
	local name=$1 writer=$2 cfgw=${3:-} out status dir=$PV_WORK/hookstate-$1
	mkdir -p "$dir/rootfs"
	[ -z "$cfgw" ] || sh -c "$cfgw" >"$dir/config.json"
	out=$(B=$dir sh -c "$writer" | timeout -k 5 60 "$PV_HOOK" --config "$PROCVIEW_CONFIG" create-runtime 2>&1) && status=0 || status=$?
	# Fail-open: exit 0 with the error in the log; closed: exit 1 + message.
	if [ "$status" -eq 0 ] && grep -q "level=error" "$PV_LOG"; then out="$out procview: error logged: $(grep level=error "$PV_LOG" | tail -n1 | sed 's/.*error="\([^"]*\)".*/\1/' | cut -c1-120)"; fi
	: >"$PV_LOG"
	rel_hostile_record "$name" "$status" "$out"
}

# rel_hostile_cgroup NAME VALUE: every file of a fixture's cgroup tree
# holds VALUE; procview render computes every view from it.
rel_hostile_cgroup() {
	local name=$1 value=$2 fixture=${3:-hybrid-limit256m-quota0.5-io} out status
	local tree=$PV_WORK/cgtree-$name-$fixture
	rm -rf "$tree"
	cp -a "$PV_REPO/testdata/hosts/$fixture" "$tree"
	find "$tree/sys/fs/cgroup" -type f ! -name cgroup.controllers -exec sh -c 'for f; do printf "%b" "$0" >"$f"; done' "$value" {} +
	out=$(timeout -k 5 30 "$PV_CLI" render --pid self --cgroup-root "$tree/sys/fs/cgroup" --proc-root "$tree/proc" all 2>&1) && status=0 || status=$?
	[ "$status" -eq 0 ] && out="$out pv-started"
	rel_hostile_record "cgroup-$name-$fixture" "$status" "$out"
}

# rel_hostile [short]: the matrix (a subset with "short").
rel_hostile() {
	local short=${1:-}
	rel_canary_setup
	# The detector detects: a bind mount on the canary and a changed canary
	# file are both reported.
	mount --bind "$REL_CANARY/stat" "$REL_CANARY/meminfo"
	local seen
	seen=$(rel_escaped)
	umount "$REL_CANARY/meminfo"
	[[ $seen == *"mount on canary"* ]] || { echo "escape detector missed a mount" >&2; return 1; }
	echo tampered >>"$REL_CANARY/online"
	seen=$(rel_escaped)
	echo "canary online" >"$REL_CANARY/online"
	[[ $seen == *"canary changed"* ]] || { echo "escape detector missed a write" >&2; return 1; }
	[ -z "$(rel_escaped)" ]
	local noproc='.mounts |= map(select(.destination != "/proc"))'
	local nosys='.mounts |= map(select(.destination != "/sys"))'
	local up=../../../../../../../../../..
	pv_write_config
	# Rootfs layouts.
	rel_hostile_rootfs proc-symlink-abs 'rm -rf proc && ln -s "$C" proc'
	rel_hostile_rootfs proc-symlink-rel 'rm -rf proc && ln -s '"$up"'"$C" proc'
	rel_hostile_rootfs sys-symlink-abs 'rm -rf sys && ln -s "$C" sys'
	rel_hostile_rootfs cpu-dir-symlink-abs-nosysfs 'mkdir -p sys/devices/system && ln -s "$C" sys/devices/system/cpu' "$nosys"
	rel_hostile_rootfs cpu-dir-symlink-rel-nosysfs 'mkdir -p sys/devices/system && ln -s '"$up"'"$C" sys/devices/system/cpu' "$nosys"
	rel_hostile_rootfs online-symlink-abs-nosysfs 'mkdir -p sys/devices/system/cpu && ln -s "$C/online" sys/devices/system/cpu/online' "$nosys"
	rel_hostile_rootfs meminfo-symlink-abs-noproc 'ln -s "$C/meminfo" proc/meminfo' "$noproc"
	rel_hostile_rootfs online-dir-nosysfs 'mkdir -p sys/devices/system/cpu/online' "$nosys"
	rel_hostile_rootfs online-fifo-nosysfs 'mkdir -p sys/devices/system/cpu && mkfifo sys/devices/system/cpu/online' "$nosys"
	if [ -z "$short" ]; then
		rel_hostile_rootfs sys-symlink-rel 'rm -rf sys && ln -s '"$up"'"$C" sys'
		rel_hostile_rootfs online-symlink-rel-nosysfs 'mkdir -p sys/devices/system/cpu && ln -s '"$up"'"$C/online" sys/devices/system/cpu/online' "$nosys"
		rel_hostile_rootfs meminfo-symlink-rel-noproc 'ln -s '"$up"'"$C/meminfo" proc/meminfo' "$noproc"
		rel_hostile_rootfs pressure-symlink-abs-noproc 'ln -s "$C/pressure" proc/pressure' "$noproc"
		rel_hostile_rootfs meminfo-dir-noproc 'mkdir proc/meminfo' "$noproc"
		rel_hostile_rootfs meminfo-fifo-noproc 'mkfifo proc/meminfo' "$noproc"
		rel_hostile_rootfs stat-socketlike-dev-noproc 'ln -s /dev/zero proc/stat' "$noproc"
		rel_hostile_rootfs proc-symlink-loop 'rm -rf proc && ln -s proc proc'
	fi
	# Container ids.
	rel_hostile_id id-slash 'a/b'
	rel_hostile_id id-dotdot '..'
	rel_hostile_id id-300-chars "$(printf 'x%.0s' $(seq 300))"
	if [ -z "$short" ]; then
		rel_hostile_id id-dotdot-slash '../escape'
		rel_hostile_id id-dot '.'
		rel_hostile_id id-space-newline $'a b\nc'
	fi
	# config.json.
	rel_hostile_config config-garbage 'head -c 4096 /dev/urandom'
	rel_hostile_config config-oversized "jq -c '.annotations.pad = (\"x\" * 20000000)' \"\$B/config.json\""
	if [ -z "$short" ]; then
		rel_hostile_config config-array 'echo "[1,2,3]"'
		rel_hostile_config config-hooks-wrong-type "jq -c '.hooks = {\"createRuntime\": \"x\"}' \"\$B/config.json\""
		rel_hostile_config config-deep-nesting 'python3 -c "print(\"{\\\"a\\\":\" * 100000 + \"1\" + \"}\" * 100000)"'
	fi
	# Hook state fed to procview-hook directly.
	rel_hostile_hookstate state-garbage 'head -c 4096 /dev/urandom'
	rel_hostile_hookstate state-oversized 'printf "{\"id\":\"x\",\"pad\":\""; head -c 20000000 /dev/zero | tr "\0" x; printf "\"}"'
	rel_hostile_hookstate state-id-traversal 'printf "{\"id\":\"../../../etc\",\"pid\":999999999,\"bundle\":\"$B\"}"' 'echo "{\"root\":{\"path\":\"rootfs\"}}"'
	if [ -z "$short" ]; then
		rel_hostile_hookstate state-pid-negative 'printf "{\"id\":\"x\",\"pid\":-1,\"bundle\":\"$B\"}"'
		rel_hostile_hookstate state-pid-huge 'printf "{\"id\":\"x\",\"pid\":99999999999999999999,\"bundle\":\"$B\"}"'
		rel_hostile_hookstate state-no-bundle 'printf "{\"id\":\"x\",\"pid\":1,\"bundle\":\"/nonexistent\"}"'
		rel_hostile_hookstate bundle-config-garbage 'printf "{\"id\":\"x\",\"pid\":999999999,\"bundle\":\"$B\"}"' 'head -c 4096 /dev/urandom'
		rel_hostile_hookstate bundle-config-oversized 'printf "{\"id\":\"x\",\"pid\":999999999,\"bundle\":\"$B\"}"' 'printf "{\"root\":{\"path\":\"rootfs\"},\"pad\":\""; head -c 17000000 /dev/zero | tr "\0" x; printf "\"}"'
		rel_hostile_hookstate bundle-rootfs-relative-escape 'printf "{\"id\":\"x\",\"pid\":999999999,\"bundle\":\"$B\"}"' 'echo "{\"root\":{\"path\":\"../../../../../../..$REL_CANARY\"}}"'
	fi
	# Cgroup files holding garbage, negative, huge or "max" values.
	local v fx
	for fx in hybrid-limit256m-quota0.5-io v2-limit256m-quota0.5-io; do
		rel_hostile_cgroup garbage '\x01\xff garbage\n' "$fx"
		rel_hostile_cgroup max 'max\n' "$fx"
		if [ -z "$short" ]; then
			rel_hostile_cgroup negative '-1\n' "$fx"
			rel_hostile_cgroup huge '99999999999999999999999999\n' "$fx"
			rel_hostile_cgroup u64max '18446744073709551615\n' "$fx"
			rel_hostile_cgroup empty '' "$fx"
			rel_hostile_cgroup keyed-garbage 'user -5\nsystem x\nrss 1e99\ntotal_rss -1\nsome avg10=nan total=-1\n' "$fx"
		fi
	done
	rel_result hostile.cases "$REL_HOSTILE_TRIED"
	rel_result hostile.escaped "$REL_HOSTILE_ESCAPED"
	rel_result hostile.crashed "$REL_HOSTILE_CRASHED"
	[ "$REL_HOSTILE_ESCAPED" -eq 0 ]
	[ "$REL_HOSTILE_CRASHED" -eq 0 ]
}

# ---- churn ----

# rel_daemon_fds / rel_daemon_rss_kb: the running procviewd's open fds and
# resident memory.
rel_daemon_fds() { find "/proc/$(pv_daemon_pid)/fd" -mindepth 1 -maxdepth 1 | wc -l; }
rel_daemon_rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$(pv_daemon_pid)/status"; }

# rel_churn TOTAL PARALLEL: TOTAL containers started (run -d) and stopped
# (kill + delete) through procview-runc, PARALLEL at a time, while one
# anchor container keeps the daemon running. 0 failures; afterwards no
# state directory, view mount or registration left, and the daemon (same
# pid) has no more fds than before and an RSS within 8 MiB of it (Go does
# not hand its heap back at once).
rel_churn() {
	local total=$1 par=$2 i j fails=0
	rel_restart_daemon_with 100ms
	rel_bundle
	pv_start
	wait_views
	local anchor=$CID
	sleep 2
	local pid fds0 rss0
	pid=$(pv_daemon_pid)
	fds0=$(rel_daemon_fds)
	rss0=$(rel_daemon_rss_kb)
	# PARALLEL bundles, reused with a fresh id (and cgroup) per round.
	local slots=()
	for ((j = 0; j < par; j++)); do
		rel_bundle
		slots+=("$BUNDLE")
	done
	local t0 rounds=$(((total + par - 1) / par)) n=0 id
	t0=$(now_ms)
	for ((i = 0; i < rounds; i++)); do
		local ids=() pids=()
		for ((j = 0; j < par && n < total; j++, n++)); do
			# Plain ids only: teardown builds cgroup paths from this list.
			id=pvc-$i-$j-$RANDOM
			ids+=("$id")
			echo "$id" >>"$PV_WORK/containers"
			BUNDLE=${slots[$j]} update_config '.linux.cgroupsPath = $p | .process.args = ["sleep", "100000"]' --arg p "/$PV_CGROUP_PARENT/$id"
			"$PV_WRAPPER" --root "$PV_RUNC_ROOT" run -d -b "${slots[$j]}" "$id" </dev/null >"$PV_WORK/churn-$j.out" 2>&1 &
			pids+=($!)
		done
		for j in "${!pids[@]}"; do
			wait "${pids[$j]}" || { fails=$((fails + 1)); cat "$PV_WORK/churn-$j.out" >&2; }
		done
		# Registered: the views exist on the host side.
		for id in "${ids[@]}"; do
			[ -s "$PV_STATE/containers/$id/views/meminfo" ] || { fails=$((fails + 1)); echo "$id: no views" >&2; }
		done
		pids=()
		for id in "${ids[@]}"; do
			(
				"$PV_WRAPPER" --root "$PV_RUNC_ROOT" kill "$id" KILL &&
					wait_until 5000 sh -c "! $RUNC --root $PV_RUNC_ROOT state $id 2>/dev/null | grep -q '\"running\"'" &&
					"$PV_WRAPPER" --root "$PV_RUNC_ROOT" delete "$id"
			) >/dev/null 2>&1 &
			pids+=($!)
		done
		for j in "${!pids[@]}"; do
			wait "${pids[$j]}" || { fails=$((fails + 1)); echo "stop ${ids[$j]} failed" >&2; }
		done
	done
	local secs=$((($(now_ms) - t0) / 1000))
	sleep 3
	local left mounts listed fds1 rss1 samepid=yes
	left=$(find "$PV_STATE/containers" -mindepth 1 -maxdepth 1 ! -name "$anchor" | wc -l)
	mounts=$(cat /proc/self/mountinfo /proc/1/mountinfo | grep -c "$PV_STATE/containers/pvc-" || true)
	local list
	list=$("$PV_CLI" list --config "$PROCVIEW_CONFIG" 2>&1)
	# The listing works (it shows the anchor), so "none left" means something.
	grep -q "$anchor" <<<"$list" || { echo "procview list: $list" >&2; return 1; }
	listed=$(grep -c pvc- <<<"$list" || true)
	[ "$(pv_daemon_pid)" = "$pid" ] || samepid=no
	fds1=$(rel_daemon_fds)
	rss1=$(rel_daemon_rss_kb)
	rel_result churn.containers "$n"
	rel_result churn.parallel "$par"
	rel_result churn.failures "$fails"
	rel_result churn.seconds "$secs"
	rel_result churn.leftover_state_dirs "$left"
	rel_result churn.leftover_mounts "$mounts"
	rel_result churn.leftover_registrations "$listed"
	rel_result churn.daemon_same_pid "$samepid"
	rel_result churn.daemon_fds "$fds0 -> $fds1"
	rel_result churn.daemon_rss_kb "$rss0 -> $rss1"
	# One check per line: bats' errexit ignores a failure inside an && chain
	# that is not the function's last command.
	[ "$fails" -eq 0 ]
	[ "$left" -eq 0 ]
	[ "$mounts" -eq 0 ]
	[ "$listed" -eq 0 ]
	[ "$samepid" = yes ]
	[ "$fds1" -le "$fds0" ]
	[ "$rss1" -le $((rss0 + 8192)) ]
	CID=$anchor
	"$RUNC" --root "$PV_RUNC_ROOT" kill "$CID" KILL 2>/dev/null || true
}
