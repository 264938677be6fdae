#!/usr/bin/env bats
# shellcheck disable=SC2016
# docker (Debian's docker.io, dockerd 20.10) with procview-runc registered
# as the runtime "procview" in daemon.json. The file starts its own
# containerd and dockerd: data-root, exec-root, sockets and config under
# $PV_WORK/engines/, no iptables, no bridge, vfs storage. A system dockerd,
# if any, is never contacted. $PROCVIEW_CONFIG reaches procview-runc through
# containerd's environment (containerd → runc.v2 shim → runtime).

load helpers
load engines

setup_file() {
	pv_setup_file
	eng_need_file dockerd containerd docker || return 0
	# The Debian client matches dockerd 20.10; another docker on PATH may not.
	DOCKER_BIN=/usr/bin/docker
	[ -x "$DOCKER_BIN" ] || DOCKER_BIN=$(command -v docker)
	local d
	d=$(eng_dir dockerd)
	mkdir -p "$d/data" "$d/exec" "$d/cli"
	jq -n --arg k "$d/key.json" '{"deprecated-key-path": $k}' >"$d/daemon.json"
	cp "$d/daemon.json" "$d/daemon.json.orig"
	if eng_install_works; then
		# The runtime entry an operator gets: path = procview-runc beside
		# the CLI, i.e. $PV_WRAPPER.
		"$PV_CLI" install --engine docker --config "$d/daemon.json" >&2
	else
		jq --arg p "$PV_WRAPPER" '.runtimes.procview.path = $p' "$d/daemon.json.orig" >"$d/daemon.json"
	fi
	eng_start_containerd
	eng_spawn_dockerd "$d"
	echo "$DOCKER_BIN" >"$PV_WORK/engines/docker-client"
	# An image from the test busybox rootfs.
	"$PV_REPO/test/rootfs/busybox.sh" "$d/rootfs" >&2
	tar -C "$d/rootfs" -c . | docker_cli import - procview-test/busybox:latest >&2
}

teardown_file() {
	local ids
	# Containers a failed test left, removed through dockerd (runs poststop).
	if [ -S "$PV_WORK/engines/dockerd/docker.sock" ]; then
		ids=$(docker_cli ps -aq 2>/dev/null) || ids=
		# shellcheck disable=SC2086
		[ -z "$ids" ] || docker_cli rm -f $ids >/dev/null 2>&1 || true
	fi
	eng_stop_all
	pv_teardown_file
}

setup() {
	eng_skip_if_noted
	pv_setup
	requires binaries
	CIDFILE=$PV_WORK/engines/dockerd/cid.$BATS_TEST_NUMBER
	rm -f "$CIDFILE"
}

teardown() {
	[ -s "$CIDFILE" ] && eng_register_id "$(<"$CIDFILE")"
	if [ -z "${BATS_TEST_COMPLETED:-}" ]; then
		echo "---- dockerd log"
		tail -n 30 "$PV_WORK/engines/dockerd/log"
	fi
	pv_teardown
}

# docker_cli ARGS...: the client on the private dockerd, with a timeout.
docker_cli() {
	DOCKER_CONFIG=$PV_WORK/engines/dockerd/cli timeout 120 \
		"$(<"$PV_WORK/engines/docker-client")" -H "unix://$PV_WORK/engines/dockerd/docker.sock" "$@"
}

# docker_run [DOCKER-RUN-FLAGS...]: run ENG_PROBE in a 256 MiB / half-CPU
# container under /procview-test-bats.
docker_run() {
	docker_cli run --rm --network none -m 256m --cpus 0.5 \
		--cgroup-parent "/$PV_CGROUP_PARENT" --cidfile "$CIDFILE" "$@" \
		procview-test/busybox:latest sh -c "$ENG_PROBE"
}

@test "docker: daemon.json registers procview-runc as runtime procview" {
	run docker_cli info --format '{{json .Runtimes}}'
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(jq -r .procview.path <<<"$output")" = "$PV_WRAPPER" ]
}

@test "docker: procview uninstall restores daemon.json byte for byte" {
	eng_install_works || skip "procview install is not implemented"
	local d=$PV_WORK/engines/dockerd
	# On a copy: the running dockerd keeps its file.
	cp "$d/daemon.json.orig" "$d/roundtrip.json"
	"$PV_CLI" install --engine docker --config "$d/roundtrip.json"
	run cmp -s "$d/roundtrip.json" "$d/daemon.json.orig"
	[ "$status" -ne 0 ]
	"$PV_CLI" uninstall --engine docker --config "$d/roundtrip.json"
	cmp "$d/roundtrip.json" "$d/daemon.json.orig"
}

@test "docker run --runtime procview: MemTotal and online follow -m 256m --cpus 0.5" {
	run docker_run --runtime procview
	echo "$output"
	[ "$status" -eq 0 ]
	eng_check_views "$output"
	eng_state_empty
}

@test "docker run with the default runtime: the host's view (control)" {
	run docker_run
	echo "$output"
	[ "$status" -eq 0 ]
	# Without procview the limit does not show, so the check above can fail.
	[ "$(meminfo_kb MemTotal <<<"$output")" -eq "$(meminfo_kb MemTotal </proc/meminfo)" ]
	run eng_check_views "$output"
	[ "$status" -ne 0 ]
}

@test "docker: a detached container is cleaned from the state root by docker rm -f" {
	run docker_cli run -d --runtime procview --network none -m 256m --cpus 0.5 \
		--cgroup-parent "/$PV_CGROUP_PARENT" --cidfile "$CIDFILE" \
		procview-test/busybox:latest sleep 1000
	echo "$output"
	[ "$status" -eq 0 ]
	id=$(<"$CIDFILE")
	[ -d "$PV_STATE/containers/$id" ]
	run docker_cli exec "$id" sh -c "$ENG_PROBE"
	echo "$output"
	[ "$status" -eq 0 ]
	eng_check_views "$output"
	run docker_cli rm -f "$id"
	[ "$status" -eq 0 ]
	eng_state_empty
}

@test "docker run --runtime procview with docker's default seccomp profile: sysinfo and free show -m 256m" {
	pv_build_probe
	[ -x "$PV_WORK/probe64" ] || skip "static probe not built (gcc, libc6-dev)"
	run docker_cli run --rm --runtime procview --network none -m 256m --cpus 0.5 \
		--cgroup-parent "/$PV_CGROUP_PARENT" --cidfile "$CIDFILE" \
		-v "$PV_WORK/probe64:/bin/probe:ro" \
		procview-test/busybox:latest sh -c 'probe show; free; grep Seccomp: /proc/self/status'
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(awk -F= '$1 == "totalram" {print $2}' <<<"$output")" -eq 268435456 ]
	[ "$(awk -F= '$1 == "phys_bytes" {print $2}' <<<"$output")" -eq 268435456 ]
	[ "$(awk '$1 == "Mem:" {print $2}' <<<"$output")" -eq 262144 ]
	# docker's own filter is still there (mode 2: filter).
	grep -q '^Seccomp:[[:space:]]*2' <<<"$output"
	eng_state_empty
}
