#!/bin/bash
# run.sh: the long reliability suite (make reliability; root).
#
#   1-4, 6: test/reliability/reliability.bats - torn reads (10M), daemon
#           crash (20 containers), fail-open matrix, hostile-input matrix,
#           churn (200 containers, 10 at a time); hardening (issue 15,
#           test/reliability/hardening.bash)
#   5:      hack/fuzz.sh - every fuzz target, 1M executions each
#
# Figures go to $REL_OUT/results.txt ("key value" lines) and a markdown
# summary to $REL_OUT/summary.md (default REL_OUT=/var/tmp/procview-reliability);
# docs/reliability.md quotes them. Sizes: REL_READS, REL_CRASH_CONTAINERS,
# REL_CRASH_KILLS, REL_CHURN, REL_CHURN_PARALLEL, FUZZTIME; REL_SKIP_FUZZ=1
# or REL_SKIP_BATS=1 skip a half.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
[ "$(id -u)" -eq 0 ] || { echo "run.sh: needs root" >&2; exit 1; }
REL_OUT=${REL_OUT:-/var/tmp/procview-reliability}
mkdir -p "$REL_OUT"
export REL_RESULTS=$REL_OUT/results.txt
: >"$REL_RESULTS"
rc=0
start=$(date -u +%FT%TZ)

if [ -z "${REL_SKIP_BATS:-}" ]; then
	bats --print-output-on-failure --timing test/reliability/reliability.bats 2>&1 | tee "$REL_OUT/bats.log"
	[ "${PIPESTATUS[0]}" -eq 0 ] || rc=1
fi
if [ -z "${REL_SKIP_FUZZ:-}" ]; then
	FUZZ_SUMMARY=$REL_OUT/fuzz.tsv hack/fuzz.sh 2>&1 | tee "$REL_OUT/fuzz.log" || rc=1
	awk -F'\t' '{printf "fuzz.%s.%s %s/%s\n", $1, $2, $3, $4; n++; e += $3; c += $4}
		END {printf "fuzz.targets %d\nfuzz.executions %d\nfuzz.crashes %d\n", n, e, c}' \
		"$REL_OUT/fuzz.tsv" >>"$REL_RESULTS"
fi

get() { awk -v k="$1" '$1 == k {$1 = ""; sub(/^ /, ""); print; exit}' "$REL_RESULTS"; }
{
	echo "# procview reliability run $start ($(uname -r), $(runc --version | head -n1), $(nproc) CPUs)"
	echo
	echo "| Property | Tried | Bad |"
	echo "|---|---|---|"
	echo "| Torn reads ($(get torn.readers) readers, $(get torn.files) views, 10 ms refresh) | $(get torn.reads) reads | $(get torn.bad) ($(get torn.detail)) |"
	echo "| Daemon crash ($(get crash.containers) containers, $(get crash.kills) SIGKILLs) | $(get crash.outage_reads) reads | $(get crash.failed_reads) failed; re-adoption worst $(get crash.worst_readopt_ms) ms, over 2 s: $(get crash.readopt_over_2s); daemons after 8 concurrent starts: $(get crash.daemons_after_8_concurrent_starts) |"
	echo "| Fail-open / closed | $(get failopen.cases) cases | $(get failopen.failed) failed; open cases without the error in runc's JSON log: $(get failopen.open_cases_without_error_in_runc_json_log) |"
	echo "| Hostile input | $(get hostile.cases) cases | $(get hostile.escaped) escaped, $(get hostile.crashed) crashed/hung |"
	echo "| Fuzzing ($(get fuzz.targets) targets) | $(get fuzz.executions) executions | $(get fuzz.crashes) crashes |"
	echo "| Churn ($(get churn.parallel) at a time) | $(get churn.containers) containers | $(get churn.failures) failures; leftovers: state $(get churn.leftover_state_dirs), mounts $(get churn.leftover_mounts), registrations $(get churn.leftover_registrations); daemon fds $(get churn.daemon_fds), RSS kB $(get churn.daemon_rss_kb) |"
	echo "| Hardening: rshared /sys ($(get hardening.propagation.containers) containers) | parent's mounts, cpu/online | $(get hardening.propagation.leaked) changed, $(get hardening.propagation.unlogged) without the warning in both logs |"
	echo "| Hardening: same-id re-creation within a round | $(get hardening.same_id.restarts) | $(get hardening.same_id.frozen) frozen, $(get hardening.same_id.state_lost) lost their state |"
	echo "| Hardening: caller's fds | $(get hardening.fds.starts) daemon starts | $(get hardening.fds.leaked) leaked into procviewd |"
	echo "| Hardening: ambiguous config.json keys | $(get hardening.dupkeys.cases) documents | $(get hardening.dupkeys.bad) edited or unlogged |"
	echo "| Hardening: $(get hardening.threads.threads) threads next to a container | $(get hardening.threads.changes) changes | $(get hardening.threads.late) over $(get hardening.threads.bound_ms) ms (worst $(get hardening.threads.worst_ms) ms, without the threads $(get hardening.threads.control_worst_ms) ms) |"
	echo
	echo "Per case:"
	echo
	grep -E '^(hostile|failopen)\.' "$REL_RESULTS" | sed 's/^/    /'
} >"$REL_OUT/summary.md"
cat "$REL_OUT/summary.md"
exit $rc
