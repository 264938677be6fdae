#!/usr/bin/env bats
# Delivery acceptance, real consumers: a Debian rootfs (test/rootfs/debian.sh)
# with procps, sysstat, util-linux, python3-psutil and nodejs, started through
# bin/procview-runc with 256 MiB and a 50000/100000 CPU quota. Each tool must
# report the container's limits and usage, checked against the cgroup's and
# the kernel's own numbers, never against procview's output.
#
# debian-runc12.bats is a symlink to this file: there every test runs on runc
# 1.2 (time namespaces; test/runtimes/runc12.sh builds it), here on the
# host's runc (Debian 12: 1.1.5, no time namespace).

load helpers

setup_file() {
	case ${BATS_TEST_FILENAME##*/} in
	*runc12*) [ "$(id -u)" -ne 0 ] || pv_use_runc12 ;;
	esac
	pv_setup_file
}
teardown_file() { pv_teardown_file; }
setup() {
	pv_setup
	requires binaries debootstrap
	new_bundle debian
	update_config '.process.env += ["LC_ALL=C", "COLUMNS=200"]'
}
teardown() { pv_teardown; }

# debian_start: start the bundle through procview-runc, wait for the views.
debian_start() {
	pv_start
	wait_views
}

# init_pid: the container's init as the host sees it.
init_pid() { "$RUNC" --root "$PV_RUNC_ROOT" state "$CID" | jq -r .pid; }

# init_age: seconds since the container's init started, from the host
# kernel's own clocks (its start time in /proc/PID/stat and /proc/uptime).
init_age() {
	local pid
	pid=$(init_pid)
	awk -v hz="$(getconf CLK_TCK)" -v st="$(sed 's/.*) //' "/proc/$pid/stat" | awk '{print $20}')" \
		'{printf "%.2f\n", $1 - st / hz}' /proc/uptime
}

# has_timens: the container's init has a time namespace with a boottime
# offset (runc >= 1.2 with procview-runc).
has_timens() {
	awk '$1 == "boottime" || $1 == "7" { if ($2 != 0 || $3 != 0) f = 1 } END { exit !f }' \
		"/proc/$(init_pid)/timens_offsets" 2>/dev/null
}

# within A B TOL: |A - B| <= TOL (decimals allowed).
within() {
	awk -v a="$1" -v b="$2" -v t="$3" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= t) }' ||
		{ echo "not within $3: $1 vs $2" >&2; return 1; }
}

# container_times: inside the container, everything that tells a process's
# age or the boot time, sampled together by one python3 (prints one line):
#   now uptime btime psutil.boot_time create_time(1) etimes(1) lstart(1)
#   node.os.uptime max(create_time - now over all) min(etimes over all)
container_times() {
	cat >"$BUNDLE/rootfs/tmp/times.py" <<'PY'
import subprocess, time, psutil
def run(*argv):
    return subprocess.run(argv, capture_output=True, text=True, check=True).stdout
now = time.time()
up = float(open('/proc/uptime').read().split()[0])
btime = int([l for l in open('/proc/stat') if l.startswith('btime ')][0].split()[1])
ct = psutil.Process(1).create_time()
et = int(run('ps', '-o', 'etimes=', '-p', '1'))
ls = time.mktime(time.strptime(run('ps', '-o', 'lstart=', '-p', '1').strip(), '%a %b %d %H:%M:%S %Y'))
node = float(run('node', '-e', 'console.log(require("os").uptime())'))
ahead = max(p.create_time() - now for p in psutil.process_iter())
etmin = min(int(x) for x in run('ps', '-o', 'etimes=', '-e').split())
print(now, up, btime, psutil.boot_time(), ct, et, ls, node, ahead, etmin)
PY
	cexec 'python3 /tmp/times.py'
}

# check_times: ps ELAPSED and lstart, psutil create_time and every process
# age agree with the init's real age (host kernel), never negative or in the
# future; btime + uptime is now; and /proc/uptime (and Node's os.uptime) is
# WANT: "age" (the container's) or "host" (the host's /proc/uptime).
check_times() {
	local want=$1 age0 age1 h0 h1 out
	age0=$(init_age) h0=$(cut -d' ' -f1 /proc/uptime)
	out=$(container_times)
	age1=$(init_age) h1=$(cut -d' ' -f1 /proc/uptime)
	echo "init age $age0..$age1 s, host uptime $h0..$h1 s"
	echo "now uptime btime boot_time create_time etimes lstart node ahead etmin: $out"
	read -r now up btime boot ct et ls node ahead etmin <<<"$out"
	# Process ages: ps etimes, ps lstart (1 s resolution), psutil.
	awk -v a="$age0" -v b="$age1" -v x="$et" 'BEGIN { exit !(x >= int(a) - 1 && x <= b + 1) }' || { echo "ps etimes $et"; return 1; }
	awk -v a="$age0" -v b="$age1" -v x="$now" -v s="$ls" 'BEGIN { d = x - s; exit !(d >= a - 2 && d <= b + 2) }' || { echo "ps lstart"; return 1; }
	awk -v a="$age0" -v b="$age1" -v x="$now" -v s="$ct" 'BEGIN { d = x - s; exit !(d >= a - 1 && d <= b + 1) }' || { echo "psutil create_time"; return 1; }
	awk -v x="$ahead" 'BEGIN { exit !(x <= 1) }' || { echo "a process starts $ahead s in the future"; return 1; }
	[ "$etmin" -ge 0 ] || { echo "negative ps etimes"; return 1; }
	# btime + uptime = now; psutil.boot_time is btime.
	within "$(awk -v b="$btime" -v u="$up" 'BEGIN { printf "%.2f", b + u }')" "$now" 2
	within "$boot" "$btime" 1
	if [ "$want" = age ]; then
		awk -v a="$age0" -v b="$age1" -v x="$up" 'BEGIN { exit !(x >= a - 2 && x <= b + 2) }' || { echo "uptime $up is not the container's age"; return 1; }
		awk -v a="$age0" -v b="$age1" -v x="$node" 'BEGIN { exit !(x >= a - 2 && x <= b + 2) }' || { echo "node os.uptime $node"; return 1; }
	else
		awk -v a="$h0" -v b="$h1" -v x="$up" 'BEGIN { exit !(x >= a - 2 && x <= b + 2) }' || { echo "uptime $up is not the host's"; return 1; }
		awk -v a="$h0" -v b="$h1" -v x="$node" 'BEGIN { exit !(x >= a - 2 && x <= b + 2) }' || { echo "node os.uptime $node"; return 1; }
	fi
}

@test "times agree (default uptime = auto): ps, psutil, node, /proc/uptime, btime; none negative or in the future" {
	debian_start
	if has_timens; then
		check_times age
	else
		check_times host
	fi
}

@test "uptime = container: with a time namespace as auto; without, /proc/uptime is the container's age" {
	set_annotation io.procview.uptime container
	debian_start
	if has_timens; then
		check_times age
		return
	fi
	age=$(init_age)
	up=$(cexec 'cut -d" " -f1 /proc/uptime')
	echo "uptime $up, init age $age"
	within "$up" "$age" 3
}

@test "uptime = host: the host's uptime without a time namespace, the container's age with one" {
	set_annotation io.procview.uptime host
	debian_start
	if has_timens; then
		check_times age
	else
		check_times host
	fi
}

@test "runtime under test: runc 1.2 has a time namespace, Debian's runc 1.1.5 none" {
	debian_start
	v=$("$RUNC" --version | awk 'NR == 1 {print $3}')
	echo "runc $v"
	case $v in
	1.1.*)
		run has_timens
		[ "$status" -ne 0 ]
		;;
	*)
		has_timens
		;;
	esac
}

@test "procps free: total is the memory limit" {
	debian_start
	run cexec 'free -b'
	[ "$status" -eq 0 ]
	echo "$output"
	total=$(awk '$1 == "Mem:" {print $2}' <<<"$output")
	[ "$total" -eq "$PV_MEM_LIMIT" ]
}

@test "procps top -bn1: runs and shows the memory limit" {
	debian_start
	run cexec 'top -bn1'
	[ "$status" -eq 0 ]
	echo "$output"
	# top prints "MiB Mem :    256.0 total".
	want=$(awk -v b="$PV_MEM_LIMIT" 'BEGIN {printf "%.1f", b / 1048576}')
	grep -E "Mem *:.* $want total" <<<"$output"
}

@test "procps top -bn2 -d1: a busy loop shows >= 90 us+sy" {
	debian_start
	cexec_ok 'nohup sh -c "while :; do :; done" >/dev/null 2>&1 &'
	sleep 1
	u1=$(cgroup_cpu_usec) t1=$(now_ms)
	run cexec 'top -bn2 -d1'
	u2=$(cgroup_cpu_usec) t2=$(now_ms)
	share=$(quota_share_percent "$u1" "$u2" "$t1" "$t2")
	echo "cgroup got $share % of its quota"
	[ "$status" -eq 0 ]
	# The second frame covers the 1 s interval; the first is since start.
	line=$(grep '^%Cpu' <<<"$output" | tail -n1)
	echo "$line"
	usy=$(sed -E 's/.*: *([0-9.]+) us, *([0-9.]+) sy.*/\1 \2/' <<<"$line" | awk '{printf "%d", $1 + $2}')
	[ "$usy" -ge 90 ] || skip_if_starved "$share"
	[ "$usy" -ge 90 ]
}

@test "procps vmstat 1 2: runs, two samples" {
	debian_start
	run cexec 'vmstat 1 2'
	[ "$status" -eq 0 ]
	echo "$output"
	[ "${#lines[@]}" -eq 4 ]
}

@test "procps uptime -s: boot time is the container's start (time namespace) or the host's boot" {
	debian_start
	run cexec 'uptime -s; uptime'
	[ "$status" -eq 0 ]
	echo "$output"
	got=$(date -d "${lines[0]}" +%s)
	if has_timens; then
		want=$(awk -v a="$(init_age)" -v n="$(date +%s)" 'BEGIN { printf "%d", n - a }')
	else
		want=$(date -d "$(uptime -s)" +%s)
	fi
	echo "uptime -s: $got, want $want"
	within "$got" "$want" 2
}

@test "procps ps aux: runs and lists the container's processes" {
	debian_start
	run cexec 'ps aux'
	[ "$status" -eq 0 ]
	echo "$output"
	grep -q 'sleep 100000' <<<"$output"
}

@test "sysstat iostat: runs and lists devices" {
	debian_start
	run cexec 'iostat -d'
	[ "$status" -eq 0 ]
	echo "$output"
	grep -q '^Device' <<<"$output"
}

@test "sysstat mpstat: runs" {
	debian_start
	run cexec 'mpstat 1 1'
	[ "$status" -eq 0 ]
	echo "$output"
	grep -q 'all' <<<"$output"
}

@test "python3-psutil: virtual_memory, cpu_count, cpu_times, disk_io_counters" {
	debian_start
	run cexec "python3 -c '
import psutil
vm = psutil.virtual_memory()
print(vm.total, psutil.cpu_count())
assert vm.total == $PV_MEM_LIMIT, vm
assert psutil.cpu_count() == $(pv_cpus), psutil.cpu_count()
t = psutil.cpu_times()
assert t.user >= 0 and t.idle >= 0, t
d = psutil.disk_io_counters(perdisk=True)
assert d is not None
print(\"ok\")
'"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "${lines[-1]}" = ok ]
}

@test "getconf _NPROCESSORS_ONLN is the CPU view" {
	debian_start
	run cexec 'getconf _NPROCESSORS_ONLN'
	[ "$status" -eq 0 ]
	[ "$output" -eq "$(pv_cpus)" ]
}

@test "nproc is unaffected (documented): it reads sched_getaffinity, not /proc or /sys" {
	debian_start
	run cexec 'nproc'
	[ "$status" -eq 0 ]
	[ "$output" -eq "$(nproc)" ]
}

@test "a kept-open fd (lseek 0 + one read, as procps does) sees updates" {
	debian_start
	run cexec "python3 -c '
import os, time
fd = os.open(\"/proc/meminfo\", os.O_RDONLY)
def memfree():
    os.lseek(fd, 0, os.SEEK_SET)
    data = os.read(fd, 65536).decode()
    for l in data.splitlines():
        if l.startswith(\"MemFree:\"):
            return int(l.split()[1])
    raise SystemExit(\"no MemFree in \" + repr(data))
before = memfree()
with open(\"/dev/shm/kept-open\", \"wb\") as f:
    f.write(bytes(64 << 20))
deadline = time.time() + 3
while time.time() < deadline:
    drop = before - memfree()
    if drop >= 56 << 10:
        print(\"ok\", before, drop)
        raise SystemExit(0)
    time.sleep(0.1)
raise SystemExit(\"MemFree did not drop: before %d drop %d kB\" % (before, drop))
'"
	echo "$output"
	[ "$status" -eq 0 ]
}
