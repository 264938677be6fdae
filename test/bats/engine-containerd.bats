#!/usr/bin/env bats
# shellcheck disable=SC2016
# containerd 1.6 (Debian) driven with ctr: a private containerd (root,
# state, sockets and config under $PV_WORK/engines/containerd), the runc.v2
# shim with procview-runc as its runc binary (`--runc-binary`, the same
# BinaryName option a CRI runtime entry sets). When `procview install
# --engine containerd` is implemented, the daemon's config is the one it
# wrote, and containerd's own parser must see the procview runtime in it.

load helpers
load engines

CTR_NS=procview-test

setup_file() {
	pv_setup_file
	eng_need_file containerd ctr || return 0
	local d cfg
	d=$(eng_dir containerd)
	cfg=$d/config.toml
	eng_containerd_config "$d" >"$cfg"
	cp "$cfg" "$d/config.toml.orig"
	if eng_install_works; then
		"$PV_CLI" install --engine containerd --config "$cfg" >&2
	fi
	eng_start_containerd "$cfg"
	"$PV_REPO/test/rootfs/busybox.sh" "$d/rootfs" >&2
}

teardown_file() {
	local id
	# Containers a failed test left: kill and delete them through containerd.
	[ -S "$PV_WORK/engines/containerd/containerd.sock" ] && for id in $(ctr_cli tasks list -q 2>/dev/null); do
		ctr_cli tasks kill -s KILL "$id" >/dev/null 2>&1 || true
		ctr_cli tasks delete -f "$id" >/dev/null 2>&1 || true
	done
	[ -S "$PV_WORK/engines/containerd/containerd.sock" ] && for id in $(ctr_cli containers list -q 2>/dev/null); do
		ctr_cli containers delete "$id" >/dev/null 2>&1 || true
	done
	eng_stop_all
	pv_teardown_file
}

setup() {
	eng_skip_if_noted
	pv_setup
	requires binaries
	ID=pvt-ctr-$(head -c 4 /dev/urandom | od -An -tx1 | tr -d ' \n')
	eng_register_id "$ID"
}

teardown() {
	if [ -z "${BATS_TEST_COMPLETED:-}" ]; then
		echo "---- containerd log"
		tail -n 30 "$PV_WORK/engines/containerd/log"
	fi
	pv_teardown
}

# ctr_cli ARGS...: ctr on the private containerd, with a timeout.
ctr_cli() {
	timeout 60 ctr --address "$PV_WORK/engines/containerd/containerd.sock" --namespace "$CTR_NS" "$@"
}

# ctr_run [CTR-RUN-FLAGS...] -- COMMAND...: a 256 MiB / half-CPU container
# $ID on the busybox rootfs through procview-runc.
ctr_run() {
	local flags=()
	while [ $# -gt 0 ] && [ "$1" != -- ]; do flags+=("$1"); shift; done
	shift
	ctr_cli run "${flags[@]}" --fifo-dir "$PV_WORK/engines/containerd/fifo" --runtime io.containerd.runc.v2 --runc-binary "$PV_WRAPPER" \
		--memory-limit "$PV_MEM_LIMIT" --cpu-quota "$PV_CPU_QUOTA" --cpu-period "$PV_CPU_PERIOD" \
		--cgroup "/$PV_CGROUP_PARENT/$ID" \
		--rootfs "$PV_WORK/engines/containerd/rootfs" "$ID" "$@"
}

@test "containerd: the config procview install wrote is read back by containerd" {
	eng_install_works || skip "procview install is not implemented yet"
	local d=$PV_WORK/engines/containerd
	# config dump parses every plugin section with containerd's own types;
	# the CRI plugin is disabled in the running daemon, so a copy with it
	# enabled is dumped.
	grep -v '^disabled_plugins' "$d/config.toml" >"$d/dump.toml"
	run containerd --config "$d/dump.toml" config dump
	[ "$status" -eq 0 ]
	block=$(awk '/runtimes\.procview\]/{f=1} f' <<<"$output" | head -n 20)
	echo "$block"
	grep -q 'runtime_type = "io.containerd.runc.v2"' <<<"$block"
	grep -Eq 'BinaryName = ".*/procview-runc"' <<<"$block"
	# uninstall restores the original bytes.
	cp "$d/config.toml" "$d/installed.toml"
	run "$PV_CLI" uninstall --engine containerd --config "$d/installed.toml"
	echo "$output"
	[ "$status" -eq 0 ]
	cmp "$d/installed.toml" "$d/config.toml.orig"
}

@test "containerd (ctr run --runc-binary procview-runc): MemTotal and online follow the limits" {
	run ctr_run --rm -- /bin/sh -c "$ENG_PROBE"
	echo "$output"
	[ "$status" -eq 0 ]
	eng_check_views "$output"
	eng_state_empty
}

@test "containerd: plain runc.v2 without procview shows the host (control)" {
	run ctr_cli run --rm --fifo-dir "$PV_WORK/engines/containerd/fifo" --runtime io.containerd.runc.v2 \
		--memory-limit "$PV_MEM_LIMIT" --cpu-quota "$PV_CPU_QUOTA" --cpu-period "$PV_CPU_PERIOD" \
		--cgroup "/$PV_CGROUP_PARENT/$ID" --rootfs "$PV_WORK/engines/containerd/rootfs" "$ID" \
		/bin/sh -c "$ENG_PROBE"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(meminfo_kb MemTotal <<<"$output")" -eq "$(meminfo_kb MemTotal </proc/meminfo)" ]
}

@test "containerd: detached task, ctr task exec sees the views, kill + delete clean the state root" {
	run ctr_run -d --null-io -- /bin/sleep 1000
	echo "$output"
	[ "$status" -eq 0 ]
	[ -d "$PV_STATE/containers/$ID" ]
	run ctr_cli tasks exec --exec-id probe "$ID" /bin/sh -c "$ENG_PROBE"
	echo "$output"
	[ "$status" -eq 0 ]
	eng_check_views "$output"
	ctr_cli tasks kill -s KILL "$ID"
	# delete fails until the shim has reaped the killed init.
	wait_until 10000 ctr_cli tasks delete "$ID"
	ctr_cli containers delete "$ID"
	eng_state_empty
}
