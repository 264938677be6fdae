#!/usr/bin/env bats
# System-call views: sysinfo(2) answered by procview-agent through seccomp
# user notification, from the same snapshot as the container's /proc views.
# A static probe (test/bats/sysinfo/sysinfo.c, built here) prints what a
# program sees.

load helpers

setup_file() {
	pv_setup_file
	[ -n "${PV_WORK:-}" ] || return 0
	pv_build_probe
}
teardown_file() { pv_teardown_file; }
setup() {
	pv_setup
	requires binaries gcc
	[ -x "$PV_BIN/procview-agent" ] || skip "needs $PV_BIN/procview-agent (run make build)"
	[ -x "$PV_WORK/probe64" ] || skip "static probe not built (gcc, libc6-dev)"
}
teardown() { pv_teardown; }

# probe_bundle [32]: a busybox bundle with the static probe as /bin/probe.
probe_bundle() {
	new_bundle busybox
	cp "$PV_WORK/probe${1:-64}" "$BUNDLE/rootfs/bin/probe"
}

# probe_val KEY < probe output
probe_val() { awk -F= -v k="$1" '$1 == k {print $2; f=1} END {exit !f}'; }

# container_tasks: threads in the container's cgroup (pids or memory v1).
cgroup_dir_of() {
	local h
	for h in /sys/fs/cgroup/pids /sys/fs/cgroup/memory /sys/fs/cgroup; do
		[ -d "$h/$PV_CGROUP_PARENT/$CID" ] && { echo "$h/$PV_CGROUP_PARENT/$CID"; return 0; }
	done
	return 1
}

@test "sysinfo: an agent that cannot start leaves the container starting with host values (fail-open)" {
	pv_stop_agent
	probe_bundle
	pv_write_config 'agent_path = "/nonexistent/procview-agent"'
	pv_start
	wait_views
	run jq -r '.linux.seccomp.listenerPath // "none"' "$BUNDLE/config.json"
	[ "$output" = none ]
	run cexec_ok 'probe show'
	[ "$(probe_val totalram <<<"$output")" -gt "$PV_MEM_LIMIT" ]
	grep -q 'procview-agent not accepting' "$PV_LOG"
}

@test "sysinfo: totalram, sysconf(_SC_PHYS_PAGES) and busybox free show the memory limit" {
	probe_bundle
	pv_start
	wait_views
	run cexec_ok 'probe show'
	[ "$status" -eq 0 ]
	echo "$output"
	[ "$(probe_val totalram <<<"$output")" -eq "$PV_MEM_LIMIT" ]
	[ "$(probe_val phys_bytes <<<"$output")" -eq "$PV_MEM_LIMIT" ]
	[ "$(probe_val mem_unit <<<"$output")" -eq 1 ]
	run cexec_ok 'free'
	[ "$status" -eq 0 ]
	echo "$output"
	[ "$(awk '$1 == "Mem:" {print $2}' <<<"$output")" -eq 262144 ]
}

@test "sysinfo: uptime is the container's /proc/uptime, procs and loads its /proc/loadavg" {
	probe_bundle
	# The container's age in /proc/uptime (without a time namespace the
	# default, auto, shows the host's: the next test).
	set_annotation io.procview.uptime container
	pv_start
	wait_views
	# A view rewritten between the reads would compare two snapshots:
	# retry until /proc/loadavg is the same before and after the probe.
	local i before after
	for i in $(seq 10); do
		run cexec_ok 'cat /proc/loadavg /proc/uptime; probe show; cat /proc/loadavg'
		[ "$status" -eq 0 ]
		before=$(sed -n 1p <<<"$output")
		after=$(tail -n1 <<<"$output")
		[ "$before" = "$after" ] && break
	done
	echo "$output"
	[ "$before" = "$after" ] || false
	read -r l1 l5 l15 tasks _ <<<"$before"
	# sysinfo's loads are /proc/loadavg's in 1<<16 fixed point.
	fixed() { awk -v l="$1" 'BEGIN {printf "%d\n", l * 65536 + 0.5}'; }
	[ "$(probe_val load1 <<<"$output")" -eq "$(fixed "$l1")" ]
	[ "$(probe_val load5 <<<"$output")" -eq "$(fixed "$l5")" ]
	[ "$(probe_val load15 <<<"$output")" -eq "$(fixed "$l15")" ]
	# procs: the container's threads, as after the slash in loadavg, and
	# nothing like the host's.
	[ "$(probe_val procs <<<"$output")" -eq "${tasks#*/}" ]
	[ "$(probe_val procs <<<"$output")" -lt 20 ]
	# uptime: the container's, within 2 s of its /proc/uptime (read first).
	up=$(sed -n 2p <<<"$output" | cut -d' ' -f1)
	awk -v a="$(probe_val uptime <<<"$output")" -v b="$up" 'BEGIN {d = a - b; exit !(d >= -2 && d <= 2)}'
	# ... which is not the host's.
	host_up=$(cut -d' ' -f1 /proc/uptime)
	awk -v a="$(probe_val uptime <<<"$output")" -v h="$host_up" 'BEGIN {exit !(h - a > 5)}' ||
		[ "${host_up%.*}" -lt 10 ]
	# free from sysinfo agrees with /proc/meminfo.
	run cexec_ok 'cat /proc/meminfo; probe show'
	[ "$(probe_val freeram <<<"$output")" -eq $(($(meminfo_kb MemFree <<<"$output") * 1024)) ] ||
		[ "$(probe_val freeram <<<"$output")" -le "$PV_MEM_LIMIT" ]
}

@test "sysinfo: with uptime = auto (no time namespace) uptime is the host's, as /proc/uptime" {
	probe_bundle
	pv_start
	wait_views
	run cexec_ok 'cat /proc/uptime; probe show'
	[ "$status" -eq 0 ]
	echo "$output"
	up=$(sed -n 1p <<<"$output" | cut -d' ' -f1)
	awk -v a="$(probe_val uptime <<<"$output")" -v b="$up" 'BEGIN {d = a - b; exit !(d >= -2 && d <= 2)}'
}

@test "sysinfo: a bad buffer gets EFAULT, as from the kernel" {
	probe_bundle
	pv_start
	wait_views
	run cexec_ok 'probe efault'
	[ "$status" -eq 0 ]
	[ "$output" = "ret=-1 errno=14" ]
}

# docker_like_profile: defaultAction ERRNO and one big allow rule with every
# syscall this host's headers name (sysinfo among them), the shape of
# docker's and podman's default profiles.
docker_like_profile() {
	local names
	names=$(grep -o '__NR_[a-z0-9_]*' /usr/include/x86_64-linux-gnu/asm/unistd_64.h | sed 's/__NR_//' |
		grep -vx -e reboot -e kexec_load | jq -R . | jq -s .)
	update_config '.linux.seccomp = {
		defaultAction: "SCMP_ACT_ERRNO", defaultErrnoRet: 1,
		architectures: ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
		syscalls: [{names: $n, action: "SCMP_ACT_ALLOW"}, {names: ["reboot"], action: "SCMP_ACT_ERRNO", errnoRet: 1}]}' \
		--argjson n "$names"
}

@test "sysinfo: a docker-like profile keeps its rules and gets sysinfo notified first" {
	[ -r /usr/include/x86_64-linux-gnu/asm/unistd_64.h ] || skip "needs x86_64 kernel headers"
	probe_bundle
	docker_like_profile
	pv_start
	wait_views
	run jq -cS '.linux.seccomp.syscalls[0], (.linux.seccomp.syscalls[1].names | index("sysinfo")), .linux.seccomp.defaultAction' "$BUNDLE/config.json"
	echo "$output"
	[ "${lines[0]}" = '{"action":"SCMP_ACT_NOTIFY","names":["sysinfo"]}' ]
	[ "${lines[1]}" = null ]
	[ "${lines[2]}" = '"SCMP_ACT_ERRNO"' ]
	run cexec_ok 'probe show'
	[ "$(probe_val totalram <<<"$output")" -eq "$PV_MEM_LIMIT" ]
	[ "$(probe_val phys_bytes <<<"$output")" -eq "$PV_MEM_LIMIT" ]
}

@test "sysinfo: a profile that denies sysinfo is left alone, and the log says why" {
	probe_bundle
	update_config '.linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW", architectures: ["SCMP_ARCH_X86_64"],
		syscalls: [{names: ["sysinfo"], action: "SCMP_ACT_ERRNO", errnoRet: 1}]}'
	pv_start
	wait_views
	run jq -r '.linux.seccomp.listenerPath // "none"' "$BUNDLE/config.json"
	[ "$output" = none ]
	run cexec 'probe show'
	[ "$output" = "error=1" ]
	grep -q 'system calls not intercepted.*action for sysinfo is' "$PV_LOG"
}

@test "sysinfo: io.procview.syscalls=\"\" leaves the host's answer" {
	probe_bundle
	set_annotation io.procview.syscalls ""
	pv_start
	wait_views
	run jq -r '.linux.seccomp // "none"' "$BUNDLE/config.json"
	[ "$output" = none ]
	run cexec_ok 'probe show'
	[ "$(probe_val totalram <<<"$output")" -gt "$PV_MEM_LIMIT" ]
}

@test "sysinfo: an i386 static binary gets the 64-byte compat layout and is not killed" {
	[ -x "$PV_WORK/probe32" ] || skip "no i386 probe (gcc-multilib)"
	"$PV_WORK/probe32" show >/dev/null 2>&1 || skip "this kernel cannot run i386 binaries (no IA32 emulation)"
	probe_bundle 32
	pv_start
	wait_views
	run cexec_ok 'probe show'
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(probe_val ptr_bits <<<"$output")" -eq 32 ]
	# totalram * mem_unit: the limit, through the compat struct.
	[ "$(probe_val totalram <<<"$output")" -eq "$PV_MEM_LIMIT" ]
	[ "$(probe_val phys_bytes <<<"$output")" -eq "$PV_MEM_LIMIT" ]
	[ "$(probe_val procs <<<"$output")" -lt 20 ]
	# A profile listing only x86_64 would have libseccomp kill it: the one
	# procview adds lists x86 too.
	run jq -r '.linux.seccomp.architectures | join(",")' "$BUNDLE/config.json"
	[ "$output" = SCMP_ARCH_X86_64,SCMP_ARCH_X86,SCMP_ARCH_X32 ]
}

# start_loop SECONDS: a container whose init calls sysinfo in a loop for
# SECONDS (after views are in place), output in $LOOP_OUT.
start_loop() {
	probe_bundle
	LOOP_OUT=$BUNDLE/rootfs/tmp/loop.out
	pv_start "sleep 2; probe loop $1 >/tmp/loop.out 2>&1; echo exit=\$? >>/tmp/loop.out; exec sleep 100000"
	wait_views
	wait_until 5000 test -s "$LOOP_OUT"
}

# loop_result TIMEOUT_MS: wait for the loop's summary; print the output.
loop_result() {
	wait_until "$1" grep -q '^exit=' "$LOOP_OUT" || { cat "$LOOP_OUT"; echo "loop did not finish: a call hung" >&2; return 1; }
	cat "$LOOP_OUT"
}

@test "sysinfo: kill -9 procviewd while a container calls sysinfo in a loop: 0 failed, 0 hung; values update after restart" {
	start_loop 8
	sleep 1
	kill -KILL "$(pv_daemon_pid)"
	# The limit changes while no daemon runs: sysinfo keeps answering, stale.
	"$RUNC" --root "$PV_RUNC_ROOT" update --memory 209715200 "$CID"
	sleep 1
	run cexec_ok 'probe show'
	[ "$status" -eq 0 ]
	[ "$(probe_val totalram <<<"$output")" -eq "$PV_MEM_LIMIT" ]
	pv_start_daemon
	# A restarted daemon renders again; sysinfo follows within 5 s.
	wait_until 5000 sh -c "$RUNC --root $PV_RUNC_ROOT exec $CID probe show | grep -qx totalram=209715200"
	run loop_result 15000
	echo "$output"
	[ "$status" -eq 0 ]
	grep -qx 'exit=0' <<<"$output"
	grep -q ' failed=0 ' <<<"$output"
	# The loop itself saw the new value.
	grep -q '^totalram=209715200 ' <<<"$output"
	[ "$(sed -n 's/^calls=\([0-9]*\).*/\1/p' <<<"$output")" -gt 1000 ]
}

@test "sysinfo: kill -9 of the agent's worker, then of its holder, while a container loops: 0 failed, 0 hung" {
	export PROCVIEW_AGENT_TEST_STALL_AFTER=2000
	pv_stop_agent # a new agent, with the knob
	start_loop 8
	holder=$(cat "$PV_STATE/agent.pid")
	local w
	# A worker that dies between receiving a call and answering it: the
	# call waits for the next worker, which finds it in the record and
	# answers it (the agent's test knob holds the 2000th call).
	wait_until 10000 test -s "$PV_STATE/agent/record-$holder.stalled"
	w=$(cat "$PV_STATE/agent/record-$holder.stalled")
	sleep 0.5
	kill -KILL "$w"
	wait_until 5000 grep -q 'answering a notification the previous worker received' "$PV_LOG"
	# And once at a random moment.
	w=$(pv_agent_workers "$holder")
	kill -KILL $w
	sleep 1
	# Now the holder: its worker keeps serving what it has.
	w=$(pv_agent_workers "$holder")
	echo "$w" >>"$PV_WORK/agent-orphans"
	kill -KILL "$holder"
	run loop_result 15000
	echo "$output"
	[ "$status" -eq 0 ]
	grep -qx 'exit=0' <<<"$output"
	grep -q ' failed=0 ' <<<"$output"
	# runc connects to the listener socket for every exec and fails when
	# nothing accepts: procview-runc starts the agent first.
	run timeout 20 "$PV_WRAPPER" --root "$PV_RUNC_ROOT" exec "$CID" probe show
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(probe_val totalram <<<"$output")" -eq "$PV_MEM_LIMIT" ]
	[ "$(cat "$PV_STATE/agent.pid")" != "$holder" ]
	# The loop ran past the holder's death: the orphaned worker answered it.
	run loop_result 1000
	[ "$(grep -c '^totalram=' "$LOOP_OUT")" -eq 1 ]
	# A new container is served by the new holder.
	first=$CID
	probe_bundle
	pv_start
	wait_views
	run cexec_ok 'probe show'
	[ "$(probe_val totalram <<<"$output")" -eq "$PV_MEM_LIMIT" ]
	# The orphan leaves once its last container is gone.
	"$RUNC" --root "$PV_RUNC_ROOT" kill "$first" KILL
	wait_until 5000 sh -c "! [ -d /proc/$w ] || grep -q '^State:.*Z' /proc/$w/status"
}
