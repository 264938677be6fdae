#!/usr/bin/env bats
# procview exec: the host's tools in a runc container's namespaces, seeing
# only the container (issue 14). The container is a busybox rootfs without
# ps, free, ip and hostname, in its own network namespace with a dummy link,
# started through procview-runc so it has views. Expected values come from the
# container's limits (helpers.bash), from nsenter's view of the same
# namespaces, or from the host before the call.

load helpers
load exec

setup_file() { pv_setup_file; }
teardown_file() { pv_teardown_file; }
setup() {
	pv_setup
	requires binaries cli nsenter ip
}
teardown() { pv_teardown; }

# exec_container: start a busybox container through procview-runc with its
# own hostname, without ps/free/ip/hostname in its rootfs, and a dummy link
# in its network namespace; sets CPID (its init's host pid).
exec_container() {
	new_bundle busybox
	local t
	for t in ps free ip hostname top vmstat; do
		rm -f "$BUNDLE/rootfs/bin/$t" "$BUNDLE/rootfs/sbin/$t" "$BUNDLE/rootfs/usr/bin/$t" "$BUNDLE/rootfs/usr/sbin/$t"
	done
	update_config '.hostname = $h' --arg h "h-$CID"
	pv_start
	wait_views
	CPID=$("$RUNC" --root "$PV_RUNC_ROOT" state "$CID" | jq -r .pid)
	# A link only the container has (kernels without the dummy module: lo only).
	nsenter -t "$CPID" -n ip link add pvdummy0 type dummy 2>/dev/null || true
	# runc leaves lo down; traffic tests need it.
	nsenter -t "$CPID" -n ip link set lo up
	export CPID
}


@test "exec: ps -e lists only the container's processes" {
	exec_container
	run pvx "$CID" -- ps -e -o pid=,comm=
	echo "$output"
	[ "$status" -eq 0 ]
	# The container's init is pid 1 in its namespace, the only other
	# process is ps itself.
	[ "$(awk '$1 == 1 {print $2}' <<<"$output")" = "$(cat /proc/"$CPID"/comm)" ]
	[ "${#lines[@]}" -eq 2 ]
	grep -qE '^ *[0-9]+ ps$' <<<"$output"
	# The container's own procfs lists the same pids (its init only, as ps is gone).
	want=$(cexec_ok 'ls /proc' | grep -E '^[0-9]+$' | grep -vx "$(cexec_ok 'echo $$')" | sort -n | head -n1)
	[ "$want" = 1 ]
}

@test "exec: free -k shows the container's MemTotal (the memory limit)" {
	exec_container
	[ ! -e "$BUNDLE/rootfs/bin/free" ]
	run pvx "$CID" -- free -k
	echo "$output"
	[ "$status" -eq 0 ]
	got=$(awk '$1 == "Mem:" {print $2}' <<<"$output")
	limit=$(cat "/sys/fs/cgroup/memory/$PV_CGROUP_PARENT/$CID/memory.limit_in_bytes" 2>/dev/null ||
		cat "/sys/fs/cgroup/$PV_CGROUP_PARENT/$CID/memory.max")
	[ "$got" -eq $((limit / 1024)) ]
	[ "$got" -lt "$(meminfo_kb MemTotal </proc/meminfo)" ]
}

@test "exec: ip -o link and /sys/class/net show only the container's links" {
	exec_container
	run pvx "$CID" -- ip -o link
	echo "$output"
	[ "$status" -eq 0 ]
	want=$(nsenter -t "$CPID" -n ip -o link)
	[ "$output" = "$want" ]
	# No host link: nothing but lo and the dummy.
	[ "$(awk -F': ' '{print $2}' <<<"$output" | grep -cvE '^(lo|pvdummy0)$')" -eq 0 ]
	run pvx "$CID" -- ls /sys/class/net
	[ "$status" -eq 0 ]
	[ "$output" = "$(nsenter -t "$CPID" -n ip -o link | awk -F': ' '{print $2}' | sort)" ]
}

@test "exec: hostname is the container's" {
	exec_container
	run pvx "$CID" -- hostname
	[ "$status" -eq 0 ]
	[ "$output" = "h-$CID" ]
	[ "$output" != "$(hostname)" ]
}

@test "exec: the tool's exit status passes through; a missing command is 127" {
	exec_container
	run pvx "$CID" -- sh -c 'exit 7'
	[ "$status" -eq 7 ]
	run pvx "$CID" -- true
	[ "$status" -eq 0 ]
	run -127 pvx "$CID" -- pv-no-such-command
	echo "$output"
	[ "$status" -eq 127 ]
	[[ "$output" == *"not found"* ]]
}

@test "exec: a signal killing the tool is passed through (128+n)" {
	exec_container
	run pvx "$CID" -- sh -c 'kill -TERM $$'
	[ "$status" -eq $((128 + 15)) ]
}

# start_waiting_tool: run procview exec in its own session with a tool that
# reports SIGINT, in the background; sets XPID (procview's pid) and OUT.
start_waiting_tool() {
	OUT=$PV_WORK/exec-sig.out
	: >"$OUT"
	setsid "$PV_CLI" exec "$CID" -- sh -c 'trap "echo got-INT; exit 3" INT; echo ready; while :; do sleep 0.1; done' \
		</dev/null >"$OUT" 2>&1 3>&- &
	XPID=$!
	# Watchdog: a tool that never gets the signal must not hang the suite.
	(sleep 60; kill -KILL "$XPID" 2>/dev/null) 3>&- &
	wait_until 10000 grep -q ready "$OUT"
}

@test "exec: SIGINT reaches the tool (sent to procview, and to its process group like Ctrl-C), once" {
	exec_container
	start_waiting_tool
	kill -INT "$XPID"
	st=0
	wait "$XPID" || st=$?
	cat "$OUT"
	[ "$st" -eq 3 ]
	[ "$(grep -c got-INT "$OUT")" -eq 1 ]
	# Ctrl-C without a terminal: the whole process group of procview.
	start_waiting_tool
	kill -INT -- "-$XPID"
	st=0
	wait "$XPID" || st=$?
	cat "$OUT"
	[ "$st" -eq 3 ]
	[ "$(grep -c got-INT "$OUT")" -eq 1 ]
}

# only_init_left: no live process but the init in the container's PID namespace.
only_init_left() {
	local ns d n=0
	ns=$(readlink "/proc/$CPID/ns/pid")
	for d in /proc/[0-9]*; do
		[ "$(readlink "$d/ns/pid" 2>/dev/null)" = "$ns" ] || continue
		grep -q '^State:[[:space:]]*Z' "$d/status" 2>/dev/null && continue
		n=$((n + 1))
	done
	[ "$n" -eq 1 ]
}

@test "exec: the host's mounts, findmnt /proc and ps are unchanged (also after kill -9 mid-run)" {
	exec_container
	host_snapshot "$PV_WORK/before"
	run pvx "$CID" -- sh -c 'ps -e >/dev/null; cat /proc/meminfo >/dev/null'
	[ "$status" -eq 0 ]
	host_snapshot "$PV_WORK/after"
	diff "$PV_WORK/before" "$PV_WORK/after"
	# kill -9 of procview mid-run: the tool dies with it, nothing stays.
	start_waiting_tool
	kill -KILL "$XPID"
	wait "$XPID" || true
	host_snapshot "$PV_WORK/after-kill"
	diff "$PV_WORK/before" "$PV_WORK/after-kill"
	# The tool died with procview (parent-death signal): only the
	# container's init is left alive in its PID namespace.
	wait_until 5000 only_init_left
	# kill -9 of the tool mid-run.
	start_waiting_tool
	tool=$(pgrep -P "$XPID" | head -n1)
	[ -n "$tool" ]
	kill -KILL "$tool"
	st=0
	wait "$XPID" || st=$?
	[ "$st" -eq $((128 + 9)) ]
	host_snapshot "$PV_WORK/after-kill-tool"
	diff "$PV_WORK/before" "$PV_WORK/after-kill-tool"
}

@test "exec: no mount reaches the caller's namespace, even through shared propagation" {
	exec_container
	# A caller whose mounts are shared (a private peer group of its own,
	# so other tests' mounts do not show up): a procview that forgot
	# MS_PRIVATE would propagate its /proc and binds into it.
	run unshare -m --propagation unchanged sh -c '
		mount --make-rprivate / && mount --make-rshared / || exit 99
		cat /proc/self/mountinfo >"$1/ns-before"
		"$2" exec "$3" -- sh -c "ps -e >/dev/null" </dev/null || exit 98
		cat /proc/self/mountinfo >"$1/ns-after"
	' sh "$PV_WORK" "$PV_CLI" "$CID"
	echo "$output"
	[ "$status" -eq 0 ]
	diff "$PV_WORK/ns-before" "$PV_WORK/ns-after"
}

@test "exec --ns net: only the network namespace (ps and hostname are the host's)" {
	exec_container
	run pvx --ns net "$CID" -- ip -o link
	[ "$status" -eq 0 ]
	[ "$output" = "$(nsenter -t "$CPID" -n ip -o link)" ]
	run pvx --ns net "$CID" -- hostname
	[ "$output" = "$(hostname)" ]
	run pvx --ns net "$CID" -- sh -c 'ps -e | wc -l'
	[ "$output" -gt 3 ]
}

@test "exec --no-views: /proc/meminfo is the kernel's (host MemTotal)" {
	exec_container
	run pvx --no-views "$CID" -- cat /proc/meminfo
	[ "$status" -eq 0 ]
	[ "$(meminfo_kb MemTotal <<<"$output")" -eq "$(meminfo_kb MemTotal </proc/meminfo)" ]
}

@test "exec --pid: any process, here the container's init" {
	exec_container
	run pvx --pid "$CPID" -- hostname
	[ "$status" -eq 0 ]
	[ "$output" = "h-$CID" ]
	# Its views are found through the state root.
	run pvx --pid "$CPID" -- cat /proc/meminfo
	[ "$(meminfo_kb MemTotal <<<"$output")" -eq $((PV_MEM_LIMIT / 1024)) ]
}

@test "exec --cgroup: the tool runs in the container's cgroups by default, not with --cgroup none" {
	exec_container
	want=$(cexec_ok 'cat /proc/self/cgroup')
	run pvx "$CID" -- cat /proc/self/cgroup
	[ "$status" -eq 0 ]
	[ "$output" = "$want" ]
	run pvx --cgroup none "$CID" -- cat /proc/self/cgroup
	[ "$status" -eq 0 ]
	[ "$output" != "$want" ]
}

@test "exec: a frozen container is refused unless --cgroup none" {
	exec_container
	"$RUNC" --root "$PV_RUNC_ROOT" pause "$CID"
	run pvx "$CID" -- true
	echo "$output"
	"$RUNC" --root "$PV_RUNC_ROOT" resume "$CID" || true
	[ "$status" -eq 125 ]
	[[ "$output" == *frozen* ]]
	"$RUNC" --root "$PV_RUNC_ROOT" pause "$CID"
	run pvx --cgroup none "$CID" -- hostname
	"$RUNC" --root "$PV_RUNC_ROOT" resume "$CID" || true
	[ "$status" -eq 0 ]
	[ "$output" = "h-$CID" ]
}

@test "exec --root: the container's root with its submounts, read-only, on an existing directory" {
	exec_container
	dir=$PV_WORK/rootview
	mkdir -p "$dir"
	run pvx --root "$dir" "$CID" -- sh -c "ls $dir/bin/busybox && grep MemTotal $dir/proc/meminfo && touch $dir/tmp/pv-x"
	echo "$output"
	[ "$status" -ne 0 ]
	[[ "$output" == *"$dir/bin/busybox"* ]]
	# The container's /proc/meminfo (a view bound by the hook, a submount) is there.
	[ "$(meminfo_kb MemTotal <<<"$(grep MemTotal <<<"$output")")" -eq $((PV_MEM_LIMIT / 1024)) ]
	[[ "$output" == *"Read-only file system"* ]]
	[ ! -e "$BUNDLE/rootfs/tmp/pv-x" ]
	# Nothing left on the host's directory.
	[ -z "$(ls -A "$dir")" ]
	run pvx --root "$PV_WORK/no-such-dir" "$CID" -- true
	[ "$status" -eq 125 ]
}

@test "exec --etc: the container's hostname, passwd and hosts files over the host's" {
	exec_container
	echo "pvuser:x:4242:4242::/:/bin/sh" >>"$BUNDLE/rootfs/etc/passwd"
	run pvx --etc "$CID" -- sh -c 'cat /etc/hostname; getent passwd 4242'
	echo "$output"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "$(cat "$BUNDLE/rootfs/etc/hostname")" ]
	[[ "${lines[1]}" == pvuser:x:4242:* ]]
	# Absolute symlinks resolve inside the container's root, not the host's.
	rm -f "$BUNDLE/rootfs/etc/hosts"
	echo "10.9.9.9 pv-in-container" >"$BUNDLE/rootfs/hosts.real"
	ln -s /hosts.real "$BUNDLE/rootfs/etc/hosts"
	run pvx --etc "$CID" -- cat /etc/hosts
	[ "$output" = "10.9.9.9 pv-in-container" ]
	run getent passwd 4242
	[ "$status" -ne 0 ]
}

@test "exec --explain prints the plan and runs nothing" {
	exec_container
	run pvx --explain "$CID" -- touch "$PV_WORK/explained"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"join namespaces"* ]]
	[[ "$output" == *"mount a fresh procfs"* ]]
	[[ "$output" == *"/proc/meminfo"* ]]
	[ ! -e "$PV_WORK/explained" ]
}

@test "exec: refused when the container has CAP_SYS_PTRACE, unless --force" {
	new_bundle busybox
	update_config '.process.capabilities.bounding += ["CAP_SYS_PTRACE"] | .process.capabilities.effective += ["CAP_SYS_PTRACE"] | .process.capabilities.permitted += ["CAP_SYS_PTRACE"]'
	pv_start
	wait_views
	run pvx "$CID" -- true
	echo "$output"
	[ "$status" -eq 125 ]
	[[ "$output" == *CAP_SYS_PTRACE* ]]
	run pvx --force "$CID" -- true
	[ "$status" -eq 0 ]
}

@test "exec: unknown container, --as-container and the user namespace are refused clearly" {
	exec_container
	run pvx pv-no-such-container -- true
	[ "$status" -eq 125 ]
	[[ "$output" == *"no such container"* ]]
	run pvx --as-container "$CID" -- true
	[ "$status" -eq 125 ]
	[[ "$output" == *"not implemented"* ]]
	run pvx --ns user "$CID" -- true
	[ "$status" -eq 125 ]
}

@test "exec --ns net: the host's tcpdump captures traffic inside the container" {
	requires tcpdump
	exec_container
	out=$PV_WORK/tcpdump.out
	# A port nobody listens on: the SYN and the RST cross the container's lo.
	"$PV_CLI" exec --ns net "$CID" -- timeout 20 tcpdump -i lo -n -c 1 'tcp port 9' </dev/null >"$out" 2>&1 3>&- &
	xpid=$!
	for _ in $(seq 50); do
		cexec 'nc -w 1 127.0.0.1 9 </dev/null' >/dev/null 2>&1 || true
		[ -d "/proc/$xpid" ] || break
		sleep 0.2
	done
	st=0
	wait "$xpid" || st=$?
	cat "$out"
	[ "$st" -eq 0 ]
	grep -qE '127\.0\.0\.1\.[0-9]+ > 127\.0\.0\.1\.9: Flags \[S\]' "$out"
}

@test "exec on a terminal: the tool gets the foreground; Ctrl-C reaches it once" {
	requires script
	exec_container
	# script(1) gives procview a pty; \003 on it is the terminal's Ctrl-C.
	run bash -c '(sleep 3; printf "\003"; sleep 3) | timeout 60 script -qec "$1 exec $2 -- sh -c '\''trap \"echo got-INT; exit 3\" INT; ps -o stat=,comm= -p \$\$; while :; do sleep 0.1; done'\''; echo rc=\$?" /dev/null' \
		sh "$PV_CLI" "$CID"
	echo "$output"
	# "+": the tool's process group is the terminal's foreground.
	[[ "$(grep -E ' sh' <<<"$output" | tr -d '\r')" == *+* ]]
	[ "$(grep -c got-INT <<<"$output")" -eq 1 ]
	grep -q 'rc=3' <<<"$output"
}
