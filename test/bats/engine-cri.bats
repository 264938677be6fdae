#!/usr/bin/env bats
# shellcheck disable=SC2016
# A live CRI test without a kubelet (issue 13): Debian's containerd 1.6 with
# its CRI plugin on a private socket, a runtime handler "procview" (runc.v2
# with BinaryName = procview-runc), restrict_oom_score_adj = true (no
# CAP_SYS_RESOURCE here), images made with `docker import` on a private
# dockerd, `docker save` and `ctr -n k8s.io images import`, and crictl built
# from the Go module proxy (test/rootfs/crictl.sh, cached outside the repo).
# `crictl runp --runtime procview` + create + start of a 256 MiB / 0.5 CPU
# container: it sees its limits, the sandbox is left alone, and `procview
# ps` and /metrics carry the pod, namespace and container names from the
# real CRI annotations. The pod uses the host network: no CNI needed.
# Heavy: run under flock /tmp/procview-heavy.lock.

load helpers
load engines

CRI_PORT=${CRI_PORT:-19862}
CRI_PAUSE=docker.io/pvcri/pause:latest
CRI_IMAGE=docker.io/procview-test/busybox:latest

setup_file() {
	pv_setup_file
	eng_need_file containerd ctr dockerd docker curl || return 0
	# crictl is built with Go (test/rootfs/crictl.sh also looks in /usr/local/go/bin).
	if [ ! -x "${PROCVIEW_TEST_CACHE:-/var/cache/procview-test}/crictl-v1.34.0/crictl" ] &&
		! command -v go >/dev/null && [ ! -x /usr/local/go/bin/go ]; then
		mkdir -p "$PV_WORK/engines"
		echo "needs go to build crictl" >"$PV_WORK/engines/skip"
		return 0
	fi
	cri_config
	local d
	d=$(eng_dir images)
	# The images, from the test busybox: docker import + save on a private
	# dockerd (stopped again before the CRI containerd starts).
	eng_start_dockerd
	tar -C "$PV_WORK/engines/dockerd/rootfs" -c . |
		eng_docker import --change 'ENTRYPOINT ["/bin/sleep","2147483647"]' - pvcri/pause:latest >&2
	eng_docker save -o "$d/images.tar" pvcri/pause:latest procview-test/busybox:latest
	eng_stop dockerd
	eng_stop containerd
	d=$(eng_dir containerd)
	cri_containerd_config "$d" >"$d/cri.toml"
	eng_start_containerd "$d/cri.toml"
	ctr -a "$d/containerd.sock" -n k8s.io images import --snapshotter native "$PV_WORK/engines/images/images.tar" >&2
	"$PV_REPO/test/rootfs/crictl.sh" >"$PV_WORK/engines/crictl-path"
	pv_start_daemon
	wait_until 10000 curl -sf -o /dev/null "127.0.0.1:$CRI_PORT/metrics"
}

teardown_file() {
	local id
	if [ -S "$PV_WORK/engines/containerd/containerd.sock" ] && [ -s "$PV_WORK/engines/crictl-path" ]; then
		for id in $(crictl_cli pods -q 2>/dev/null); do
			crictl_cli stopp "$id" >/dev/null 2>&1 || true
			crictl_cli rmp -f "$id" >/dev/null 2>&1 || true
		done
	fi
	eng_stop_all
	pv_teardown_file
}

setup() { eng_setup cli cgroupv1; }

teardown() {
	eng_failure_dump containerd
	pv_teardown
	cri_config
}

cri_config() { pv_write_config "metrics_address = \"127.0.0.1:$CRI_PORT\""; }

# cri_containerd_config DIR: eng_containerd_config with the CRI plugin on.
cri_containerd_config() {
	eng_containerd_config "$1" | grep -v '^disabled_plugins'
	cat <<EOF

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$CRI_PAUSE"
  restrict_oom_score_adj = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "$1/cni/bin"
    conf_dir = "$1/cni/conf"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "native"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.procview]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.procview.options]
        BinaryName = "$PV_WRAPPER"
EOF
}

# crictl_cli ARGS...: crictl on the private containerd, with a timeout.
crictl_cli() {
	local sock=unix://$PV_WORK/engines/containerd/containerd.sock
	timeout 120 "$(<"$PV_WORK/engines/crictl-path")" --timeout 60s -r "$sock" -i "$sock" "$@"
}

@test "cri: crictl runp --runtime procview: the container sees its limits, the sandbox is left alone, ps and /metrics name pod, namespace and container" {
	local parent uid d
	parent=pvcri-$(head -c 4 /dev/urandom | od -An -tx1 | tr -d ' \n')
	eng_register_id "$parent"
	uid=$(cat /proc/sys/kernel/random/uuid)
	d=$PV_WORK/cri
	mkdir -p "$d/logs"
	jq -n --arg p "/$PV_CGROUP_PARENT/$parent" --arg u "$uid" --arg l "$d/logs" '{
		metadata: {name: "pvcri-pod", namespace: "pvcri-ns", uid: $u, attempt: 0},
		log_directory: $l,
		linux: {cgroup_parent: $p, security_context: {namespace_options: {network: 2}}}}' >"$d/pod.json"
	jq -n --arg i "$CRI_IMAGE" '{
		metadata: {name: "app"}, image: {image: $i}, command: ["/bin/sleep", "100000"], log_path: "app.log",
		linux: {resources: {memory_limit_in_bytes: 268435456, cpu_quota: 50000, cpu_period: 100000}}}' >"$d/ctr.json"
	run crictl_cli runp --runtime procview "$d/pod.json"
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	pod=$(tail -n1 <<<"$output")
	run crictl_cli create "$pod" "$d/ctr.json" "$d/pod.json"
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	ctr=$(tail -n1 <<<"$output")
	run crictl_cli start "$ctr"
	[ "$status" -eq 0 ] || { echo "$output"; false; }

	# The container sees its limits.
	run crictl_cli exec "$ctr" sh -c "$ENG_PROBE"
	echo "$output"
	[ "$status" -eq 0 ]
	eng_check_views "$output"
	# The sandbox is left alone: procview registered the container only.
	[ -e "$PV_STATE/containers/$ctr/meta.json" ]
	[ ! -e "$PV_STATE/containers/$pod" ]

	# procview ps: the container managed, with the CRI names; the sandbox
	# as its pod, unmanaged.
	wait_until 15000 eval '"$PV_CLI" ps -o json | jq -e --arg p "$pod" "any(.[]; .id == \$p)" >/dev/null'
	json=$("$PV_CLI" ps -o json)
	jq --arg c "$ctr" --arg p "$pod" '.[] | select(.id == $c or .id == $p)' <<<"$json"
	c=$(jq -c --arg c "$ctr" '.[] | select(.id == $c)' <<<"$json")
	[ "$(jq -r .managed <<<"$c")" = true ]
	[ "$(jq -r .pod <<<"$c")" = pvcri-pod ]
	[ "$(jq -r .namespace <<<"$c")" = pvcri-ns ]
	[ "$(jq -r .container <<<"$c")" = app ]
	[ "$(jq -r .runtime <<<"$c")" = containerd ]
	[ "$(jq -r .image <<<"$c")" = "$CRI_IMAGE" ]
	[ "$(jq -r .memory_limit_bytes <<<"$c")" -eq 268435456 ]
	[ "$(jq -r .cpu_limit_cores <<<"$c")" = 0.5 ]
	p=$(jq -c --arg p "$pod" '.[] | select(.id == $p)' <<<"$json")
	[ "$(jq -r .managed <<<"$p")" = false ]
	[ "$(jq -r .kind <<<"$p")" = pod ]
	[ "$(jq -r .pod <<<"$p")" = pvcri-pod ]
	run "$PV_CLI" ps
	grep -q "^${ctr:0:12} .*pvcri-ns/pvcri-pod" <<<"$output"

	# /metrics: the kubelet's labels from the same annotations.
	m=$(curl -sf "127.0.0.1:$CRI_PORT/metrics")
	grep -E "^container_spec_memory_limit_bytes\{container=\"app\",container_id=\"$ctr\",image=\"$CRI_IMAGE\",name=\"app\",namespace=\"pvcri-ns\",pod=\"pvcri-pod\",runtime=\"containerd\"\} 2.68435456e\+08$" <<<"$m"
	# Labels come sorted: cgroup, container, container_id, image, kind, managed, …
	grep -E "^procview_container_info\{cgroup=\"[^\"]*\",container=\"\",container_id=\"$pod\",image=\"[^\"]*\",kind=\"pod\",managed=\"false\",.*pod=\"pvcri-pod\"" <<<"$m"

	crictl_cli stopp "$pod" >/dev/null
	crictl_cli rmp "$pod" >/dev/null
}
