# shellcheck shell=bash disable=SC2016,SC2034
# hardening.bash: the hardening scenarios of issue 15, shared by the short
# versions in test/bats/hardening.bats (make test) and the long ones in
# test/reliability/reliability.bats (make reliability). Each takes its size
# as arguments and records its figures with rel_result.
#
# Load after helpers.bash and lib.bash.

# hard_fds N: procview-runc starts procviewd while the caller holds a
# descriptor without close-on-exec (fd 7, as a shell's `exec 7<file` or an
# engine's --preserve-fds leaves it); the daemon must not hold it. N
# containers are started that way, each after the daemon was stopped, so
# each start goes through the trampoline again.
hard_fds() {
	local n=$1 i pid leaked=0 canary=$PV_WORK/fd-canary
	echo canary >"$canary"
	for i in $(seq "$n"); do
		pv_stop_daemon
		new_bundle busybox
		exec 7<"$canary"
		pv_start
		local rc=$?
		exec 7<&-
		[ "$rc" -eq 0 ] || { echo "container $i did not start" >&2; return 1; }
		pid=$(pv_daemon_pid) || { echo "no procviewd after start $i" >&2; return 1; }
		if find "/proc/$pid/fd" -mindepth 1 -maxdepth 1 -lname "$canary" | grep -q .; then
			echo "procviewd $pid holds the caller's fd 7 ($canary):" >&2
			ls -l "/proc/$pid/fd" >&2
			leaked=$((leaked + 1))
		fi
	done
	rel_result hardening.fds.starts "$n"
	rel_result hardening.fds.leaked "$leaked"
	[ "$leaked" -eq 0 ] || false
}

# hard_dupkeys CASE...: config.json files whose keys repeat or differ only
# in case (sed puts the text of CASE's key in front of the top-level
# object's first member) run through procview-runc: the container starts,
# config.json stays byte-identical and the log says why.
#   linux-twice   "linux": {"sysctl": {}} before the real "linux"
#   hooks-case    "Hooks": {} (runc reads it as "hooks")
#   deep-repeat   "process" repeated with a different cwd
hard_dupkeys() {
	local c prefix before after bad=0
	for c in "$@"; do
		case $c in
		linux-twice) prefix='"linux": {"sysctl": {}},' ;;
		hooks-case) prefix='"Hooks": {},' ;;
		deep-repeat) prefix='"mounts": [{"destination": "/tmp", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid"], "Options": ["nodev"]}],' ;;
		*) echo "hard_dupkeys: unknown case $c" >&2; return 1 ;;
		esac
		new_bundle busybox
		set_cmd 'echo started'
		# The first "{" of the file opens the top-level object.
		sed -i "0,/{/s#{#{$prefix#" "$BUNDLE/config.json"
		before=$(sha256sum <"$BUNDLE/config.json")
		: >"$PV_LOG"
		run timeout -k 5 "$PV_TIMEOUT" "$PV_WRAPPER" --root "$PV_RUNC_ROOT" run -b "$BUNDLE" "$CID" </dev/null
		after=$(sha256sum <"$BUNDLE/config.json")
		if [ "$status" -ne 0 ] || [[ $output != *started* ]]; then
			echo "$c: container did not run ($status): $output" >&2
			bad=$((bad + 1))
		elif [ "$before" != "$after" ]; then
			echo "$c: config.json changed" >&2
			bad=$((bad + 1))
		elif ! grep -q 'ambiguous keys' "$PV_LOG"; then
			echo "$c: no reason in $PV_LOG:" >&2
			cat "$PV_LOG" >&2
			bad=$((bad + 1))
		fi
	done
	rel_result hardening.dupkeys.cases "$#"
	rel_result hardening.dupkeys.bad "$bad"
	[ "$bad" -eq 0 ] || false
}

# hard_uptime_s: the container's /proc/uptime, whole seconds.
hard_uptime_s() { cexec 'cat /proc/uptime' | awk '{printf "%d\n", $1}'; }

# hard_same_id N: N times, a container loses its poststop (SIGKILL, then
# runc forgets it) and is re-created with the same id while procviewd is
# stopped (SIGSTOP: both happen within one round). Afterwards the new
# container's state directory must survive the old one's clean-up and its
# views must be live: /proc/uptime advances with the refreshes.
hard_same_id() {
	local n=$1 i pid u1 u2 frozen=0 lost=0 interval
	interval=$(config_refresh_ms)
	new_bundle busybox
	pv_start || return 1
	wait_views || { echo "views never came" >&2; return 1; }
	for i in $(seq "$n"); do
		pid=$(pv_daemon_pid) || { echo "no procviewd" >&2; return 1; }
		kill -STOP "$pid"
		# Lose the poststop: kill the init, make runc forget the container.
		"$RUNC" --root "$PV_RUNC_ROOT" kill "$CID" KILL
		wait_until 5000 hard_stopped || { kill -CONT "$pid"; echo "container $i did not stop" >&2; return 1; }
		rm -rf "${PV_RUNC_ROOT:?}/$CID"
		if ! pv_start; then
			kill -CONT "$pid"
			echo "re-create $i failed" >&2
			return 1
		fi
		kill -CONT "$pid"
		# Two refreshes after the daemon resumed.
		sleep "$(awk -v ms="$interval" 'BEGIN {print 2 * ms / 1000 + 0.2}')"
		if [ ! -f "$PV_STATE/containers/$CID/meta.json" ]; then
			echo "round $i: the new container's state directory was removed" >&2
			lost=$((lost + 1))
		fi
		u1=$(hard_uptime_s) || return 1
		sleep "$(awk -v ms="$interval" 'BEGIN {print 2 * ms / 1000 + 1}')"
		u2=$(hard_uptime_s) || return 1
		if [ "$u2" -le "$u1" ]; then
			echo "round $i: /proc/uptime frozen at $u1 s in the re-created container" >&2
			frozen=$((frozen + 1))
		fi
	done
	rel_result hardening.same_id.restarts "$n"
	rel_result hardening.same_id.frozen "$frozen"
	rel_result hardening.same_id.state_lost "$lost"
	[ "$frozen" -eq 0 ] && [ "$lost" -eq 0 ] || false
}
hard_stopped() {
	local st
	st=$("$RUNC" --root "$PV_RUNC_ROOT" state "$CID" 2>/dev/null | jq -r .status) || return 1
	[ "$st" = stopped ]
}

# hard_propagation N: N containers whose /sys is an rshared bind of their
# parent's /sys, with rootfsPropagation "shared" (docker's
# `-v /sys:/sys:rshared`, Kubernetes' Bidirectional hostPath), started
# through procview-runc. The parent is a private mount namespace of the
# test (its /sys made rshared there, never on the host). Its mount table
# and its /sys/devices/system/cpu/online must stay what they were, and the
# skipped view must be named in procview's log and in runc's log.
hard_propagation() {
	local n=$1 i leaked=0 unlogged=0 out skipped
	for i in $(seq "$n"); do
		new_bundle busybox
		# Replace runc's own sysfs and cgroup mounts by the rshared bind.
		# runc's own mounts under a shared /sys (cgroup, the tmpfs masking
		# /sys/firmware) would propagate by themselves: left out, so only
		# procview's mounts are measured.
		update_config '
			.mounts |= map(select(.destination != "/sys" and .destination != "/sys/fs/cgroup"))
			| .linux.maskedPaths |= map(select(startswith("/sys/") | not))
			| .mounts += [{"destination": "/sys", "type": "bind", "source": "/sys", "options": ["rbind", "rshared", "nosuid", "noexec", "nodev"]}]
			| .linux.rootfsPropagation = "shared"'
		set_cmd 'sleep 100000'
		: >"$PV_LOG"
		: >"$BUNDLE/runc.log"
		out=$(PV_TIMEOUT=$PV_TIMEOUT BUNDLE=$BUNDLE CID=$CID PV_WRAPPER=$PV_WRAPPER PV_RUNC_ROOT=$PV_RUNC_ROOT \
			unshare --mount --propagation private sh -ec '
			mount --make-rshared /sys
			mounts() { awk "{print \$5, \$9, \$10}" /proc/self/mountinfo | sort; }
			mounts >"$BUNDLE/mounts.before"
			cat /sys/devices/system/cpu/online >"$BUNDLE/online.before"
			timeout -k 5 "$PV_TIMEOUT" "$PV_WRAPPER" --root "$PV_RUNC_ROOT" --log "$BUNDLE/runc.log" --log-format json \
				run -d -b "$BUNDLE" "$CID" </dev/null >"$BUNDLE/out.log" 2>&1 || { cat "$BUNDLE/out.log"; exit 1; }
			mounts >"$BUNDLE/mounts.after"
			cat /sys/devices/system/cpu/online >"$BUNDLE/online.after"
		' 2>&1) || { echo "container $i: $out" >&2; return 1; }
		if ! cmp -s "$BUNDLE/mounts.before" "$BUNDLE/mounts.after" || ! cmp -s "$BUNDLE/online.before" "$BUNDLE/online.after"; then
			echo "container $i: the parent's mounts or cpu/online changed:" >&2
			diff "$BUNDLE/mounts.before" "$BUNDLE/mounts.after" >&2
			diff "$BUNDLE/online.before" "$BUNDLE/online.after" >&2
			leaked=$((leaked + 1))
		fi
		if ! grep -q 'propagat' "$PV_LOG" || ! grep -q 'propagat' "$BUNDLE/runc.log"; then
			echo "container $i: no warning in both logs" >&2
			unlogged=$((unlogged + 1))
		fi
		# The /proc views sit on the container's own procfs: still mounted.
		skipped=$(grep -c 'level=warning.*view skipped' "$PV_LOG") || true
		"$RUNC" --root "$PV_RUNC_ROOT" delete --force "$CID" >/dev/null 2>&1 || true
	done
	rel_result hardening.propagation.skipped_views_last "$skipped"
	rel_result hardening.propagation.containers "$n"
	rel_result hardening.propagation.leaked "$leaked"
	rel_result hardening.propagation.unlogged "$unlogged"
	[ "$leaked" -eq 0 ] && [ "$unlogged" -eq 0 ] || false
}

# hard_threads NTHREADS CHANGES: a container with NTHREADS sleeping
# threads (test/reliability/threads.c) runs next to a small one; CHANGES
# times, the small one fills /dev/shm to a new size (on a trigger file the
# test drops into its rootfs) and the time until its meminfo view shows the
# new Shmem is measured (the view file on the host, polled every 10 ms,
# without forking). Shmem comes from memory.stat, which the daemon reads
# every round (limits only every fifth). The same changes are timed first
# without the big container; with it, no change may take more than one
# refresh interval (1 s) longer than the slowest of those.
# The big container's task scans must not hold up the rounds.
# kernel.pid_max is raised for the test if needed and restored afterwards.
hard_threads() {
	local nthreads=$1 changes=$2 big small pidmax tasks
	local old_refresh=${PV_REFRESH:-500ms}
	rel_restart_daemon_with 1s
	if ! gcc -O2 -static -o "$PV_WORK/threads" "$PV_REPO/test/reliability/threads.c"; then
		echo "cannot build threads.c (gcc, static libc)" >&2
		return 1
	fi
	new_bundle busybox
	small=$CID
	pv_start 'while :; do
		if [ -f /trigger ]; then dd if=/dev/zero of=/dev/shm/fill bs=1M count=$(cat /trigger) 2>/dev/null; rm -f /trigger; fi
		sleep 0.05
	done'
	wait_views
	hard_change_latency "$small" "$changes" 0 0
	local control=$HARD_WORST
	rel_result hardening.threads.control_worst_ms "$control"

	pidmax=$(cat /proc/sys/kernel/pid_max)
	if [ "$pidmax" -lt $((nthreads * 2 + 32768)) ]; then
		echo $((nthreads * 2 + 32768)) >/proc/sys/kernel/pid_max
	fi
	new_bundle busybox
	big=$CID
	install -m 0755 "$PV_WORK/threads" "$BUNDLE/rootfs/threads"
	# Kernel stacks count against the memory limit.
	update_config '.linux.resources.memory.limit = 8589934592'
	pv_start "exec /threads $nthreads >/tmp/started"
	tasks=/sys/fs/cgroup/pids/$PV_CGROUP_PARENT/$big/tasks
	[ -f "$tasks" ] || tasks=/sys/fs/cgroup/$PV_CGROUP_PARENT/$big/cgroup.threads
	if ! wait_until 120000 hard_has_threads "$tasks" "$nthreads"; then
		echo "only $(wc -l <"$tasks") threads started" >&2
		echo "$pidmax" >/proc/sys/kernel/pid_max
		return 1
	fi
	# Let the big container's first scans happen.
	sleep 6
	hard_change_latency "$small" "$changes" 0 $((control + 1000))
	echo "$pidmax" >/proc/sys/kernel/pid_max
	rel_result hardening.threads.threads "$(wc -l <"$tasks")"
	rel_result hardening.threads.changes "$changes"
	rel_result hardening.threads.refresh_ms 1000
	rel_result hardening.threads.bound_ms $((control + 1000))
	rel_result hardening.threads.worst_ms "$HARD_WORST"
	rel_result hardening.threads.late "$HARD_LATE"
	"$RUNC" --root "$PV_RUNC_ROOT" delete --force "$big" >/dev/null 2>&1 || true
	rel_restart_daemon_with "$old_refresh"
	[ "$HARD_LATE" -eq 0 ] || false
}

# hard_change_latency CID CHANGES FIRST BOUND: CHANGES changes of
# container CID's /dev/shm size (FIRST+1 and FIRST+2 MiB in turn), each
# timed until CID's meminfo view shows it; sets HARD_WORST (ms) and
# HARD_LATE (changes slower than BOUND ms).
hard_change_latency() {
	local cid=$1 changes=$2 first=$3 bound=$4 i want kb k v t0 lat
	local view=$PV_STATE/containers/$cid/views/meminfo
	HARD_WORST=0 HARD_LATE=0
	for i in $(seq "$changes"); do
		# Alternate sizes so every change differs from the last.
		want=$(((first + i % 2 + 1) * 1024))
		t0=$(now_ms)
		echo $((want / 1024)) >"$PV_WORK/bundles/$cid/rootfs/.trigger"
		mv "$PV_WORK/bundles/$cid/rootfs/.trigger" "$PV_WORK/bundles/$cid/rootfs/trigger"
		while :; do
			kb=0
			while read -r k v _; do
				if [ "$k" = Shmem: ]; then kb=$v; break; fi
			done <"$view"
			[ "$kb" -eq "$want" ] && break
			[ $(($(now_ms) - t0)) -gt 30000 ] && break
			sleep 0.01
		done
		lat=$(($(now_ms) - t0))
		[ "$lat" -gt "$HARD_WORST" ] && HARD_WORST=$lat
		[ "$lat" -gt "$bound" ] && HARD_LATE=$((HARD_LATE + 1))
		# Spread the changes over several 5 s task-scan periods.
		sleep "0.$((RANDOM % 10))$((RANDOM % 10))"
	done
}
hard_has_threads() { [ "$(wc -l <"$1")" -gt "$2" ]; }
