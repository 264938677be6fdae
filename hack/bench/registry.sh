# shellcheck shell=bash disable=SC2154 # sourced by run.sh: RES, B, QUICK, CG_REFRESH, PV_* come from there
# registry.sh: part 6 of make bench (sourced by run.sh): procviewd's
# registry and metrics at REG_N containers it does not manage (docker-like
# cgroups /procview-bench-refresh/reg/<64 hex>, one sleeping task each):
# discovery cost (procview_discovery_duration_seconds, one cgroup walk),
# scrape latency of /metrics, and the daemon's CPU over a window scraped
# every 15 s versus the same window unscraped.

REG_PORT=${BENCH_REG_PORT:-19869}
REG_SCRAPE=15

# reg_metric NAME [LABELS]: one value from a scrape.
reg_metric() { curl -sf "127.0.0.1:$REG_PORT/metrics" | awk -v n="$1${2:-}" '$1 == n {print $2}'; }

# reg_window NAME SCRAPE(0|1): the daemon's CPU over REG_WIN s, scraping
# every REG_SCRAPE s or not; scrapes append "latency_s bytes discovery_s".
reg_window() {
	local name=$1 scrape=$2 c0 c1 t0 t1 next
	c0=$(cpu_ns "$REG_CG") t0=$(date +%s%N)
	next=0
	while [ $(($(date +%s%N) - t0)) -lt $((REG_WIN * 1000000000)) ]; do
		if [ "$scrape" = 1 ] && [ $(($(date +%s%N) - t0)) -ge "$next" ]; then
			curl -sf -o "$PV_WORK/reg-scrape.txt" -w '%{time_total} %{size_download}' "127.0.0.1:$REG_PORT/metrics" >>"$RES/registry-scrapes.tsv"
			echo " $(awk '$1 == "procview_discovery_duration_seconds" {print $2}' "$PV_WORK/reg-scrape.txt")" >>"$RES/registry-scrapes.tsv"
			next=$((next + REG_SCRAPE * 1000000000))
		fi
		sleep 0.2
	done
	c1=$(cpu_ns "$REG_CG") t1=$(date +%s%N)
	echo "$name $REG_N $((c1 - c0)) $((t1 - t0))" >>"$RES/registry.tsv"
	log "part 6: $name: $(((c1 - c0) / 1000000)) ms CPU in $(((t1 - t0) / 1000000)) ms"
}

part6() {
	if [ "$QUICK" = 1 ]; then REG_N=100 REG_WIN=30; else REG_N=1000 REG_WIN=60; fi
	log "part 6: registry and metrics, $REG_N unmanaged containers, ${REG_WIN}s windows"
	: >"$RES/registry.tsv"
	: >"$RES/registry-scrapes.tsv"
	local i h id dirs dir=$B/registry pid
	mkdir -p "$dir/state"
	cat >"$dir/config.toml" <<CFG
state_root = "$dir/state"
refresh_interval = "1s"
log_level = "info"
log_file = "$PV_WORK/registry.log"
metrics_address = "127.0.0.1:$REG_PORT"
CFG
	SLEEPERS=()
	for i in $(seq "$REG_N"); do
		id=$(printf '%064x' "$i")
		dirs=()
		for h in memory cpu cpuacct blkio pids; do
			dirs+=("$(cg_make "$h" "$CG_REFRESH/reg/$id")")
		done
		sh -c 'for d; do echo $$ >"$d/cgroup.procs"; done; exec sleep 100000' _ "${dirs[@]}" &
		SLEEPERS+=($!)
		disown $!
	done
	sleep 0.5
	REG_CG=$CG_REFRESH-dreg
	pid=$(start_in_cgroup "$REG_CG" "$PV_WORK/registry.out" "$PV_DAEMON" --config "$dir/config.toml")
	wait_until 60000 eval '[ "$(reg_metric procview_containers "{managed=\"false\"}")" -ge '"$REG_N"' ]' ||
		log "part 6: procviewd found only $(reg_metric procview_containers '{managed="false"}') of $REG_N"
	sleep 2
	reg_window unscraped 0
	reg_window scraped 1
	echo "rss_kb $(rss_kb "$pid")" >>"$RES/registry.tsv"
	stop_pid "$pid"
	kill -KILL "${SLEEPERS[@]}" 2>/dev/null || true
	for i in "${SLEEPERS[@]}"; do wait_until 5000 pid_gone "$i" || true; done
	SLEEPERS=()
	for h in memory cpu cpuacct blkio pids; do
		find "/sys/fs/cgroup/$h/$CG_REFRESH" -depth -type d -exec rmdir {} \; 2>/dev/null || true
	done
	rmdir "/sys/fs/cgroup/cpuacct/$REG_CG" 2>/dev/null || true
	rm -rf "$dir"
}

# registry_report: the part 6 section of the report (markdown).
registry_report() {
	[ -s "$RES/registry.tsv" ] || return 0
	local cu cs wu ws lat p50 mx size disc
	cu=$(awk '$1 == "unscraped" {print $3}' "$RES/registry.tsv") wu=$(awk '$1 == "unscraped" {print $4}' "$RES/registry.tsv")
	cs=$(awk '$1 == "scraped" {print $3}' "$RES/registry.tsv") ws=$(awk '$1 == "scraped" {print $4}' "$RES/registry.tsv")
	lat=$(awk '{print $1 * 1000}' "$RES/registry-scrapes.tsv")
	p50=$(median <<<"$lat")
	mx=$(sort -n <<<"$lat" | tail -n1)
	size=$(awk '{s += $2} END {if (NR) printf "%d", s / NR / 1024}' "$RES/registry-scrapes.tsv")
	disc=$(awk '{print $3 * 1000}' "$RES/registry-scrapes.tsv" | median)
	cat <<MD

## Registry and metrics (part 6)

procviewd with $REG_N containers it does not manage (docker-like cgroups
\`/procview-bench-refresh/reg/<64 hex>\` in memory, cpu, cpuacct, blkio and pids,
one sleeping task each; no managed container), 1 s refresh, the registry
reading each discovered cgroup every round and walking the memory hierarchy
every 5 rounds. Two ${REG_WIN} s windows: unscraped, then scraped every ${REG_SCRAPE} s
with curl. Measured on the shared 2-core machine while other work ran:
CPU figures are noisy.

| | value |
|---|---|
| daemon CPU, unscraped | $(awk -v c="$cu" -v w="$wu" 'BEGIN {printf "%.2f %% of a core", 100 * c / w}') |
| daemon CPU, scraped every ${REG_SCRAPE} s | $(awk -v c="$cs" -v w="$ws" 'BEGIN {printf "%.2f %% of a core", 100 * c / w}') |
| scrape latency (curl time_total), median / max of $(wc -l <"$RES/registry-scrapes.tsv") | $(fmt_num "$p50") ms / $(fmt_num "$mx") ms |
| scrape size | $size KiB |
| discovery (one walk of the memory hierarchy, median of the scrapes' \`procview_discovery_duration_seconds\`) | $(fmt_num "$disc") ms |
| daemon RSS after the windows | $(awk '$1 == "rss_kb" {printf "%.1f MB", $2 / 1024}' "$RES/registry.tsv") |

A scrape formats the last snapshot (const metrics) and reads no cgroup; the
per-round cost of unmanaged containers is one \`cgroupstats.Reader\` read
each, the same reader the views use.
MD
}
