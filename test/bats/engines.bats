#!/usr/bin/env bats
# Engines: procview through podman, both ways it can be plugged in —
# as the OCI runtime (`podman --runtime bin/procview-runc`) and as hooks.d
# hooks (oci-hooks.d/*.json) with podman's own runc. podman keeps its
# storage, state and cgroups inside this file's work dir and under
# /procview-test-bats/<id>.

load helpers

setup_file() { pv_setup_file; }
teardown_file() { pv_teardown_file; }
setup() {
	pv_setup
	requires binaries podman
	new_bundle busybox
	# Flags from integration.md §12.4: no systemd, no netavark, and
	# podman's default rlimits need CAP_SYS_RESOURCE.
	PODMAN=(podman --root "$PV_WORK/podman/root" --runroot "$PV_WORK/podman/runroot"
		--tmpdir "$PV_WORK/podman/tmp" --cgroup-manager cgroupfs --events-backend file)
	RUNOPTS=(--rm --network none --ulimit nofile=1024:1024 --ulimit nproc=4096:4096
		--cgroup-parent "/$PV_CGROUP_PARENT/$CID" --memory "$PV_MEM_LIMIT"
		--cpu-quota "$PV_CPU_QUOTA" --cpu-period "$PV_CPU_PERIOD" --rootfs "$BUNDLE/rootfs")
}
teardown() { pv_teardown; }

# check_views OUTPUT: MemTotal line, then the online line.
check_views() {
	[ "$(meminfo_kb MemTotal <<<"$1")" -eq $((PV_MEM_LIMIT / 1024)) ]
	n=$(pv_cpus)
	if [ "$n" -eq 1 ]; then want=0; else want=0-$((n - 1)); fi
	[ "$(tail -n1 <<<"$1")" = "$want" ]
}

@test "podman --runtime procview-runc: the container sees its limits" {
	run timeout 120 "${PODMAN[@]}" --runtime "$PV_WRAPPER" run "${RUNOPTS[@]}" \
		sh -c 'grep MemTotal /proc/meminfo; cat /sys/devices/system/cpu/online'
	echo "$output"
	[ "$status" -eq 0 ]
	check_views "$output"
	# podman's id is not ours: no container directory may be left at all.
	[ -z "$(ls -A "$PV_STATE/containers" 2>/dev/null)" ]
}

@test "podman + hooks.d (oci-hooks.d/*.json) with plain runc: the container sees its limits" {
	hooks=$PV_WORK/hooks.d
	mkdir -p "$hooks"
	for f in "$PV_REPO"/oci-hooks.d/*.json; do
		[ -f "$f" ] || skip "no oci-hooks.d/*.json in the repo"
		# The hook inherits only runc's environment under podman, so the
		# test config is passed explicitly.
		sed "s|@BINDIR@|$PV_BIN|g" "$f" |
			jq --arg c "$PROCVIEW_CONFIG" '.hook.env = ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "PROCVIEW_CONFIG=" + $c]' \
				>"$hooks/$(basename "$f")"
	done
	run timeout 120 "${PODMAN[@]}" --runtime "$(command -v "$RUNC")" --hooks-dir "$hooks" run "${RUNOPTS[@]}" \
		sh -c 'grep MemTotal /proc/meminfo; cat /sys/devices/system/cpu/online'
	echo "$output"
	[ "$status" -eq 0 ]
	check_views "$output"
	[ -z "$(ls -A "$PV_STATE/containers" 2>/dev/null)" ]
}

@test "podman --runtime procview-runc with podman's default seccomp profile: sysinfo and free show the limit" {
	pv_build_probe
	[ -x "$PV_WORK/probe64" ] || skip "static probe not built (gcc, libc6-dev)"
	cp "$PV_WORK/probe64" "$BUNDLE/rootfs/bin/probe"
	run timeout 120 "${PODMAN[@]}" --runtime "$PV_WRAPPER" run "${RUNOPTS[@]}" \
		sh -c 'probe show; free; grep Seccomp: /proc/self/status'
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(awk -F= '$1 == "totalram" {print $2}' <<<"$output")" -eq "$PV_MEM_LIMIT" ]
	[ "$(awk -F= '$1 == "phys_bytes" {print $2}' <<<"$output")" -eq "$PV_MEM_LIMIT" ]
	[ "$(awk '$1 == "Mem:" {print $2}' <<<"$output")" -eq $((PV_MEM_LIMIT / 1024)) ]
	grep -q '^Seccomp:[[:space:]]*2' <<<"$output"
}
