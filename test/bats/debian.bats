#!/usr/bin/env bats
# Delivery acceptance, real consumers: a Debian rootfs (test/rootfs/debian.sh)
# with procps, sysstat and python3-psutil, started through bin/procview-runc
# with 256 MiB and a 50000/100000 CPU quota. Each tool must run and report
# the container's limits.

load helpers

setup_file() { pv_setup_file; }
teardown_file() { pv_teardown_file; }
setup() {
	pv_setup
	requires binaries debootstrap
	new_bundle debian
	update_config '.process.env += ["LC_ALL=C", "COLUMNS=200"]'
	pv_start
	wait_views
}
teardown() { pv_teardown; }

@test "procps free: total is the memory limit" {
	run cexec 'free -b'
	[ "$status" -eq 0 ]
	echo "$output"
	total=$(awk '$1 == "Mem:" {print $2}' <<<"$output")
	[ "$total" -eq "$PV_MEM_LIMIT" ]
}

@test "procps top -bn1: runs and shows the memory limit" {
	run cexec 'top -bn1'
	[ "$status" -eq 0 ]
	echo "$output"
	# top prints "MiB Mem :    256.0 total".
	want=$(awk -v b="$PV_MEM_LIMIT" 'BEGIN {printf "%.1f", b / 1048576}')
	grep -E "Mem *:.* $want total" <<<"$output"
}

@test "procps top -bn2 -d1: a busy loop shows >= 90 us+sy" {
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
	run cexec 'vmstat 1 2'
	[ "$status" -eq 0 ]
	echo "$output"
	[ "${#lines[@]}" -eq 4 ]
}

@test "procps uptime: runs and reports under a minute of uptime" {
	run cexec 'uptime'
	[ "$status" -eq 0 ]
	echo "$output"
	# "up 0 min" / "up 1 min": the container's uptime, not the host's.
	grep -E 'up +[01] min' <<<"$output"
}

@test "procps ps aux: runs and lists the container's processes" {
	run cexec 'ps aux'
	[ "$status" -eq 0 ]
	echo "$output"
	grep -q 'sleep 100000' <<<"$output"
}

@test "sysstat iostat: runs and lists devices" {
	run cexec 'iostat -d'
	[ "$status" -eq 0 ]
	echo "$output"
	grep -q '^Device' <<<"$output"
}

@test "sysstat mpstat: runs" {
	run cexec 'mpstat 1 1'
	[ "$status" -eq 0 ]
	echo "$output"
	grep -q 'all' <<<"$output"
}

@test "python3-psutil: virtual_memory, cpu_count, cpu_times, disk_io_counters" {
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
	run cexec 'getconf _NPROCESSORS_ONLN'
	[ "$status" -eq 0 ]
	[ "$output" -eq "$(pv_cpus)" ]
}

@test "nproc is unaffected (documented): it reads sched_getaffinity, not /proc or /sys" {
	run cexec 'nproc'
	[ "$status" -eq 0 ]
	[ "$output" -eq "$(nproc)" ]
}

@test "a kept-open fd (lseek 0 + one read, as procps does) sees updates" {
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
