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
