#!/usr/bin/env bats
# Wrapper transparency: bin/procview-runc must behave exactly like runc for
# every subcommand and global flag. Each row runs once through runc and once
# through the wrapper, in the same directory against the same runc root and
# container, and compares exit code and stdout. stderr is shown on mismatch
# but not compared (the wrapper may log there only when runc would).

load helpers

setup_file() { pv_setup_file; }
teardown_file() { pv_teardown_file; }
setup() {
	pv_setup
	requires binaries
	CMPDIR=$(mktemp -d "$PV_WORK/cmp.XXXXXX")
	EMPTYROOT=$(mktemp -d "$PV_WORK/emptyroot.XXXXXX")
}
teardown() { pv_teardown; }

# expand WORD: substitute the row placeholders.
#   {ROOT} runc root, {EMPTY} an empty runc root, {ID} the container,
#   {LOG} a per-runtime log file (logs may differ: the wrapper appends).
expand() {
	local w=$1 who=$2
	w=${w//\{ROOT\}/$PV_RUNC_ROOT}
	w=${w//\{EMPTY\}/$EMPTYROOT}
	w=${w//\{ID\}/$CID}
	w=${w//\{LOG\}/$CMPDIR/log.$who}
	printf '%s' "$w"
}

# run_one WHO RUNTIME ROW...: run a row in the empty directory
# $CMPDIR/cwd.WHO (kept as is when KEEP_CWD is set), leaving
# rc/stdout/stderr in files. Separate directories let rows like `spec`,
# which write into the cwd, run once per runtime.
run_one() {
	local who=$1 rt=$2 args=() w cwd=$CMPDIR/cwd.$1
	shift 2
	for w in "$@"; do args+=("$(expand "$w" "$who")"); done
	if [ -z "${KEEP_CWD:-}" ]; then
		rm -rf "$cwd"
		mkdir -p "$cwd"
	fi
	local rc=0
	(cd "$cwd" && "$rt" "${args[@]}" </dev/null >"$CMPDIR/out.$who" 2>"$CMPDIR/err.$who") || rc=$?
	echo "$rc" >"$CMPDIR/rc.$who"
}

# normalise MODE FILE: MODE "exact" leaves stdout as is; "ps" blanks the C
# column; "paths" keeps only
# the JSON structure (for events --stats, whose counters move between two
# calls whatever runtime made them).
normalise() {
	case $1 in
	exact) cat "$2" ;;
	paths) jq -c '[paths | map(tostring) | join(".")] | sort' "$2" 2>&1 ;;
	# ps -ef's C column is CPU time over elapsed time: it drifts between
	# two calls while a fresh container's start-up cost is amortised.
	ps) awk 'NR > 1 { $4 = "-" } { print }' "$2" ;;
	esac
}

# compare MODE ROW...: one table row. Prints "ok" or a diff; returns 1 on
# mismatch.
compare() {
	local mode=$1
	shift
	run_one runc "$RUNC" "$@"
	run_one wrapper "$PV_WRAPPER" "$@"
	local rr rw
	rr=$(cat "$CMPDIR/rc.runc") rw=$(cat "$CMPDIR/rc.wrapper")
	if [ "$rr" = "$rw" ] && diff -q <(normalise "$mode" "$CMPDIR/out.runc") <(normalise "$mode" "$CMPDIR/out.wrapper") >/dev/null; then
		printf 'ok    %-60s rc=%s\n' "$*" "$rr"
		return 0
	fi
	printf 'DIFF  %-60s rc runc=%s wrapper=%s\n' "$*" "$rr" "$rw"
	diff <(normalise "$mode" "$CMPDIR/out.runc") <(normalise "$mode" "$CMPDIR/out.wrapper") | sed 's/^/      /' | head -n 20
	echo "      stderr runc:    $(head -c 300 "$CMPDIR/err.runc")"
	echo "      stderr wrapper: $(head -c 300 "$CMPDIR/err.wrapper")"
	return 1
}

# table: MODE then the argv, one row per line; placeholders as in expand.
TABLE='
exact --root {ROOT} state {ID}
ps    --root {ROOT} ps {ID}
exact --root {ROOT} ps --format json {ID}
exact --root {ROOT} list
exact --root {ROOT} list --format json
exact --root {ROOT} list -q
exact --root {EMPTY} list
exact --root {EMPTY}/missing list
exact --root {EMPTY}/missing state {ID}
exact --root={ROOT} state {ID}
paths --root {ROOT} events --stats {ID}
exact --root {ROOT} exec {ID} echo hello
exact --root {ROOT} exec {ID} false
exact --root {ROOT} exec {ID} sh -c exit\ 3
exact --root {ROOT} exec --env FOO=bar {ID} env
exact --root {ROOT} kill {ID} CONT
exact --root {ROOT} update --cpu-quota 50000 {ID}
exact --root {ROOT} state no-such-container
exact --root {ROOT} ps no-such-container
exact --root {ROOT} kill no-such-container KILL
exact --root {ROOT} delete no-such-container
exact --root {ROOT} start no-such-container
exact --root {ROOT} pause no-such-container
exact --root {ROOT} resume no-such-container
exact --root {ROOT} events --stats no-such-container
exact --root {ROOT} --log {LOG} --log-format json state {ID}
exact --root {ROOT} --log {LOG} --log-format json state no-such-container
exact --root {ROOT} --log {LOG} --log-format text state no-such-container
exact --root {ROOT} --debug state {ID}
exact --root {ROOT} --debug list
exact --version
exact -v
exact --help
exact -h
exact help
exact help state
exact features
exact create --help
exact run --help
exact exec --help
exact spec --help
exact frobnicate
exact --root {ROOT} frobnicate {ID}
exact --no-such-flag list
exact --root {ROOT} create
exact --root {ROOT} run
exact --root {ROOT} create --bundle /nonexistent/bundle pvt-never
exact --root {ROOT} run --bundle /nonexistent/bundle pvt-never
'

@test "transparency table: runc and procview-runc agree on exit code and stdout" {
	new_bundle busybox
	plain_start
	local fails=0 mode row
	while read -r mode row; do
		[ -n "$mode" ] || continue
		# Rows split on blanks; "\ " keeps a blank inside one argument.
		local -a argv=()
		# shellcheck disable=SC2162 # backslash-blank is wanted here
		read -a argv <<<"$row"
		compare "$mode" "${argv[@]}" || fails=$((fails + 1))
	done <<<"$TABLE"
	echo "$fails mismatching rows"
	[ "$fails" -eq 0 ]
}

@test "no arguments: identical help and exit code" {
	compare exact
}

@test "spec: same config.json, same refusal when one exists" {
	compare exact spec
	diff "$CMPDIR/cwd.runc/config.json" "$CMPDIR/cwd.wrapper/config.json"
	# A second spec in the same directory is refused the same way.
	KEEP_CWD=1 compare exact spec
	compare exact spec --rootless
	diff "$CMPDIR/cwd.runc/config.json" "$CMPDIR/cwd.wrapper/config.json"
	compare exact spec --bundle "$PV_WORK/no-such-dir"
}

# lifecycle_pair: the same lifecycle on two containers, A through runc and
# B through the wrapper, compared step by step. Container ids and bundle
# paths differ by construction and are replaced by placeholders.
@test "lifecycle create/start/pause/resume/kill/delete: same exit codes and stdout" {
	new_bundle busybox
	set_cmd 'sleep 100000'
	A=$CID AB=$BUNDLE
	new_bundle busybox
	set_cmd 'sleep 100000'
	B=$CID BB=$BUNDLE
	local fails=0
	step() {
		local ra rb oa ob
		# Output goes through files: a detached exec keeps its stdio open.
		ra=0 rb=0
		(cd "$CMPDIR" && "$RUNC" --root "$PV_RUNC_ROOT" "${@//\{ID\}/$A}" </dev/null >"$CMPDIR/out.a" 2>"$CMPDIR/err.a") || ra=$?
		(cd "$CMPDIR" && "$PV_WRAPPER" --root "$PV_RUNC_ROOT" "${@//\{ID\}/$B}" </dev/null >"$CMPDIR/out.b" 2>"$CMPDIR/err.b") || rb=$?
		oa=$(cat "$CMPDIR/out.a") ob=$(cat "$CMPDIR/out.b")
		oa=${oa//$A/<id>} ob=${ob//$B/<id>}
		if [ "$ra" = "$rb" ] && [ "$oa" = "$ob" ]; then
			printf 'ok    %-40s rc=%s\n' "$*" "$ra"
		else
			printf 'DIFF  %-40s rc runc=%s wrapper=%s\n      out runc:    %s\n      out wrapper: %s\n      err runc:    %s\n      err wrapper: %s\n' \
				"$*" "$ra" "$rb" "$oa" "$ob" "$(head -c 300 "$CMPDIR/err.a")" "$(head -c 300 "$CMPDIR/err.b")"
			fails=$((fails + 1))
		fi
	}
	status_of() { "$RUNC" --root "$PV_RUNC_ROOT" state "$1" | jq -r .status; }
	# create takes the bundle; the placeholder trick needs per-container args.
	# The container inherits create's stdio: never a pipe we wait on.
	ra=0 rb=0
	(cd "$CMPDIR" && "$RUNC" --root "$PV_RUNC_ROOT" create --bundle "$AB" "$A" </dev/null >"$CMPDIR/create.a" 2>&1) || ra=$?
	(cd "$CMPDIR" && "$PV_WRAPPER" --root "$PV_RUNC_ROOT" create --bundle "$BB" "$B" </dev/null >"$CMPDIR/create.b" 2>&1) || rb=$?
	echo "create: rc runc=$ra wrapper=$rb"
	# Nothing but the container's own output may appear (and it has none yet).
	[ ! -s "$CMPDIR/create.a" ]
	[ ! -s "$CMPDIR/create.b" ]
	[ "$ra" -eq 0 ]
	[ "$rb" -eq 0 ]
	[ "$(status_of "$A")" = created ]
	[ "$(status_of "$B")" = created ]
	step start '{ID}'
	[ "$(status_of "$A")" = running ]
	[ "$(status_of "$B")" = running ]
	step start '{ID}'
	step pause '{ID}'
	[ "$(status_of "$A")" = paused ]
	[ "$(status_of "$B")" = paused ]
	step pause '{ID}'
	step resume '{ID}'
	[ "$(status_of "$A")" = running ]
	[ "$(status_of "$B")" = running ]
	step exec '{ID}' sh -c 'exit 5'
	step exec --detach '{ID}' sleep 1
	step delete '{ID}'
	step kill '{ID}' KILL
	wait_until 5000 sh -c "[ \"\$($RUNC --root $PV_RUNC_ROOT state $A | jq -r .status)\" = stopped ]"
	wait_until 5000 sh -c "[ \"\$($RUNC --root $PV_RUNC_ROOT state $B | jq -r .status)\" = stopped ]"
	step kill '{ID}' KILL
	step delete '{ID}'
	step delete '{ID}'
	step delete --force '{ID}'
	echo "$fails mismatching steps"
	[ "$fails" -eq 0 ]
	[ ! -e "$PV_STATE/containers/$B" ]
}

@test "run --detach + exec + delete --force through both: same results" {
	new_bundle busybox
	A=$CID AB=$BUNDLE
	new_bundle busybox
	B=$CID BB=$BUNDLE
	ra=0 rb=0
	"$RUNC" --root "$PV_RUNC_ROOT" run -d -b "$AB" "$A" </dev/null >/dev/null 2>&1 || ra=$?
	"$PV_WRAPPER" --root "$PV_RUNC_ROOT" run -d -b "$BB" "$B" </dev/null >/dev/null 2>&1 || rb=$?
	[ "$ra" -eq 0 ]
	[ "$rb" -eq 0 ]
	oa=$("$RUNC" --root "$PV_RUNC_ROOT" exec "$A" cat /etc/hostname)
	ob=$("$PV_WRAPPER" --root "$PV_RUNC_ROOT" exec "$B" cat /etc/hostname)
	[ "$oa" = "$ob" ]
	"$RUNC" --root "$PV_RUNC_ROOT" delete --force "$A"
	"$PV_WRAPPER" --root "$PV_RUNC_ROOT" delete --force "$B"
	run "$RUNC" --root "$PV_RUNC_ROOT" state "$B"
	[ "$status" -ne 0 ]
	[ ! -e "$PV_STATE/containers/$B" ]
}

@test "run --pid-file and --console-socket-free stdio pass through" {
	new_bundle busybox
	set_cmd 'echo out; echo err >&2; exit 4'
	run "$PV_WRAPPER" --root "$PV_RUNC_ROOT" run --pid-file "$PV_WORK/pidfile.$CID" -b "$BUNDLE" "$CID"
	[ "$status" -eq 4 ]
	[[ "$output" == *out* ]]
	[[ "$output" == *err* ]]
	[ -s "$PV_WORK/pidfile.$CID" ]
}
