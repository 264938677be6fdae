#!/bin/bash
# fuzz.sh: run every Go fuzz target of the module, one after the other, for
# $FUZZTIME each (default 1000000x: one million executions), and print
# executions and crashes per target. Exit status 1 when any target failed.
# A failing input is written by go test to the package's
# testdata/fuzz/<Target>/ (commit it with the fix).
#
#   hack/fuzz.sh                      # every target, 1M executions
#   FUZZTIME=30s hack/fuzz.sh         # every target, 30 s
#   hack/fuzz.sh ./internal/spec      # the targets of some packages
#   FUZZ_SUMMARY=out.tsv hack/fuzz.sh # also write the table to out.tsv
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
FUZZTIME=${FUZZTIME:-1000000x}
GO=${GO:-go}
export CGO_ENABLED=${CGO_ENABLED:-0}

pkgs=("$@")
[ ${#pkgs[@]} -gt 0 ] || pkgs=(./...)

# Packages and targets: every "func FuzzX(" in a _test.go file.
mapfile -t dirs < <($GO list -f '{{.Dir}}' "${pkgs[@]}")
summary=$(mktemp)
trap 'rm -f "$summary"' EXIT
printf '%-44s %-26s %12s %8s\n' package target executions crashes
fail=0
for dir in "${dirs[@]}"; do
	targets=$(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/^func //' | sort -u)
	[ -n "$targets" ] || continue
	rel=./${dir#"$PWD"/}
	for t in $targets; do
		log=$(mktemp)
		# -run='^$': no unit tests, only the fuzz target (seeds run first).
		(cd "$dir" && $GO test -run='^$' -fuzz="^${t}\$" -fuzztime="$FUZZTIME" -parallel="${FUZZ_PARALLEL:-$(nproc)}" .) >"$log" 2>&1
		rc=$?
		# The last progress line holds the total: "fuzz: elapsed: 21s, execs: 1000000 (...)".
		execs=$(grep -o 'execs: [0-9]*' "$log" | tail -n1 | awk '{print $2}')
		crashes=0
		if [ $rc -ne 0 ]; then
			crashes=$(grep -c -- '--- FAIL' "$log")
			[ "$crashes" -gt 0 ] || crashes=1
			fail=1
			echo "---- $rel $t failed:" >&2
			tail -n 30 "$log" >&2
		fi
		printf '%-44s %-26s %12s %8s\n' "$rel" "$t" "${execs:-0}" "$crashes"
		printf '%s\t%s\t%s\t%s\n' "$rel" "$t" "${execs:-0}" "$crashes" >>"$summary"
		rm -f "$log"
	done
done
awk -F'\t' '{n++; e+=$3; c+=$4} END {printf "%d targets, %d executions, %d crashes\n", n, e, c}' "$summary"
[ -z "${FUZZ_SUMMARY:-}" ] || cp "$summary" "$FUZZ_SUMMARY"
exit $fail
