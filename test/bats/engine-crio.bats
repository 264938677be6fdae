#!/usr/bin/env bats
# shellcheck disable=SC2016
# CRI-O's path, without CRI-O (not packaged in Debian 12): CRI-O reads the
# installed hooks.d JSON (oci-hooks.d/*.json with @BINDIR@ replaced), turns
# each into an OCI hook of the stages it names, and runs the container with
# plain runc — no procview-runc and no precreate stage (CRI-O does not run
# precreate hooks). This file does what CRI-O does with those files: it
# copies each hook into the bundle's config.json, then runs plain runc.

load helpers
load engines

setup_file() { pv_setup_file; }
teardown_file() { pv_teardown_file; }

setup() {
	pv_setup
	requires binaries
	new_bundle busybox
	HOOKS=$PV_WORK/hooks.d
	mkdir -p "$HOOKS"
	local f
	for f in "$PV_REPO"/oci-hooks.d/*.json; do
		[ -f "$f" ] || skip "no oci-hooks.d/*.json in the repo"
		sed "s|@BINDIR@|$PV_BIN|g" "$f" >"$HOOKS/$(basename "$f")"
	done
}

teardown() { pv_teardown; }

# crio_hooks_into_bundle: append each hooks.d hook to config.json under
# every stage it lists (hooks-1.0.0 "when.always"), with PROCVIEW_CONFIG in
# its environment, as an operator would set in the installed JSON when the
# config is not at the default path (runc gives hooks only hook.env).
crio_hooks_into_bundle() {
	local f
	for f in "$HOOKS"/*.json; do
		# CRI-O has no precreate stage.
		jq -e '.stages == ["precreate"]' "$f" >/dev/null && continue
		update_config '
			($h[0].hook + {env: ((($h[0].hook.env // []) | map(select(startswith("PROCVIEW_CONFIG=") | not)))
				+ ["PROCVIEW_CONFIG=" + $c])}) as $hook
			| reduce $h[0].stages[] as $s (.; .hooks[$s] += [$hook])' \
			--slurpfile h "$f" --arg c "$PROCVIEW_CONFIG"
	done
}

@test "crio hooks.d: the JSON is hooks 1.0.0; the stages CRI-O runs are not mixed with precreate" {
	local f
	for f in "$HOOKS"/*.json; do
		jq -e '.version == "1.0.0" and .when.always == true
			and (.hook.path | startswith("/")) and (.stages | length > 0)' "$f"
		# precreate is a podman extension stage: CRI-O rejects a file naming
		# it, so it may only sit alone in a podman-only file, never next to
		# the createRuntime/poststop hooks CRI-O needs.
		jq -e '.stages == ["precreate"] or (.stages - ["createRuntime", "poststop"] == [])' "$f"
		[ -x "$(jq -r .hook.path "$f")" ]
	done
	# Together they cover mounting and cleanup.
	jq -s -e '[.[].stages[]] | (index("createRuntime") != null) and (index("poststop") != null)' "$HOOKS"/*.json
}

@test "crio path (hooks.d hooks on plain runc): MemTotal and online follow the limits, state cleaned" {
	crio_hooks_into_bundle
	jq -e '.hooks.createRuntime | length == 1' "$BUNDLE/config.json"
	run plain_run "$ENG_PROBE"
	echo "$output"
	[ "$status" -eq 0 ]
	eng_check_views "$output"
	eng_state_empty
}

@test "crio path: a detached container keeps its views; runc delete (poststop) removes its state" {
	crio_hooks_into_bundle
	plain_start
	wait_views
	[ -d "$PV_STATE/containers/$CID" ]
	run cexec "$ENG_PROBE"
	[ "$status" -eq 0 ]
	eng_check_views "$output"
	"$RUNC" --root "$PV_RUNC_ROOT" kill "$CID" KILL
	wait_until 5000 bash -c '"$0" --root "$1" state "$2" | grep -q "\"status\": \"stopped\""' "$RUNC" "$PV_RUNC_ROOT" "$CID"
	"$RUNC" --root "$PV_RUNC_ROOT" delete "$CID"
	eng_state_empty
}
