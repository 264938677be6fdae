# shellcheck shell=bash disable=SC2016,SC2034
# report.bash: turns hack/bench/run.sh's results ($RES/*.tsv) into
# docs/benchmarks.md (report) and a terminal table (print_table).
# Sourced by run.sh after the measurements.

# lat_med VARIANT VIEW STYLE: median ns per read.
lat_med() { awk -v a="$1" -v v="$2" -v s="$3" '$1 == a && $2 == v && $3 == s {print $4}' "$RES/lat.tsv" | median; }
us() { fmt_num "$(awk -v x="$1" 'BEGIN {if (x == "na") print "na"; else print x / 1000}')" "${2:-2}"; }

# mark VALUE GOAL: "✔" when VALUE <= GOAL, "✘" when above, "" for n/a.
mark() {
	awk -v a="$1" -v g="$2" 'BEGIN { if (a == "n/a" || a == "") print ""; else if (a + 0 <= g + 0) print "✔"; else print "✘" }'
}

# goal_count VARIANT STYLE GOAL: "k of n" views whose view/VARIANT ratio meets GOAL.
goal_count() {
	local v ok=0 all=0 r
	for v in "${VIEWS[@]}"; do
		r=$(ratio "$(lat_med pv "$v" "$2")" "$(lat_med "$1" "$v" "$2")" 4)
		[ "$r" = n/a ] && continue
		all=$((all + 1))
		[ "$(mark "$r" "$3")" = "✔" ] && ok=$((ok + 1))
	done
	echo "$ok of $all"
}

# ratio_med VARIANT STYLE: median over views of view/VARIANT.
ratio_med() {
	local v
	for v in "${VIEWS[@]}"; do
		ratio "$(lat_med pv "$v" "$2")" "$(lat_med "$1" "$v" "$2")" 4
	done | median
}

# pair_med A B STYLE: median over views of A/B (both measured in this run).
pair_med() {
	local v
	for v in "${VIEWS[@]}"; do
		ratio "$(lat_med "$1" "$v" "$3")" "$(lat_med "$2" "$v" "$3")" 4
	done | median
}

# lat_range VARIANT STYLE: "min–max" µs per read over views.
lat_range() {
	local v
	for v in "${VIEWS[@]}"; do lat_med "$1" "$v" "$2"; done |
		awk '$1 != "" && $1 != "na" {if (n++ == 0 || $1 < lo) lo = $1; if ($1 > hi) hi = $1} END {if (n) printf "%.1f–%.1f\n", lo / 1000, hi / 1000; else print "n/a"}'
}

lat_table() { # STYLE
	local v a c n l
	echo "| View | bytes (view / native) | procview µs | tmpfs copy µs | native procfs µs | LXCFS µs | view ÷ tmpfs (≤ 1.2) | view ÷ native (≤ 0.3) | view ÷ LXCFS (≤ 0.01) |"
	echo "|---|---|---|---|---|---|---|---|---|"
	for v in "${VIEWS[@]}"; do
		a=$(lat_med pv "$v" "$1") c=$(lat_med tmpfs "$v" "$1") n=$(lat_med native "$v" "$1") l=$(lat_med lxcfs "$v" "$1")
		local rc rn rl
		rc=$(ratio "$a" "$c") rn=$(ratio "$a" "$n") rl=$(ratio "$a" "$l" 4)
		echo "| $v | $(awk -v v="$v" '$1 == v {print $2 " / " $3}' "$RES/sizes.tsv") | $(us "$a") | $(us "$c") | $(us "$n") | $(us "$l") | $rc $(mark "$rc" 1.2) | $rn $(mark "$rn" 0.3) | $rl $(mark "$rl" 0.01) |"
	done
}

# refresh_field NAME F: field F of refresh.tsv for NAME (name shape n load
# cpu_ns wall_ns rss_kb hwm_kb fds ticks_ns).
refresh_field() { awk -v n="$1" -v f="$2" '$1 == n {print $f}' "$RES/refresh.tsv"; }
# core_pct NAME: CPU % of one core over the window.
core_pct() { awk -v c="$(refresh_field "$1" 5)" -v w="$(refresh_field "$1" 6)" 'BEGIN {if (w > 0) printf "%.2f\n", 100 * c / w; else print "na"}'; }
# ticks_pct NAME: the same from the process's utime+stime (10 ms steps).
ticks_pct() { awk -v c="$(refresh_field "$1" 10)" -v w="$(refresh_field "$1" 6)" 'BEGIN {if (w > 0) printf "%.2f\n", 100 * c / w; else print "na"}'; }
# per_ctr_us NAME: CPU µs per container per second.
per_ctr_us() { awk -v c="$(refresh_field "$1" 5)" -v w="$(refresh_field "$1" 6)" -v n="$(refresh_field "$1" 3)" 'BEGIN {if (w > 0 && n > 0) printf "%.2f\n", c / 1000 / (w / 1e9) / n; else print "na"}'; }
mb() { awk -v k="$1" 'BEGIN {if (k == "") print "na"; else printf "%.1f", k / 1024}'; }
# idle_goal N: the idle goal at N containers, % of a core (2 % at 1000).
idle_goal() { awk -v n="$1" 'BEGIN {printf "%.2f\n", 2 * n / 1000}'; }
# share LOAD: the fraction of containers changing under LOAD.
share() { case $1 in 10pct) echo 0.1 ;; all) echo 1 ;; *) echo 0 ;; esac; }
load_label() {
	case $1 in
	idle) echo "all idle" ;;
	10pct) echo "10 % change every second" ;;
	all) echo "all change every second" ;;
	everyround) echo "all idle, every-round loop" ;;
	idle10) echo "all idle, refresh_max_interval 10s" ;;
	esac
}
# expected_pct SHAPE N LOAD: the cost if it were proportional to the
# changing share: idle + share × (every-round − idle), all measured here.
expected_pct() {
	awk -v i="$(core_pct "$1-$2-idle")" -v e="$(core_pct "$1-$2-everyround")" -v s="$(share "$3")" \
		'BEGIN {if (i == "na" || e == "na" || i == "" || e == "") print "na"; else printf "%.2f\n", i + s * (e - i)}'
}
# refresh_goal SHAPE N LOAD: "goal mark" text for a row.
refresh_goal() {
	local p
	p=$(core_pct "$1-$2-$3")
	case $3 in
	idle)
		# One container costs mostly the round's fixed part (timer, listing).
		if [ "$2" -lt 100 ]; then echo "–"; else echo "≤ $(idle_goal "$2") $(mark "$p" "$(idle_goal "$2")")"; fi
		;;
	10pct | all)
		local x
		x=$(expected_pct "$1" "$2" "$3")
		if [ "$x" = na ]; then echo "n/a"; else echo "≈ $x (× $(ratio "$p" "$x")) $(mark "$(ratio "$p" "$x")" 1.2)"; fi
		;;
	*) echo "reference" ;;
	esac
}

refresh_table() {
	local name n shape load
	echo "| Shape | N | load | CPU % of one core (cgroup) | (utime+stime) | µs per container per s | goal (% of a core) | RSS MB (peak) | open fds |"
	echo "|---|---|---|---|---|---|---|---|---|"
	for shape in live-hybrid fixture-v2 fixture-hybrid; do
		for n in $REFRESH_NS; do
			for load in $REFRESH_LOADS; do
				name=$shape-$n-$load
				[ -n "$(refresh_field "$name" 3)" ] || continue
				echo "| $shape | $n | $(load_label "$load") | $(core_pct "$name") | $(ticks_pct "$name") | $(per_ctr_us "$name") | $(refresh_goal "$shape" "$n" "$load") | $(mb "$(refresh_field "$name" 7)") ($(mb "$(refresh_field "$name" 8)")) | $(refresh_field "$name" 9) |"
			done
		done
	done
}

ind_field() { awk -v p="$1" -v f="$2" '$1 == p {print $f}' "$RES/ind.tsv"; }
ind_pct() { awk -v c="$(ind_field "$1" "$2")" -v w="$IND_WIN" 'BEGIN {if (c == "") print "na"; else printf "%.2f\n", 100 * c / 1e9 / w}'; }

stale_stats() { # FILE KIND(alloc|free|all) -> "p50 p90 max n"
	local f=$1 k=$2 vals
	vals=$(awk -v k="$k" '(k == "all" || $1 == k) && $2 >= 0 {print $2}' "$f")
	echo "$(pct 50 <<<"$vals") $(pct 90 <<<"$vals") $(pct 100 <<<"$vals") $(grep -c . <<<"$vals")"
}

# Part 4. start.tsv: VARIANT ROUND.N STATUS WALL_US CPU_NS.
# start_col VARIANT COL(4 wall, 5 cpu): that column in ms, successful runs only.
start_col() { awk -v v="$1" -v c="$2" '$1 == v && $3 == 0 {print (c == 4 ? $4 / 1000 : $5 / 1e6)}' "$RES/start.tsv"; }
start_med() { start_col "$1" "${2:-4}" | median; }
start_p90() { start_col "$1" "${2:-4}" | pct 90; }
start_runs() { awk -v v="$1" '$1 == v' "$RES/start.tsv" | grep -c . || true; }
start_fails() { awk -v v="$1" '$1 == v && $3 != 0' "$RES/start.tsv" | grep -c . || true; }
# start_diff A B COL: median over rounds of (A - B) in ms, rounds where both succeeded.
start_diff() {
	awk -v a="$1" -v b="$2" -v c="$3" '$3 == 0 {split($2, r, "."); v = (c == 4 ? $4 / 1000 : $5 / 1e6)
		if ($1 == a) x[r[1]] = v; else if ($1 == b) y[r[1]] = v}
		END {for (k in x) if (k in y) print x[k] - y[k]}' "$RES/start.tsv" | median
}
# state_med RUNTIME: median ms of "RUNTIME state" (pass-through).
state_med() { awk -v v="$1" '$1 == v {print $2 / 1000}' "$RES/start-state.tsv" | median; }
# hook_field STAGE FIELD: median ms of a duration field (took, t_*) in the hook's debug log.
hook_field() {
	awk -v st="$1" -v f="$2" 'index($0, "stage=" st) {
		for (i = 1; i <= NF; i++) if (index($i, f "=") == 1) {
			v = substr($i, length(f) + 2); gsub(/"/, "", v)
			if (v ~ /µs$/) x = v / 1000; else if (v ~ /ms$/) x = v + 0; else if (v ~ /s$/) x = v * 1000; else next
			print x
		}}' "$RES/start-hook.log" | median
}

gobench_table() {
	local anchor
	anchor=$(awk '$1 ~ /^BenchmarkRenderAll-/ {print $3}' "$RES/gobench.txt")
	echo "| Package | Benchmark | ns/op | × RenderAll | B/op | allocs/op |"
	echo "|---|---|---|---|---|---|"
	awk '$1 == "pkg:" {sub(/.*\/internal\//, "", $2); pkg = $2}
		/^Benchmark/ && $4 == "ns/op" {print pkg, $1, $3, $5, $7}' "$RES/gobench.txt" |
		while read -r pkg b ns bo al; do
			echo "| $pkg | $b | $ns | $(ratio "$ns" "$anchor" 1) | $bo | $al |"
		done
}

# cgroup_layout: this host's cgroup layout, as found.
cgroup_layout() {
	local ctl
	if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
		echo "cgroup v2 (controllers: $(cat /sys/fs/cgroup/cgroup.controllers))"
	elif [ -f /sys/fs/cgroup/unified/cgroup.controllers ]; then
		ctl=$(cat /sys/fs/cgroup/unified/cgroup.controllers)
		echo "cgroup v1 hybrid (v1 controllers + a v2 tree at /sys/fs/cgroup/unified with ${ctl:+the controllers: }${ctl:-no controllers})"
	else
		echo "cgroup v1"
	fi
}

machine() {
	local cpu
	cpu=$(awk -F': *' '/^model name/ {print $2; exit}' /proc/cpuinfo)
	echo "* Date: $(date -u +'%Y-%m-%d %H:%M UTC'); the whole run took ${ELAPSED}s."
	echo "* Machine: $(nproc) vCPUs ($cpu), $(awk '/^MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo) RAM, kernel $(uname -r), $(. /etc/os-release && echo "$PRETTY_NAME"), $(cgroup_layout)."
	echo "* Load average when the run started: $LOAD0 (other sessions share this machine; see the notes on noise)."
	echo "* Versions: procview $(cd "$PV_REPO" && git describe --always --dirty 2>/dev/null), $(go version | awk '{print $3}'), runc $("$RUNC" --version | awk 'NR == 1 {print $3}'), LXCFS $(lxcfs --version 2>&1 | tr -d '"'), $(busybox 2>&1 | head -n1 | awk '{print $1, $2}'), reader built with $(gcc --version | head -n1)."
}

report() {
	local s
	cat <<EOF
# Benchmarks

Generated by \`make bench\` (\`hack/bench/run.sh\`, root) — do not edit by
hand; rerun instead. Benchmarks report figures; they never fail on a missed
goal. Every ratio compares two figures measured in the same run.

$(machine)

Rerun: \`sudo make bench\` (about $((ELAPSED / 60 + 1)) minutes on this machine; needs runc,
lxcfs, jq, gcc with static glibc, busybox-static, Go). \`BENCH_QUICK=1\` gives a
smoke run in a fraction of the time; \`BENCH_PARTS="1 4"\` picks parts;
\`BENCH_OUT=/tmp/b.md\` writes elsewhere. Everything runs below
\`/run/procview-bench\` (a private tmpfs), \`/var/tmp/procview-bench.*\`, a
private runc root and cgroups named \`procview-bench*\`; all of it is removed
at exit, as are the procviewd and lxcfs the run starts.

## Summary against the goals

EOF
	summary_table
	if want 1; then
		cat <<EOF

## 1. Read latency inside real containers

A static C reader (\`hack/bench/reader.c\`) runs in four identical busybox
runc containers (256 MiB, 0.5 CPU) and reads every view $LAT_N times
(LXCFS: $LAT_N_FUSE times) per repetition, $LAT_REPS repetitions alternating the
containers; the figures are medians of the repetitions, in µs per read.

* **procview**: a \`procview-runc\` container; the view is procview's tmpfs
  file bound on \`/proc/X\`, rewritten in place every second by procviewd.
* **tmpfs copy**: plain runc; a static copy of the same view files on a
  tmpfs, bound on the same \`/proc/X\` paths where runc allows it (vmstat and
  pressure/* are outside runc 1.1.5's allow-list, so those copies are read
  at \`/bench/X\`; for pressure/* the view's path also walks procfs's
  \`pressure\` directory and the copy's does not, which the ratio includes).
* **native procfs**: plain runc, the kernel's file (the host's figures).
* **LXCFS**: Debian's lxcfs started by the benchmark on a private mount
  point (default options), its files bound on \`/proc/X\` and on
  \`/sys/devices/system/cpu/online\`, as LXC and the LXCFS README do. LXCFS
  5.0.3 provides no vmstat or pressure files: n/a.

**open** = open + read to EOF + close (cat, most agents). Bytes are what one
read returns; views are padded to a fixed length, so they can be longer
than the native file.

$(lat_table open)

**seek** = one fd kept open, lseek(0) + one read (procps' \`free\`, \`top\`, \`vmstat\`).

$(lat_table seek)

EOF
	fi
	if want 2; then
		cat <<EOF
## 2. Refresh cost of procviewd

procviewd (1 s interval, \`refresh_max_interval\` $REFRESH_MAX, log level
info) refreshes N registered containers. Each round it probes every
container's usage counters (one \`pread\` each of memory, CPU and I/O usage
on kept descriptors) and refreshes fully (reads every cgroup file, renders,
writes what changed) only the containers whose counters moved, whose views
were read since the last write (an inotify watch), or whose last full
refresh is $REFRESH_MAX old. CPU is the daemon's cpuacct cgroup usage (every
thread, ns resolution) over a ${REFRESH_WIN} s window after the first rounds
(the utime+stime of the process, in 10 ms steps, beside it); RSS and open
fds are read at the end of the window. Loads, at the largest N:

* **all idle**: every container's task sleeps; nobody reads the views.
* **10 % change every second** / **all change every second**: those
  containers get a second task that maps and touches 256 KiB, or unmaps it,
  once a second (\`reader tick\`), so their memory and CPU usage move every
  second (fixtures: \`mkstate -tick\` rewrites the counters every second).
* **all idle, refresh_max_interval 10s**: what a shorter safety net costs.
* **every-round loop**: all idle, with \`refresh_max_interval\` = the
  interval, which refreshes every container fully every round (the loop
  before this one): the reference the adaptive loop is measured against.
  "Proportional" below means idle + share × (every-round − idle), all from
  this run; a row is marked ✔ within 1.2× of that.

Shapes:

* **live-hybrid**: N real cgroups on this host (memory, cpu, cpuacct,
  cpuset, blkio, pids and the v2 tree), each with the 256 MiB / 0.5 CPU
  limits and one sleeping task, registered with \`hack/bench/mkstate\` (the
  same \`publish.Create\` the hook calls). The daemon reads real cgroupfs,
  /proc and /sys.
* **fixture-v2 / fixture-hybrid**: N copies of the leaf cgroup of
  \`testdata/hosts/{v2,hybrid}-limit256m-quota0.5-io\` on tmpfs, each with a
  fake \`/proc/<pid>/stat\` for its task, the daemon's \`cgroup_root\` and
  \`proc_root\` pointing there. tmpfs files are cheaper to read than
  kernel-generated cgroup files, so these figures are a lower bound for a
  real v2 host.

The idle goal scales with N: 2 % of a core at 1000 containers is 20 µs per
container per second (0.2 % at 100).

$(refresh_table)

EOF
	fi
	if want 3; then
		local di dp dl li lp ll
		di=$(ind_pct idle 2) dp=$(ind_pct procview 2) dl=$(ind_pct lxcfs 2)
		li=$(ind_pct idle 3) lp=$(ind_pct procview 3) ll=$(ind_pct lxcfs 3)
		cat <<EOF
## 3. Cost independence from readers

$IND_N \`procview-runc\` containers, each also given the LXCFS mount at
\`/lxcfs\`. Three ${IND_WIN} s windows: all idle; every container running the
reader's tight open+read+close loop (at nice 19) on \`/proc/meminfo\` (the procview view);
every container looping on \`/lxcfs/proc/meminfo\`. CPU is each daemon's
cpuacct usage over the window, in % of one core; reads/s is the sum over
the containers (they share $(nproc) CPUs, so the loops saturate the machine).

| Window | procviewd % core | × idle | LXCFS % core | × idle | reads/s (all containers) |
|---|---|---|---|---|---|
| idle | $di | 1.00 | $li | 1.00 | – |
| $IND_N containers read the procview view | $dp | $(ratio "$dp" "$di") | $lp | $(ratio "$lp" "$li") | $(ind_field procview 4) |
| $IND_N containers read LXCFS | $dl | $(ratio "$dl" "$di") | $ll | $(ratio "$ll" "$li") | $(ind_field lxcfs 4) |

EOF
	fi
	if want 4; then
		local v
		cat <<EOF
## 4. Start overhead

\`runc run\` of a busybox bundle running \`true\` (create, start, exit,
delete; wall time), $START_RUNS rounds; each round runs every variant once on its
own pristine copy of the bundle, in an order that rotates every round,
after one unreported warm-up round; procviewd was already running. CPU is
the run's process tree (runtime, hooks, the container's init until it
joins its cgroup) from a cpuacct cgroup.

| Variant | runs (failed) | median ms | p90 ms | median CPU ms |
|---|---|---|---|---|
EOF
		for v in "${START_VARIANTS[@]}"; do
			echo "| $v | $(start_runs "$v") ($(start_fails "$v")) | $(fmt_num "$(start_med "$v")") | $(fmt_num "$(start_p90 "$v")") | $(fmt_num "$(start_med "$v" 5)") |"
		done
		local dw
		dw=$(start_diff procview-runc runc 4)
		cat <<EOF

Where the difference goes: medians over rounds of the difference between
two variants of the same round.

| Step | wall ms | CPU ms |
|---|---|---|
| runc runs two hooks at all (runc-noop − runc) | $(fmt_num "$(start_diff runc-noop runc 4)") | $(fmt_num "$(start_diff runc-noop runc 5)") |
| procview's hooks instead of no-op ones (runc-pvhooks − runc-noop) | $(fmt_num "$(start_diff runc-pvhooks runc-noop 4)") | $(fmt_num "$(start_diff runc-pvhooks runc-noop 5)") |
| the wrapper (procview-runc − runc-pvhooks) | $(fmt_num "$(start_diff procview-runc runc-pvhooks 4)") | $(fmt_num "$(start_diff procview-runc runc-pvhooks 5)") |
| **overhead (procview-runc − runc)** | **$(fmt_num "$dw")** (goal ≤ +15) $(mark "$dw" 15) | $(fmt_num "$(start_diff procview-runc runc 5)") |

The wrapper's pass-through (\`state\` of a running container, $START_RUNS each,
alternating): runc $(fmt_num "$(state_med runc)") ms, procview-runc $(fmt_num "$(state_med procview-runc)") ms (median).

Inside the hooks ($START_DEBUG_RUNS more procview-runc runs with the hooks at log
level debug; medians of what the hook logs, its own process start not
included): createRuntime took $(fmt_num "$(hook_field create-runtime took)" 2) ms, poststop $(fmt_num "$(hook_field poststop took)" 2) ms.

| createRuntime step | median ms |
|---|---|
EOF
		local f
		for f in $(grep -o 't_[a-z]*=' "$RES/start-hook.log" | sort -u | tr -d =); do
			echo "| ${f#t_} | $(fmt_num "$(hook_field create-runtime "$f")" 2) |"
		done
		echo
	fi
	if want 5; then
		cat <<EOF
## 5. Staleness

Inside the procview container of part 1, the reader maps and touches
$STALE_MIB MiB (charged to the container's memory cgroup), then polls
\`/proc/meminfo\` every millisecond until MemFree has dropped by half of it;
then it unmaps and polls until MemFree recovers. Each allocation and each
release is a trial ($STALE_TRIALS in all), each after a random 0–1000 ms pause
so trials fall at every phase of the refresh tick (a uniform phase gives an
expected p50 of half an interval). Default interval: 1 s, the anchor. The
same trials against LXCFS (computed on every read; $STALE_TRIALS_FUSE trials) show
the floor: how fast the cgroup's own counters move. The reader polls the
view, so this is the staleness of a container that reads its views (and
whose counters move); a container that does not read is covered by
\`test/bats/idle.bats\` (a 40 MiB change shows within 2 s in the first read).

| Reader | trials | p50 ms | p90 ms | max ms | p50 ÷ interval |
|---|---|---|---|---|---|
EOF
		for s in pv lxcfs; do
			read -r p50 p90 mx cnt <<<"$(stale_stats "$RES/stale_$s.txt" all)"
			echo "| $([ "$s" = pv ] && echo "procview (1 s refresh)" || echo LXCFS) | $cnt | $(fmt_num "$p50") | $(fmt_num "$p90") | $(fmt_num "$mx") | $(ratio "$p50" 1000) |"
		done
		echo
	fi
	if [ -s "$RES/gobench.txt" ]; then
		cat <<EOF
## Rendering and sampling (go test -bench)

\`go test -run '^\$' -bench . -benchmem\` over every package with benchmarks,
run by \`make bench\` after the parts above (anchor: \`RenderAll\`, the
pure rendering of one container's twelve views).

$(gobench_table)

* \`RenderAll\`: every view of one container rendered from an Input (pure).
* \`RenderAndLayoutAll\`: the same plus the fixed-length layout of every view.
* \`ReadRender/<fixture>\`: one full refresh of one container without the
  writes: read its cgroup files from a fixture tree, derive, render every view.
* \`RefreshRound/<fixture>/n=N/full\`: one daemon round over N fixture
  containers on tmpfs, every container refreshed fully, writes included
  (the every-round loop); \`.../idle\`: the adaptive loop's round when no
  counter moved and nothing was read (probes only). In-process
  counterparts of part 2's fixture rows.
* \`ReadLive/Probe\`: one probe of a live cgroup's usage counters, what an
  idle container costs per round.
* The other rows are parser and layout micro-benchmarks; see their source.

EOF
	fi
	analysis
}

summary_table() {
	echo "| Goal | Measured (this run) | Met |"
	echo "|---|---|---|"
	if want 1; then
		local s
		for s in open seek; do
			local rt rn rl
			rt=$(ratio_med tmpfs "$s") rn=$(ratio_med native "$s") rl=$(ratio_med lxcfs "$s")
			echo "| read ($s): view ≤ 1.2 × tmpfs copy | median over views $(fmt_num "$rt" 2)×; $(goal_count tmpfs "$s" 1.2) views within | $(mark "$rt" 1.2) |"
			echo "| read ($s): view ≤ 0.3 × native procfs | median $(fmt_num "$rn" 2)×; $(goal_count native "$s" 0.3) views within | $(mark "$rn" 0.3) |"
			echo "| read ($s): view ≤ 0.01 × LXCFS | median $(fmt_num "$rl" 4)×; $(goal_count lxcfs "$s" 0.01) views within | $(mark "$rl" 0.01) |"
		done
	fi
	if want 2; then
		local top sh load p hwm
		top=${REFRESH_NS##* }
		for sh in live-hybrid fixture-v2 fixture-hybrid; do
			[ -n "$(refresh_field "$sh-$top-idle" 3)" ] || continue
			p=$(core_pct "$sh-$top-idle")
			echo "| refresh $top containers ($sh), all idle, at 1 Hz ≤ $(idle_goal "$top") % of a core (2 % per 1000) | $p % ($(per_ctr_us "$sh-$top-idle") µs per container per s; every-round loop: $(core_pct "$sh-$top-everyround") %) | $(mark "$p" "$(idle_goal "$top")") |"
			for load in 10pct all; do
				[ -n "$(refresh_field "$sh-$top-$load" 3)" ] || continue
				p=$(core_pct "$sh-$top-$load")
				local x
				x=$(expected_pct "$sh" "$top" "$load")
				echo "| refresh $top containers ($sh), $(load_label "$load"): proportional to the share | $p % (proportional: $x %, × $(ratio "$p" "$x")) | $(mark "$(ratio "$p" "$x")" 1.2) |"
			done
			hwm=$(for load in $REFRESH_LOADS; do refresh_field "$sh-$top-$load" 8; done | sort -n | tail -n1)
			echo "| procviewd RSS at $top containers ($sh) ≤ 50 MB | $(mb "$hwm") MB peak (any load) | $(mark "$(mb "$hwm")" 50) |"
		done
	fi
	if want 3; then
		local dr
		dr=$(ratio "$(ind_field procview 2)" "$(ind_field idle 2)")
		echo "| procviewd CPU independent of readers ($IND_N containers) | procviewd $(ind_pct idle 2) % of a core idle, $(ind_pct procview 2) % while read (× $dr); LXCFS $(ind_pct idle 3) % idle, $(ind_pct lxcfs 3) % while read | $(awk -v r="$dr" 'BEGIN {print (r != "n/a" && r <= 1.5) ? "✔" : "✘"}') |"
	fi
	if want 4; then
		local d
		d=$(start_diff procview-runc runc 4)
		echo "| start overhead ≤ +15 ms | +$(fmt_num "$d") ms (median of $START_RUNS paired rounds) | $(mark "$d" 15) |"
	fi
	if want 5; then
		read -r p50 p90 mx cnt <<<"$(stale_stats "$RES/stale_pv.txt" all)"
		echo "| staleness: p90 ≤ one interval (1000 ms) | p50 $(fmt_num "$p50") ms, p90 $(fmt_num "$p90") ms, max $(fmt_num "$mx") ms | $(mark "$p90" 1000) |"
	fi
}

print_table() {
	echo
	summary_table | sed -e 's/^| //' -e 's/ |$//' -e 's/ | /\t/g' | grep -v '^|-' | column -t -s $'\t'
	echo
}

# strace_rounds: refresh rounds in the strace capture (one open of the
# state root's containers directory per round).
strace_rounds() { grep -c 'openat(.*/state/containers"' "$RES/strace.txt"; }
strace_n() { refresh_field "$STRACE_RUN" 3; }

# strace_per: per container per round, "count name" for every syscall.
strace_per() {
	awk -v r="$(strace_rounds)" -v n="$(strace_n)" '
		$2 ~ /^[a-z_0-9]+\(/ { sub(/\(.*/, "", $2); c[$2]++ }
		END { if (r > 0) for (k in c) printf "%.1f %s\n", c[k] / r / n, k }' "$RES/strace.txt" | sort -rn
}

strace_table() {
	local total
	total=$(strace_per | awk '{s += $1} END {printf "%.0f", s}')
	echo "| syscall | per container per round | share |"
	echo "|---|---|---|"
	strace_per | head -n 10 | while read -r c name; do
		echo "| $name | $c | $(awk -v c="$c" -v t="$total" 'BEGIN {printf "%.0f %%", 100 * c / t}') |"
	done
	echo "| **all** | **$total** | |"
}

# strace_opens: files opened per container per round (any dirfd),
# numbers folded.
strace_opens() {
	grep -o 'openat([^,]*, "[^"]*"' "$RES/strace.txt" | sed -e 's/.*"\(.*\)"/\1/' \
		-e 's#/proc/[0-9]*/#/proc/PID/#' -e 's#/c[0-9]*/#/cN/#' -e 's#bench-[0-9][0-9]*#bench-N#g' |
		sort | uniq -c | sort -rn |
		awk -v r="$(strace_rounds)" -v n="$(strace_n)" '{printf "%.2f %s\n", $1 / r / n, $2}'
}

# strace_count REGEX: matching lines per container per round.
strace_count() {
	awk -v r="$(strace_rounds)" -v n="$(strace_n)" -v re="$1" '$0 ~ re {c++} END {if (r > 0) printf "%.1f\n", c / r / n; else print "na"}' "$RES/strace.txt"
}

# gb NAME-REGEX: ns/op of the first Go benchmark matching, or "na".
gb() { awk -v re="$1" '$1 ~ re && $4 == "ns/op" {print $3; f = 1; exit} END {if (!f) print "na"}' "$RES/gobench.txt" 2>/dev/null || echo na; }

analysis() {
	echo "## Where goals are missed, and why"
	echo
	if want 2 && [ -n "$(refresh_field "live-hybrid-${REFRESH_NS##* }-idle" 3)" ]; then
		local top p e pc
		top=${REFRESH_NS##* }
		p=$(core_pct "live-hybrid-$top-idle") e=$(core_pct "live-hybrid-$top-everyround") pc=$(per_ctr_us "live-hybrid-$top-idle")
		cat <<EOF
### Refresh cost

At $top live containers, all idle, procviewd used **$p % of a core**
($pc µs per container per second; goal $(idle_goal "$top") %, $(mark "$p" "$(idle_goal "$top")")); the every-round
loop used $e % in the same run ($(ratio "$e" "$p" 1)× as much). With 10 % of the
containers changing every second it used $(core_pct "live-hybrid-$top-10pct") % (proportional:
$(expected_pct live-hybrid "$top" 10pct) %), with all changing $(core_pct "live-hybrid-$top-all") % (proportional:
$(expected_pct live-hybrid "$top" all) %). Fixture v2: idle $(core_pct "fixture-v2-$top-idle") %, every round
$(core_pct "fixture-v2-$top-everyround") %; fixture hybrid: idle $(core_pct "fixture-hybrid-$top-idle") %, every round $(core_pct "fixture-hybrid-$top-everyround") %.
With \`refresh_max_interval\` at 10 s instead of $REFRESH_MAX, the idle live
containers cost $(core_pct "live-hybrid-$top-idle10") %.
An idle container costs its probes every round and one full refresh per
\`refresh_max_interval\` ($REFRESH_MAX); a changing one costs a full refresh
every round, as every container did in the every-round loop.
EOF
	fi
	if [ -s "$RES/strace.txt" ]; then
		cat <<EOF

Where an idle round goes: every syscall of procviewd over $(strace_rounds) rounds of
\`$STRACE_RUN\` (strace attached after the CPU window):

$(strace_table)

Files opened (not kept) per container per round, top 8:

| per container per round | path |
|---|---|
$(strace_opens | head -n 8 | awk '{print "| " $1 " | `" $2 "` |"}')

* Per container and round: $(strace_count 'pread64\\(') \`pread64\` (the probes of
  every container, and the full reads of those due), $(strace_count 'openat\\(') \`openat\`,
  $(strace_count 'pwrite64\\(') \`pwrite64\` of changed views, $(strace_count 'inotify_add_watch\\(')
  \`inotify_add_watch\` (re-arming the read watch after a full refresh).
  Each cgroupfs/procfs read makes the kernel generate the file, so
  syscalls cost microseconds, not nanoseconds.
EOF
	fi
	if want 2 && [ -s "$RES/gobench.txt" ]; then
		cat <<EOF
* The Go micro-benchmarks below split the pieces (same run): a probe of
  one live cgroup (\`ReadLive/Probe\`) $(us "$(gb '^BenchmarkReadLive/Probe')" 1) µs against a read through
  the kept reader (\`ReadLive/Reader\`) $(us "$(gb '^BenchmarkReadLive/Reader')" 1) µs; one daemon round over
  1000 fixture-v2 containers costs $(us "$(gb '^BenchmarkRefreshRound/v2.*/n=1000/idle')" 0) µs when nothing moved
  and $(us "$(gb '^BenchmarkRefreshRound/v2.*/n=1000/full')" 0) µs when every container is refreshed fully.
EOF
	fi
	if want 2 && [ -n "$(refresh_field "live-hybrid-${REFRESH_NS##* }-idle" 3)" ]; then
		local top=${REFRESH_NS##* } hl
		hl=$(ulimit -Hn)
		cat <<EOF
* Memory: peak RSS $(mb "$(refresh_field "live-hybrid-$top-idle" 8)") MB at $top live idle containers,
  $(mb "$(refresh_field "live-hybrid-$top-all" 8)") MB with all changing; $(awk -v a="$(refresh_field "live-hybrid-$top-idle" 9)" -v n="$top" 'BEGIN {printf "%.0f", a / n}') open fds per container
  (views, acct.json, kept cgroup files).$(awk -v h="$hl" -v w="$BENCH_NOFILE" 'BEGIN {if (h != "unlimited" && h + 0 < w + 0) printf " The benchmark asks for RLIMIT_NOFILE %s; this machine'"'"'s hard limit is %s, so at large N the daemon keeps fewer cgroup files open and re-opens the rest when it reads them.", w, h}')

EOF
	fi
	if want 1; then
		cat <<EOF
### Read latency

A view is a tmpfs file bound on \`/proc/X\`: a read is a tmpfs read, the
same code path as the tmpfs copy, with no daemon in the path, so ratios to
the tmpfs copy are expected at 1.0 (this run: median $(fmt_num "$(ratio_med tmpfs open)" 2)× open,
$(fmt_num "$(ratio_med tmpfs seek)" 2)× seek). Per read, a view cost $(lat_range pv open) µs (open) and
$(lat_range pv seek) µs (seek) in this run. One preemption of the reader by another
process on this shared 2-vCPU machine moves a median by a few hundred
ns: a single view above 1.2× in one style and one run is noise unless it
repeats. For pressure/* the comparison is also not like for like: the view
is reached through procfs's \`/proc/pressure\` directory, the copy
through a tmpfs directory (runc does not allow the copy on
\`/proc/pressure/X\`). Against native procfs the view wins most on files
the kernel generates expensively (cpuinfo, vmstat, meminfo, stat,
diskstats) and little on the tiny ones (uptime, loadavg, swaps,
pressure/*, online: 2–170 bytes), where the fixed cost of open/read/close
dominates both; the 0.3× goal cannot hold there, whatever procview does.
Views are padded to a fixed length (same-length rewrites), so some are
longer than the kernel's file; an empty diskstats view means the container
has done no block I/O yet.

Against LXCFS a view read is one to two orders of magnitude faster (a FUSE
round trip, and LXCFS generates the content on each read). The 0.01× goal
assumes the ratio measured when the brief was written (tmpfs 1.2 µs,
LXCFS 240–340 µs). A view cannot be read faster than the tmpfs copy, so
the tmpfs copy ÷ LXCFS ratio of the same run is the best any file-based
view can reach: this run it was $(fmt_num "$(pair_med tmpfs lxcfs open)" 4)× (open) and
$(fmt_num "$(pair_med tmpfs lxcfs seek)" 4)× (seek), against procview's $(fmt_num "$(ratio_med lxcfs open)" 4)× and
$(fmt_num "$(ratio_med lxcfs seek)" 4)×. When the tmpfs copy itself misses the goal, the
machine's system calls are slow relative to its FUSE round trip (this
run: open+read+close of a tmpfs file $(lat_range tmpfs open) µs), and the miss is the
machine's, not procview's.

EOF
	fi
	if want 4; then
		cat <<EOF
### Start overhead

What each step holds: runc runs a hook by fork+exec and waits for it,
with the container state on its stdin. procview's createRuntime hook reads
config.json, finds the container's cgroups, samples them and the host,
renders every view, creates the view files, binds them into the
container's mount namespace and checks that procviewd runs; its poststop
hook removes the container's state. The wrapper reads and rewrites
config.json and asks the runtime's features (cached in the state root),
then execs the runtime. The step table above is the measurement; the
hook's own laps do not include its process start (exec, Go runtime,
package initialisation, reading its config), which is the rest of the
"procview's hooks" row. The spread (p90) comes from the shared machine.

EOF
	fi
	if want 5; then
		cat <<EOF
### Staleness

A change in a container shows within one interval plus one round, read or
not: its counters move, so the next round's probe refreshes it. A change
lands at a uniformly random phase of the 1 s tick, so the expected p50 is
about 500 ms and the maximum about 1000 ms plus the round. LXCFS computes on
each read and shows the floor (how fast the cgroup's own counters move).
A shorter \`refresh_interval\` trades CPU (part 2, linear in 1/interval)
for freshness.

EOF
	fi
	cat <<EOF
## Notes on noise

Other sessions ran builds and test suites on this 2-vCPU machine during
the run (load average at start: $LOAD0). Latency figures are medians of
interleaved repetitions and CPU figures are per-cgroup CPU time (not wall
time), which limits the damage, but single figures can move by tens of
per cent between runs; ratios measured in the same run are the robust
part.
EOF
}
