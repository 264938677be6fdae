# shellcheck shell=bash disable=SC2034,SC2154
# sysinfo.sh: the sysinfo part of hack/bench/run.sh (BENCH_PARTS=sysinfo),
# sourced by it: sysinfo(2) latency in a container, native (no notify
# rule) vs answered by procview-agent (p50/p99), and the agent's CPU while
# a container calls sysinfo 10 000 times a second. Writes $RES/sysinfo.tsv
# and $RES/sysinfo.md (appended to the report).

CG_AGENT=procview-bench-agent
SYSINFO_RATE=10000

part_sysinfo() {
	local n=${SYSINFO_N:-20000} win=${SYSINFO_WIN:-10}
	[ "$QUICK" = 1 ] && n=2000 win=4
	log "part sysinfo: latency N=$n, agent CPU at $SYSINFO_RATE calls/s for ${win}s"
	[ -x "$PV_BIN/procview-agent" ] || die "missing $PV_BIN/procview-agent (run make build)"
	local bin=$PV_WORK/sysinfo-bench
	gcc -O2 -static -Wall -o "$bin" "$HERE/sysinfo-bench.c"
	[ -n "$DAEMON_PID" ] || start_daemon
	# The agent in its own cpuacct cgroup; procview-runc finds its socket
	# accepting and uses it.
	local agent
	agent=$(start_in_cgroup "$CG_AGENT" "$PV_WORK/agent.out" "$PV_BIN/procview-agent" --config "$PROCVIEW_CONFIG")
	wait_until 5000 test -S "$PV_STATE/seccomp.sock" || die "procview-agent did not start"
	local kind
	for kind in native notified; do
		new_bundle busybox 2>/dev/null
		install -m 0755 "$bin" "$BUNDLE/rootfs/bin/sysinfo-bench"
		# native: procview's views, but sysinfo left to the kernel.
		[ "$kind" = native ] && set_annotation io.procview.syscalls ""
		pv_start >/dev/null
		wait_views || die "no views in the $kind container"
		eval "SI_$kind=\$CID"
	done
	local r out
	: >"$RES/sysinfo.tsv"
	for r in 1 2 3; do
		for kind in native notified; do
			eval "out=\$(xc \"\$SI_$kind\" sysinfo-bench lat $n)"
			echo "lat $kind $out" >>"$RES/sysinfo.tsv"
		done
	done
	local c0 c1
	c0=$(cpu_ns "$CG_AGENT")
	out=$(xc "$SI_notified" sysinfo-bench rate "$SYSINFO_RATE" "$win")
	c1=$(cpu_ns "$CG_AGENT")
	echo "rate $out $((c1 - c0))" >>"$RES/sysinfo.tsv"
	log "part sysinfo: $(tr '\n' ';' <"$RES/sysinfo.tsv")"
	pv_cleanup_containers
	stop_pid "$agent"
	# Its worker (a child; exits once its containers are gone and the holder is).
	bench_kill_cgroup "/sys/fs/cgroup/cpuacct/$CG_AGENT"
	rmdir "/sys/fs/cgroup/cpuacct/$CG_AGENT" 2>/dev/null || true
	sysinfo_report >"$RES/sysinfo.md"
}

# sysinfo_lat KIND FIELD(3=p50 4=p99 5=max): median over the reps, in µs.
sysinfo_lat() {
	awk -v k="$1" -v f="$2" '$1 == "lat" && $2 == k {print $f}' "$RES/sysinfo.tsv" | median |
		awk '{printf "%.1f\n", $1 / 1000}'
}

sysinfo_report() {
	local calls failed secs cpu
	read -r _ calls failed secs cpu < <(grep '^rate ' "$RES/sysinfo.tsv")
	cat <<MD

## sysinfo(2): native vs answered by procview-agent

What this run measured (\`hack/bench/sysinfo.sh\`): a static program in a
256 MiB busybox container timing each \`sysinfo(2)\` call, three runs of the
whole series per container, median of the three shown. *native*: a
procview container whose sysinfo is left to the kernel (annotation
\`io.procview.syscalls=""\`); *notified*: the default, answered by
procview-agent through seccomp user notification.

| | p50 µs | p99 µs | max µs |
|---|---|---|---|
| native | $(sysinfo_lat native 3) | $(sysinfo_lat native 4) | $(sysinfo_lat native 5) |
| notified | $(sysinfo_lat notified 3) | $(sysinfo_lat notified 4) | $(sysinfo_lat notified 5) |

Agent CPU while the container called sysinfo at $SYSINFO_RATE calls/s
(paced per ms) for ${secs} s: $calls calls, $failed failed, procview-agent
(holder + worker, one cpuacct cgroup) used $(awk -v c="$cpu" -v s="$secs" 'BEGIN {printf "%.1f", 100 * c / 1e9 / s}') % of one core
($(awk -v c="$cpu" -v n="$calls" 'BEGIN {if (n > 0) printf "%.1f", c / n / 1000; else print "n/a"}') µs per call). This machine had other work running during the
run (load $(cut -d' ' -f1-3 /proc/loadavg) at the end): CPU figures are noisy.
MD
}
