# shellcheck shell=bash
# exec.bash: shared checks of procview exec for exec.bats and
# engine-exec.bats. Load after helpers.

# pvx ARGS...: procview exec with a timeout, stdin closed.
pvx() { timeout -k 5 "$PV_TIMEOUT" "$PV_CLI" exec "$@" </dev/null; }

# host_snapshot FILE: what must not change on the host: the host's mount
# table entries for /proc and /sys, `findmnt /proc`, and ps on long-lived
# host processes (the full `ps -e` changes with every process other tests
# start on this shared machine; the check is that ps still reads the host's
# PID namespace and sees init, this shell and the container's init).
host_snapshot() {
	{
		echo "== mountinfo /proc /sys"
		awk '$5 ~ /^\/(proc|sys)(\/|$)/' /proc/self/mountinfo
		echo "== findmnt /proc"
		findmnt /proc
		echo "== ps"
		ps -p "1,$$,${CPID:-1}" -o pid=,comm=
	} >"$1"
}

# exec_core NAME CPID HOSTNAME: procview exec NAME runs ps -e (only the
# container's processes: its init as pid 1 and ps), free -k (the memory
# limit), ip -o link (as nsenter sees the container's netns), hostname, and
# passes exit 7; the host's mounts and ps are unchanged afterwards.
exec_core() {
	local name=$1 cpid=$2 host=$3 out
	CPID=$cpid host_snapshot "$PV_WORK/core-before"
	out=$(pvx "$name" -- ps -e -o pid=,comm=)
	echo "ps: $out"
	[ "$(awk '$1 == 1 {print $2}' <<<"$out")" = "$(cat "/proc/$cpid/comm")" ] || return 1
	[ "$(wc -l <<<"$out")" -eq 2 ] || return 1
	out=$(pvx "$name" -- free -k)
	echo "free: $out"
	if [ "${EXEC_NO_VIEWS:-0}" = 1 ]; then
		# The engine did not register the container with procview (no
		# views to bind): free shows the kernel's /proc/meminfo.
		[ "$(awk '$1 == "Mem:" {print $2}' <<<"$out")" -eq "$(meminfo_kb MemTotal </proc/meminfo)" ] || return 1
	else
		[ "$(awk '$1 == "Mem:" {print $2}' <<<"$out")" -eq $((PV_MEM_LIMIT / 1024)) ] || return 1
	fi
	out=$(pvx "$name" -- ip -o link)
	[ "$out" = "$(nsenter -t "$cpid" -n ip -o link)" ] || { echo "ip: $out"; return 1; }
	out=$(pvx "$name" -- hostname)
	[ "$out" = "$host" ] || { echo "hostname: $out, want $host"; return 1; }
	local st=0
	pvx "$name" -- sh -c 'exit 7' || st=$?
	[ "$st" -eq 7 ] || { echo "exit status $st"; return 1; }
	CPID=$cpid host_snapshot "$PV_WORK/core-after"
	diff "$PV_WORK/core-before" "$PV_WORK/core-after"
}
