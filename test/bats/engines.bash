# shellcheck shell=bash disable=SC2034
# engines.bash: shared functions for the engine-*.bats files (private
# containerd and dockerd instances, processes tracked by pid). Load after
# helpers:
#   load helpers
#   load engines
#
# Every daemon started here lives in $PV_WORK/engines/<name>/ (its root,
# state, sockets, config, log) and its pid is recorded in
# $PV_WORK/engines/<name>.pid; eng_stop_all stops exactly those pids.

ENG_STOP_TIMEOUT_MS=${ENG_STOP_TIMEOUT_MS:-15000}

# eng_dir NAME: print (and create) the private directory of daemon NAME.
eng_dir() {
	mkdir -p "$PV_WORK/engines/$1"
	echo "$PV_WORK/engines/$1"
}

# eng_spawn NAME LOG COMMAND...: start COMMAND detached (own session, no
# stdio shared with bats) and record its pid as NAME.
eng_spawn() {
	local name=$1 log=$2 pid
	shift 2
	# fd 3 is bats' output: a daemon holding it would keep bats waiting.
	setsid "$@" </dev/null >>"$log" 2>&1 3>&- &
	pid=$!
	echo "$pid" >"$PV_WORK/engines/$name.pid"
	# Until setsid has exec'd, argv[0] is still "setsid" and eng_pid would
	# not recognise the process.
	wait_until 2000 eng_pid "$name" >/dev/null || true
	echo "$pid"
}

# eng_pid NAME: print the recorded pid of NAME if that process still runs
# the binary it was started as (guards against pid reuse).
eng_pid() {
	local f=$PV_WORK/engines/$1.pid pid
	[ -f "$f" ] || return 1
	pid=$(<"$f")
	[ -n "$pid" ] && [ -d "/proc/$pid" ] || return 1
	# argv[0] is the binary setsid exec'd: containerd, dockerd.
	[ "$(basename -- "$(tr '\0' '\n' <"/proc/$pid/cmdline" | head -n1)")" = "$1" ] || return 1
	echo "$pid"
}

# eng_wait_socket NAME SOCKET TIMEOUT_MS: wait until SOCKET exists while
# NAME still runs; on failure print NAME's log tail and fail.
eng_wait_socket() {
	local name=$1 sock=$2 deadline=$(($(now_ms) + $3))
	while :; do
		if ! eng_pid "$name" >/dev/null; then
			echo "$name exited before creating $sock; log:" >&2
			tail -n 30 "$PV_WORK/engines/$name/log" >&2
			return 1
		fi
		[ -S "$sock" ] && return 0
		if [ "$(now_ms)" -ge "$deadline" ]; then
			echo "$name: no socket $sock after $3 ms; log:" >&2
			tail -n 30 "$PV_WORK/engines/$name/log" >&2
			return 1
		fi
		sleep 0.1
	done
}

# eng_stop NAME: SIGTERM the recorded pid of NAME, wait, then SIGKILL.
eng_stop() {
	local pid deadline
	pid=$(eng_pid "$1") || return 0
	kill -TERM "$pid" 2>/dev/null || return 0
	deadline=$(($(now_ms) + ENG_STOP_TIMEOUT_MS))
	while ! pid_gone "$pid"; do
		if [ "$(now_ms)" -ge "$deadline" ]; then
			echo "$1 ($pid) ignored SIGTERM; killing" >&2
			kill -KILL "$pid" 2>/dev/null || true
			break
		fi
		sleep 0.1
	done
	rm -f "$PV_WORK/engines/$1.pid"
}

# eng_containerd_config DIR: print a containerd 1.x (version 2) config whose
# root, state, sockets all live under DIR. The CRI plugin is disabled: ctr
# and dockerd do not need it, and it would want CNI.
eng_containerd_config() {
	local d=$1
	cat <<EOF
version = 2
root = "$d/root"
state = "$d/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]

[grpc]
  address = "$d/containerd.sock"

[ttrpc]
  address = "$d/containerd.sock.ttrpc"

[debug]
  address = "$d/debug.sock"
EOF
}

# eng_start_containerd [CONFIG]: start a private containerd on CONFIG
# (default: a fresh eng_containerd_config in its directory) and wait for its
# socket. Sets ENG_CONTAINERD_SOCK. $PROCVIEW_CONFIG reaches procview-runc
# through containerd's environment (containerd → shim → runtime inherit it).
eng_start_containerd() {
	local d cfg
	d=$(eng_dir containerd)
	cfg=${1:-$d/config.toml}
	[ -f "$cfg" ] || eng_containerd_config "$d" >"$cfg"
	ENG_CONTAINERD_SOCK=$d/containerd.sock
	export ENG_CONTAINERD_SOCK
	# containerd 1.6 keeps shim sockets in /run/containerd/s and the runc.v2
	# shim's default runc root in /run/containerd/runc whatever its state
	# directory.
	eng_track_dir /run/containerd
	eng_spawn containerd "$d/log" containerd --config "$cfg" >/dev/null
	eng_wait_socket containerd "$ENG_CONTAINERD_SOCK" 20000
}

# eng_stop_all: stop dockerd before its containerd, then containerd, then
# unmount what they left under the work directory.
eng_stop_all() {
	[ -n "${PV_WORK:-}" ] && [ -d "$PV_WORK/engines" ] || return 0
	eng_stop dockerd
	eng_stop containerd
	pv_umount_under "$PV_WORK/engines"
	local d
	while read -r d; do
		# Only empty directories: anything else belongs to a live daemon.
		[ -d "$d" ] && find "$d" -depth -type d -empty -delete 2>/dev/null
	done < <(cat "$PV_WORK/engines/created-dirs" 2>/dev/null)
	return 0
}

# eng_track_dir DIR: a daemon about to start creates DIR outside the work
# directory (fixed paths in containerd and dockerd); if DIR does not exist
# yet, eng_stop_all removes whatever is left of it empty.
eng_track_dir() {
	[ -e "$1" ] || echo "$1" >>"$PV_WORK/engines/created-dirs"
}

# eng_register_id ID: record a container id created by an engine so the
# helpers' teardown removes its cgroup under /procview-test-bats if the
# engine left it behind.
eng_register_id() {
	echo "$1" >>"$PV_WORK/containers"
}

# eng_state_empty: the state root holds no container entry.
eng_state_empty() {
	local left
	left=$(ls -A "$PV_STATE/containers" 2>/dev/null) || true
	if [ -n "$left" ]; then
		echo "state root still has: $left" >&2
		return 1
	fi
}

# eng_check_views OUTPUT: OUTPUT is `grep MemTotal /proc/meminfo` then
# `cat /sys/devices/system/cpu/online` from a container limited to
# PV_MEM_LIMIT and half a CPU.
eng_check_views() {
	local kb online
	kb=$(meminfo_kb MemTotal <<<"$1") || { echo "no MemTotal in: $1" >&2; return 1; }
	online=$(tail -n1 <<<"$1")
	[ "$kb" -eq $((PV_MEM_LIMIT / 1024)) ] || { echo "MemTotal $kb kB, want $((PV_MEM_LIMIT / 1024))" >&2; return 1; }
	[ "$online" = 0 ] || { echo "online '$online', want 0" >&2; return 1; }
}

# The command every engine test runs in its container.
ENG_PROBE='grep MemTotal /proc/meminfo; cat /sys/devices/system/cpu/online'

# eng_need_file TOOL...: in setup_file, note the first missing TOOL so that
# every test of the file skips (eng_skip_if_noted in setup). bats 1.8
# reports a skip inside setup_file as a failure, so setup_file must not
# call skip itself.
eng_need_file() {
	local t
	for t in "$@"; do
		if ! command -v "$t" >/dev/null; then
			mkdir -p "$PV_WORK/engines"
			echo "needs $t" >"$PV_WORK/engines/skip"
			return 1
		fi
	done
}

# eng_skip_if_noted: skip the test when setup_file noted a missing tool.
eng_skip_if_noted() {
	if [ -f "$PV_WORK/engines/skip" ]; then skip "$(<"$PV_WORK/engines/skip")"; fi
}

# eng_install_works: `procview install` is implemented (not the stub).
eng_install_works() {
	[ -x "$PV_CLI" ] || return 1
	local out
	out=$("$PV_CLI" install --help 2>&1) || true
	! grep -q 'not implemented' <<<"$out"
}

# eng_start_dockerd: a private containerd and dockerd (data-root, exec-root,
# socket under $PV_WORK/engines/dockerd) with procview-runc registered as
# the runtime "procview", and the test busybox imported as
# procview-test/busybox:latest. Use eng_docker to talk to it.
eng_start_dockerd() {
	local d
	d=$(eng_dir dockerd)
	mkdir -p "$d/data" "$d/exec" "$d/cli"
	jq -n --arg k "$d/key.json" --arg p "$PV_WRAPPER" \
		'{"deprecated-key-path": $k, "runtimes": {"procview": {"path": $p}}}' >"$d/daemon.json"
	eng_start_containerd
	eng_spawn_dockerd "$d"
	"$PV_REPO/test/rootfs/busybox.sh" "$d/rootfs" >&2
	tar -C "$d/rootfs" -c . | eng_docker import - procview-test/busybox:latest >&2
}

# eng_docker ARGS...: Debian's docker client on the private dockerd.
eng_docker() {
	local bin=/usr/bin/docker
	[ -x "$bin" ] || bin=$(command -v docker)
	DOCKER_CONFIG=$PV_WORK/engines/dockerd/cli timeout 120 \
		"$bin" -H "unix://$PV_WORK/engines/dockerd/docker.sock" "$@"
}

# eng_spawn_dockerd DIR: start dockerd on DIR/daemon.json (data-root,
# exec-root, socket in DIR; no iptables, no bridge, vfs) over the private
# containerd, and wait for its socket.
eng_spawn_dockerd() {
	local d=$1
	# dockerd 20.10 creates /run/docker/plugins whatever its exec-root.
	eng_track_dir /run/docker
	eng_spawn dockerd "$d/log" dockerd --iptables=false --ip-masq=false --bridge=none \
		--storage-driver=vfs --data-root "$d/data" --exec-root "$d/exec" \
		-H "unix://$d/docker.sock" --pidfile "$d/docker.pid" \
		--containerd "$ENG_CONTAINERD_SOCK" --config-file "$d/daemon.json" >/dev/null
	eng_wait_socket dockerd "$d/docker.sock" 30000
}

# eng_setup REQUIREMENT...: setup of a test in an engine file that needs
# procview's binaries and REQUIREMENTs; skipped when setup_file noted a
# missing tool.
eng_setup() {
	eng_skip_if_noted
	pv_setup
	requires binaries "$@"
}

# eng_failure_dump NAME: after a failed test, the tail of daemon NAME's log
# and what procview ps sees.
eng_failure_dump() {
	[ -z "${BATS_TEST_COMPLETED:-}" ] || return 0
	echo "---- $1 log"
	tail -n 40 "$PV_WORK/engines/$1/log"
	echo "---- procview ps"
	"$PV_CLI" ps -o wide 2>&1 | head -n 20
}
