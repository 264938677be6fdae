#!/bin/sh
# guest-tests.sh — runs inside the cgroup v2 VM (busybox sh) and prints TAP.
# Expected values are derived from the limits this script sets and from the
# kernel's own files, never from procview's output.
export PATH=/procview/bin:/bin:/sbin:/usr/bin:/usr/sbin
export PROCVIEW_CONFIG=/etc/procview/config.toml
CG=/sys/fs/cgroup
BIN=/procview/bin
ROOTFS=/procview/rootfs
T=/tmp/pvt
mkdir -p "$T"

n=0
fails=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
# notok DESC [DIAG...] prints a failure with diagnostics as TAP comments.
notok() {
	n=$((n + 1)); fails=$((fails + 1))
	echo "not ok $n - $1"; shift
	for l in "$@"; do printf '%s\n' "$l" | sed 's/^/#   /'; done
}
# check DESC DIAG CMD... : ok if CMD succeeds.
check() {
	d=$1 g=$2; shift 2
	if "$@"; then ok "$d"; else notok "$d" "$g"; fi
}
diag() { printf '%s\n' "$@" | sed 's/^/# /'; }
# near GOT WANT PCT : |GOT-WANT| <= WANT*PCT/100
near() { [ -n "$1" ] && [ "$1" -ge $(($2 - $2 * $3 / 100)) ] && [ "$1" -le $(($2 + $2 * $3 / 100)) ]; }
# grew BEFORE AFTER MIN : both numbers present and AFTER-BEFORE >= MIN
grew() { [ -n "$1" ] && [ -n "$2" ] && [ $(($2 - $1)) -ge "$3" ]; }
# dropped BEFORE AFTER MIN : both present and BEFORE-AFTER >= MIN
dropped() { [ -n "$1" ] && [ -n "$2" ] && [ $(($1 - $2)) -ge "$3" ]; }
# grew_near BEFORE AFTER WANT PCT : both present and AFTER-BEFORE near WANT
grew_near() { [ -n "$1" ] && [ -n "$2" ] && near $(($2 - $1)) "$3" "$4"; }
# same A B : A non-empty and equal to B
same() { [ -n "$1" ] && [ "$1" = "$2" ]; }
# between LO X HI : LO <= X <= HI, all present
between() { [ -n "$1" ] && [ -n "$2" ] && [ -n "$3" ] && [ "$1" -le "$2" ] && [ "$2" -le "$3" ]; }
# some_total : the "total=" of the "some" line of a pressure file on stdin
some_total() { sed -n 's/^some .*total=\([0-9]*\).*/\1/p'; }
# wbytes DEV_MAJ:MIN : wbytes of io.stat on stdin
wbytes() { awk -v d="$1" '$1 == d { for (i = 2; i <= NF; i++) if ($i ~ /^wbytes=/) { sub("wbytes=", "", $i); print $i } }'; }
# changed A B : both look like /proc/uptime and differ
changed() { looks_uptime "$1" && looks_uptime "$2" && [ "$1" != "$2" ]; }
# field KEY : value of "KEY: N ..." on stdin (meminfo/vmstat style)
field() { awk -v k="$1" '$1 == k":" || $1 == k { print $2; exit }'; }
min() { if [ "$1" -le "$2" ]; then echo "$1"; else echo "$2"; fi; }
# until_ok SECONDS CMD... : run CMD every 0.2 s until it succeeds or SECONDS
# have passed (status of the last try). For comparisons of a view with a
# live counter: they wait for the refresh that follows a change, and CMD
# reads the counter around the view so both are sampled together.
until_ok() {
	_end=$(($(uptime_ms) + $1 * 1000)); shift
	until "$@"; do
		[ "$(uptime_ms)" -lt "$_end" ] || return 1
		sleep 0.2
	done
}
# in_cg GROUP CMD... runs CMD inside cgroup GROUP.
in_cg() { g=$1; shift; sh -c 'echo $$ >"$0/cgroup.procs" && exec "$@"' "$CG/$g" "$@"; }
# shape: a pressure file with every number replaced, to compare layouts.
# procview pads view files with trailing blanks (fixed-length rewrites), so
# trailing whitespace is ignored.
shape() { sed -E 's/[0-9]+(\.[0-9]+)?/N/g; s/[[:space:]]+$//'; }
# busy_pct BEFORE AFTER : busy % between two "cpu " lines of /proc/stat.
busy_pct() {
	echo "$1 $2" | awk '{
		t1 = 0; for (i = 2; i <= 9; i++) t1 += $i
		t2 = 0; for (i = 13; i <= 20; i++) t2 += $i
		idle = ($16 + $17) - ($5 + $6); dt = t2 - t1
		if (dt <= 0) { print -1; exit }
		printf "%d\n", (dt - idle) * 100 / dt }'
}
# data_disk prints the name of the block device mounted on /mnt/data (vda).
data_disk() { awk '$2 == "/mnt/data" { sub("/dev/", "", $1); print $1; exit }' /proc/mounts; }
# wsectors DEV : sectors written (field 10) for DEV on stdin (diskstats).
wsectors() { awk -v d="$1" '$3 == d { print $10; exit }'; }

mkdir -p /etc/procview
cat >/etc/procview/config.toml <<'EOF'
state_root = "/run/procview"
refresh_interval = "1s"
log_level = "debug"
log_file = "/run/procview.log"
runtime = "/usr/sbin/runc"
fail_mode = "open"
uptime = "container"
EOF
# uptime = "container": the checks below use the uptime view (container age,
# its refresh); fidelity_checks runs a container with the default (auto).

# ---------------------------------------------------------------- smoke ----
fs=$(/usr/bin/stat -fc %T $CG)
check "cgroup2 is mounted at /sys/fs/cgroup" "stat -fc %T says $fs" [ "$fs" = cgroup2fs ]
sc=$(cat $CG/cgroup.subtree_control)
missing=
for c in cpu cpuset io memory pids; do
	case " $sc " in *" $c "*) ;; *) missing="$missing $c" ;; esac
done
check "controllers cpu cpuset io memory pids enabled at the root" "missing:$missing (subtree_control: $sc)" [ -z "$missing" ]
hostswap=$(field SwapTotal </proc/meminfo)
check "swap is enabled" "SwapTotal $hostswap kB" [ "${hostswap:-0}" -gt 0 ]
dd_disk=$(data_disk)
check "virtio data disk mounted on /mnt/data" "$(cat /proc/mounts)" [ -n "$dd_disk" ]
check "pressure files exist (psi=1)" "$(ls $CG)" test -r $CG/cpu.pressure -a -r /proc/pressure/io

# usage_usec GROUPDIR and uptime_ms: the kernel's own clocks for busy_ok.
usage_usec() { field usage_usec <"$1/cpu.stat"; }
uptime_ms() { awk '{ printf "%d\n", $1 * 1000 }' /proc/uptime; }
# quota_pct U1 U2 MS1 MS2 QUOTA_CPUS : % of the quota the cgroup really used,
# from cpu.stat usage_usec and the host clock.
quota_pct() { awk -v u=$(($2 - $1)) -v ms=$(($4 - $3)) -v q="$5" 'BEGIN { if (ms <= 0) print -1; else printf "%d\n", u / (ms * 10 * q) }'; }
# busy_ok PCT KERNEL_PCT: procview's busy % agrees within 10 points with the
# share of its quota the kernel says the cgroup used over the same window
# (capped at 100: the view never shows more). At full quota that is >= 90 %;
# when a loaded host starves the TCG vCPUs, procview must show the same
# lower figure (test/bats/helpers.bash busy_matches_share is the same rule).
busy_ok() {
	[ -n "$1" ] && [ -n "$2" ] && [ "$1" -ge 0 ] && [ "$2" -ge 0 ] || return 1
	_k=$(min "$2" 100)
	[ "$1" -ge $((_k - 10)) ] && [ "$1" -le $((_k + 10)) ]
}

# write_bundle DIR ID ARGS... writes an OCI bundle for a busybox container
# with a 256 MiB memory limit and a 50000/100000 CPU quota.
write_bundle() {
	b=$1 id=$2; shift 2
	args=
	for a in "$@"; do args="$args${args:+, }\"$a\""; done
	mkdir -p "$b" "/mnt/data/$id"
	cat >"$b/config.json" <<EOF
{
  "ociVersion": "1.0.2",
  "process": {
    "terminal": false,
    "user": {"uid": 0, "gid": 0},
    "args": [$args],
    "env": ["PATH=/bin", "TERM=dumb"],
    "cwd": "/",
    "noNewPrivileges": true
  },
  "root": {"path": "$ROOTFS", "readonly": false},
  "hostname": "$id",
  "mounts": [
    {"destination": "/proc", "type": "proc", "source": "proc"},
    {"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
    {"destination": "/dev/pts", "type": "devpts", "source": "devpts", "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"]},
    {"destination": "/dev/shm", "type": "tmpfs", "source": "shm", "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=131072k"]},
    {"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", "ro"]},
    {"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup", "options": ["nosuid", "noexec", "nodev", "relatime", "ro"]},
    {"destination": "/data", "type": "bind", "source": "/mnt/data/$id", "options": ["rbind", "rw"]}
  ],
  "linux": {
    "cgroupsPath": "/procview-test-$id",
    "resources": {
      "memory": {"limit": 268435456},
      "cpu": {"quota": 50000, "period": 100000}
    },
    "namespaces": [{"type": "pid"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"}, {"type": "cgroup"}]
  }
}
EOF
}

write_bundle "$T/smoke" smoke cat /sys/fs/cgroup/memory.max
out=$(timeout 60 runc run -b "$T/smoke" smoke 2>&1 </dev/null)
check "runc runs a busybox container; memory.max inside is 268435456" "runc run: $out" [ "$out" = 268435456 ]
timeout 10 runc delete -f smoke >/dev/null 2>&1

# ------------------------------------------------------------- procview ----
have() {
	if [ -x "$BIN/$1" ]; then return 0; fi
	notok "$2" "procview binary $BIN/$1 is missing: $(grep "^$1:" $BIN/BUILD-STATUS)"
	return 1
}
PV="$BIN/procview"
render() { timeout 20 "$PV" render --cgroup "$1" --cgroup-root $CG --proc-root /proc "$2" 2>"$T/render.err"; }
rerr() { echo "procview render: $(head -c 600 "$T/render.err")"; }

# --- CLI: procview render on cgroups this script creates.
A=procview-test-a
mkdir -p $CG/$A
echo 268435456 >$CG/$A/memory.max
echo "50000 100000" >$CG/$A/cpu.max
if have procview "cli: procview render works"; then
	mi=$(render /$A meminfo)
	if [ -n "$mi" ]; then ok "cli: procview render works"; else notok "cli: procview render works" "$(rerr)"; fi

	got=$(echo "$mi" | field MemTotal)
	check "cli: MemTotal = memory.max 256 MiB = 262144 kB" "MemTotal=$got; $(rerr)" [ "$got" = 262144 ]

	# 50 MiB into a tmpfs by a task in the cgroup: shmem is charged to it.
	mkdir -p /tmp/pv-shm && mount -t tmpfs -o size=100m tmpfs /tmp/pv-shm
	b_free=$(echo "$mi" | field MemFree) b_avail=$(echo "$mi" | field MemAvailable) b_shm=$(echo "$mi" | field Shmem)
	in_cg $A dd if=/dev/zero of=/tmp/pv-shm/f bs=1M count=50 2>/dev/null
	mi2=$(render /$A meminfo)
	a_free=$(echo "$mi2" | field MemFree) a_avail=$(echo "$mi2" | field MemAvailable) a_shm=$(echo "$mi2" | field Shmem)
	cur_kb=$(($(cat $CG/$A/memory.current) / 1024))
	check "cli: Shmem grows by ~51200 kB after 50 MiB in tmpfs" "Shmem $b_shm -> $a_shm" grew_near "$b_shm" "$a_shm" 51200 10
	check "cli: MemFree drops by >= 46080 kB" "MemFree $b_free -> $a_free" dropped "$b_free" "$a_free" 46080
	check "cli: MemFree = MemTotal - memory.current (+-2%)" "MemFree $a_free, memory.current $cur_kb kB" near "$a_free" $((262144 - cur_kb)) 2
	check "cli: MemAvailable excludes shmem (drops by >= 46080 kB)" "MemAvailable $b_avail -> $a_avail" dropped "$b_avail" "$a_avail" 46080
	check "cli: MemAvailable + Shmem <= MemTotal" "MemAvailable $a_avail Shmem $a_shm" [ $((a_avail + a_shm)) -le 262144 ]
	rm -f /tmp/pv-shm/f
	umount /tmp/pv-shm

	# Swap: SwapTotal = min(memory.swap.max, host swap).
	echo 33554432 >$CG/$A/memory.swap.max
	got=$(render /$A meminfo | field SwapTotal)
	want=$(min 32768 "$hostswap")
	check "cli: SwapTotal = min(swap.max 32 MiB, host) = $want kB" "SwapTotal=$got; $(rerr)" [ "$got" = "$want" ]
	got=$(render /$A swaps | awk 'NR > 1 { s += $3 } END { print s + 0 }')
	check "cli: swaps Size column sums to $want kB" "swaps: $(render /$A swaps)" [ "$got" = "$want" ]
	echo max >$CG/$A/memory.swap.max
	got=$(render /$A meminfo | field SwapTotal)
	check "cli: SwapTotal = host swap ($hostswap kB) when swap.max is max" "SwapTotal=$got" [ "$got" = "$hostswap" ]

	# CPU: quota 0.5 -> one CPU.
	got=$(render /$A online | tr -d ' \n')
	check "cli: online is 0 at quota 0.5" "online='$got'; $(rerr)" [ "$got" = 0 ]
	got=$(render /$A cpuinfo | grep -c '^processor')
	check "cli: cpuinfo lists one processor" "processors=$got; $(rerr)" [ "$got" = 1 ]

	# vmstat pgfault: procview's window encloses the kernel's, so its delta
	# must be at least the delta of the cgroup's own memory.stat pgfault.
	v1=$(render /$A vmstat | field pgfault)
	k1=$(field pgfault <$CG/$A/memory.stat)
	in_cg $A sh -c 'i=0; while [ $i -lt 40 ]; do /bin/busybox true; i=$((i + 1)); done'
	k2=$(field pgfault <$CG/$A/memory.stat)
	v2=$(render /$A vmstat | field pgfault)
	k3=$(field pgfault <$CG/$A/memory.stat)
	check "cli: vmstat pgfault grows at least as much as memory.stat pgfault (+$((k2 - k1)))" "pgfault $v1 -> $v2; memory.stat $k1 -> $k2; $(rerr)" \
		grew "$v1" "$v2" $((k2 - k1))
	check "cli: vmstat pgfault is the cgroup's (memory.stat $k2..$k3), not the host's" "pgfault $v2" between "$k2" "$v2" "$k3"

	# diskstats: 16 MiB of direct I/O = 32768 sectors.
	# A device the cgroup never used may be absent: count it as 0.
	s1=$(render /$A diskstats | wsectors "$dd_disk")
	s1=${s1:-0}
	in_cg $A dd if=/dev/zero of=/mnt/data/pv-direct bs=1M count=16 oflag=direct 2>/dev/null
	devno=$(awk -v d="$dd_disk" '$3 == d { print $1 ":" $2 }' /proc/diskstats)
	# io.stat read just before and just after the render: the render's
	# sample lies between them.
	w1=$(wbytes "$devno" <$CG/$A/io.stat)
	s2=$(render /$A diskstats | wsectors "$dd_disk")
	w2=$(wbytes "$devno" <$CG/$A/io.stat)
	check "cli: diskstats $dd_disk sectors written +32768 (+-10%) after 16 MiB O_DIRECT" "sectors $s1 -> $s2; io.stat: $(cat $CG/$A/io.stat); $(rerr)" \
		grew_near "$s1" "$s2" 32768 10
	check "cli: diskstats $dd_disk sectors written = io.stat wbytes/512 ($((${w1:-0} / 512))..$((${w2:-0} / 512)))" "sectors $s2; io.stat: $(cat $CG/$A/io.stat)" \
		between $((${w1:-0} / 512)) "$s2" $((${w2:-0} / 512))
	rm -f /mnt/data/pv-direct

	# pressure files have the cgroup's *.pressure layout.
	for r in cpu memory io; do
		got=$(render /$A "pressure/$r" | shape)
		want=$(shape <$CG/$A/$r.pressure)
		check "cli: pressure/$r has the shape of $r.pressure" "got: $got; want: $want; $(rerr)" same "$got" "$want"
	done

	# Busy % at full quota, from two stat samples.
	in_cg $A sh -c 'while :; do :; done' &
	busy=$!
	sleep 1
	# The kernel's figure over the renders' own window: usage and clock
	# read on both sides of each render, each end the midpoint of its pair.
	ua=$(usage_usec $CG/$A) ma=$(uptime_ms)
	c1=$(render /$A stat | grep '^cpu ')
	ub=$(usage_usec $CG/$A) mb=$(uptime_ms)
	u1=$(((ua + ub) / 2)) m1=$(((ma + mb) / 2))
	sleep 3
	ua=$(usage_usec $CG/$A) ma=$(uptime_ms)
	c2=$(render /$A stat | grep '^cpu ')
	ub=$(usage_usec $CG/$A) mb=$(uptime_ms)
	u2=$(((ua + ub) / 2)) m2=$(((ma + mb) / 2))
	kill $busy; wait $busy 2>/dev/null
	pct=$(busy_pct "$c1" "$c2")
	kp=$(quota_pct "$u1" "$u2" "$m1" "$m2" 0.5)
	check "cli: stat busy >= 90% with one busy loop at quota 0.5 (kernel: $kp% of quota)" "busy=$pct%; '$c1' -> '$c2'; cpu.stat: $(tr '\n' ' ' <$CG/$A/cpu.stat)" busy_ok "$pct" "$kp"

	# Nested: the smaller ancestor limit wins.
	N=procview-test-nest
	mkdir -p $CG/$N
	echo "+memory +cpu" >$CG/$N/cgroup.subtree_control
	echo 134217728 >$CG/$N/memory.max
	mkdir -p $CG/$N/leaf
	echo 536870912 >$CG/$N/leaf/memory.max
	got=$(render /$N/leaf meminfo | field MemTotal)
	check "cli: nested ancestor 128M, leaf 512M -> MemTotal 131072 kB" "MemTotal=$got; $(rerr)" [ "$got" = 131072 ]
	rmdir $CG/$N/leaf $CG/$N
fi
rmdir $CG/$A 2>/dev/null

# --- Containers through procview-runc (hook + daemon).
C=ctr1
CGC=$CG/procview-test-$C
# cx CMD... runs CMD in the container; stdout only (errors go to exec.err).
# Generous timeout: on a loaded host, runc exec under TCG can take 10+ s.
cx() { timeout 60 runc exec $C "$@" 2>>"$T/exec.err"; }
# looks_uptime "A B": two decimal numbers, as /proc/uptime.
looks_uptime() { echo "$1" | grep -Eq '^[0-9]+\.[0-9]+ +[0-9]+\.[0-9]+[[:space:]]*$'; }
# vf NAME: the host-side file of the container's view NAME, the one the
# container's bind mount shows. Comparisons with live cgroup counters read
# it from here: a `runc exec` would put runc init (memory, threads, page
# faults, CPU) into the cgroup while the daemon samples it.
vf() {
	_d=/run/procview/containers/$C
	[ -d "$_d" ] || _d=$(dirname "$(grep -l "\"$C\"" /run/procview/containers/*/meta.json 2>/dev/null | head -n1)")
	echo "$_d/views/$1"
}
# stat_sample: wait (up to 12 s) for the daemon's next rewrite of the stat
# view, then set s_line (its "cpu " line), s_u (usage_usec) and s_m (clock)
# read right after it: the view and the kernel's counter sampled together.
stat_sample() {
	_f=$(vf stat)
	_first=$(head -n1 "$_f")
	_end=$(($(uptime_ms) + 12000))
	while s_line=$(head -n1 "$_f") && [ "$s_line" = "$_first" ]; do
		[ "$(uptime_ms)" -lt "$_end" ] || return 1
		sleep 0.05
	done
	s_u=$(usage_usec $CGC) s_m=$(uptime_ms)
}
if have procview-runc "ctr: procview-runc run starts a container" &&
	have procview-hook "ctr: procview-hook is present" &&
	have procviewd "ctr: procviewd is present"; then
	attempted=1
	write_bundle "$T/$C" $C sleep 3600
	host_up0=$(cut -d' ' -f1 /proc/uptime | cut -d. -f1)
	# Output to a file: with -d the container inherits runc's stdio, and a
	# pipe would keep $(...) waiting for the container to exit.
	timeout 60 procview-runc run -d -b "$T/$C" $C </dev/null >"$T/run.out" 2>&1
	rc=$?
	st=$(runc state $C 2>/dev/null | grep '"status"')
	case $st in *running*) running=1 ;; *) running=0 ;; esac
fi
if [ "${running:-0}" = 1 ]; then
	ok "ctr: procview-runc run starts a container"
elif [ "${attempted:-0}" = 1 ]; then
	notok "ctr: procview-runc run starts a container (the other container tests are skipped)" "procview-runc run exit $rc: $(head -c 1500 "$T/run.out")" "state: $st" "log: $(tail -n 20 /run/procview.log 2>/dev/null)"
fi
if [ "${running:-0}" = 1 ]; then
	mounts=$(cx cat /proc/self/mountinfo)
	missing=
	for f in /proc/meminfo /proc/cpuinfo /proc/stat /proc/uptime /proc/loadavg /proc/diskstats /proc/swaps /proc/vmstat \
		/proc/pressure/cpu /proc/pressure/memory /proc/pressure/io /sys/devices/system/cpu/online; do
		echo "$mounts" | awk -v f="$f" '$5 == f { found = 1 } END { exit !found }' || missing="$missing $f"
	done
	check "ctr: every view is mounted in the container" "not mounted:$missing; log: $(tail -n 10 /run/procview.log 2>/dev/null)" [ -z "$missing" ]

	mi=$(cx cat /proc/meminfo)
	got=$(echo "$mi" | field MemTotal)
	check "ctr: MemTotal = 262144 kB" "MemTotal=$got" [ "$got" = 262144 ]

	got=$(cx cat /sys/devices/system/cpu/online | tr -d ' \n')
	check "ctr: /sys/devices/system/cpu/online is 0" "online='$got'" [ "$got" = 0 ]
	got=$(cx grep -c '^processor' /proc/cpuinfo)
	check "ctr: cpuinfo lists one processor" "processors=$got" [ "$got" = 1 ]

	# Container uptime counts from its start, not from boot.
	# Host clock read after the container's: runc exec can take seconds.
	up=$(cx cat /proc/uptime | cut -d' ' -f1 | cut -d. -f1)
	host_up1=$(cut -d' ' -f1 /proc/uptime | cut -d. -f1)
	check "ctr: uptime ($up s) <= time since start ($((host_up1 - host_up0)) s) + 2" "uptime: $(cx cat /proc/uptime); host uptime $host_up1, container started at $host_up0" \
		[ "${up:-999999}" -le $((host_up1 - host_up0 + 2)) ]

	# The container reads the file procviewd writes on the host.
	check "ctr: /proc/meminfo in the container is the host-side view file" "container: $(echo "$mi" | head -n 3); $(vf meminfo): $(head -n 3 "$(vf meminfo)")" \
		same "$(echo "$mi" | field MemTotal)" "$(field MemTotal <"$(vf meminfo)")"

	# MemFree/MemAvailable/Shmem after 50 MiB in the container's /dev/shm,
	# from the first refresh that shows it (up to 10 s).
	b_free=$(echo "$mi" | field MemFree) b_avail=$(echo "$mi" | field MemAvailable) b_shm=$(echo "$mi" | field Shmem)
	cx dd if=/dev/zero of=/dev/shm/f bs=1M count=50 >/dev/null
	shm_shown() { a_shm=$(field Shmem <"$(vf meminfo)"); grew "$b_shm" "$a_shm" 46080; }
	until_ok 10 shm_shown
	mi2=$(cx cat /proc/meminfo)
	a_free=$(echo "$mi2" | field MemFree) a_avail=$(echo "$mi2" | field MemAvailable) a_shm=$(echo "$mi2" | field Shmem)
	check "ctr: Shmem grows by ~51200 kB after 50 MiB in /dev/shm" "Shmem $b_shm -> $a_shm" grew_near "$b_shm" "$a_shm" 51200 10
	check "ctr: MemFree drops by >= 46080 kB" "MemFree $b_free -> $a_free" dropped "$b_free" "$a_free" 46080
	check "ctr: MemAvailable excludes shmem (drops by >= 46080 kB)" "MemAvailable $b_avail -> $a_avail" dropped "$b_avail" "$a_avail" 46080
	check "ctr: MemAvailable + Shmem <= MemTotal" "MemAvailable $a_avail Shmem $a_shm" [ $((a_avail + a_shm)) -le 262144 ]
	# memory.current read on both sides of the view, unchanged in between,
	# and no exec running: the refresh after the last change must match.
	memfree_matches() {
		k1=$(($(cat $CGC/memory.current) / 1024))
		v_free=$(field MemFree <"$(vf meminfo)")
		k2=$(($(cat $CGC/memory.current) / 1024))
		[ "$k1" = "$k2" ] && near "$v_free" $((262144 - k1)) 2
	}
	if until_ok 10 memfree_matches; then ok "ctr: MemFree = MemTotal - memory.current (+-2%)"; else
		notok "ctr: MemFree = MemTotal - memory.current (+-2%)" "MemFree $v_free, memory.current $k1..$k2 kB (last of 10 s of tries)"
	fi
	cx rm -f /dev/shm/f

	# vmstat pgfault: the first refresh after k2 (host-side reads: no exec
	# adds faults) lies between k2 and k3.
	v1=$(field pgfault <"$(vf vmstat)")
	k1=$(field pgfault <$CGC/memory.stat)
	cx sh -c 'i=0; while [ $i -lt 40 ]; do /bin/busybox true; i=$((i + 1)); done'
	k2=$(field pgfault <$CGC/memory.stat)
	pgfault_shown() {
		v2=$(field pgfault <"$(vf vmstat)")
		k3=$(field pgfault <$CGC/memory.stat)
		between "$k2" "$v2" "$k3"
	}
	until_ok 10 pgfault_shown
	check "ctr: vmstat pgfault grows at least as much as memory.stat pgfault (+$((k2 - k1)))" "pgfault $v1 -> $v2; memory.stat $k1 -> $k2" \
		grew "$v1" "$v2" $((k2 - k1))
	check "ctr: vmstat pgfault is the cgroup's (memory.stat $k2..$k3), not the host's" "pgfault $v2" between "$k2" "$v2" "$k3"

	# diskstats after 16 MiB O_DIRECT on the virtio disk.
	devno=$(awk -v d="$dd_disk" '$3 == d { print $1 ":" $2 }' /proc/diskstats)
	s1=$(cx cat /proc/diskstats | wsectors "$dd_disk")
	s1=${s1:-0}
	cx dd if=/dev/zero of=/data/direct bs=1M count=16 oflag=direct >/dev/null
	# io.stat on both sides of the view, unchanged in between.
	disk_matches() {
		w1=$(wbytes "$devno" <$CGC/io.stat)
		s2=$(wsectors "$dd_disk" <"$(vf diskstats)")
		w2=$(wbytes "$devno" <$CGC/io.stat)
		[ "$w1" = "$w2" ] && near "$s2" $((${w1:-0} / 512)) 1
	}
	if until_ok 10 disk_matches; then ok "ctr: diskstats $dd_disk sectors written = io.stat wbytes/512"; else
		notok "ctr: diskstats $dd_disk sectors written = io.stat wbytes/512" "sectors $s2; io.stat wbytes $w1..$w2: $(cat $CGC/io.stat)"
	fi
	s2=$(cx cat /proc/diskstats | wsectors "$dd_disk")
	check "ctr: diskstats $dd_disk sectors written +32768 (+-10%)" "sectors $s1 -> $s2; io.stat: $(cat $CGC/io.stat)" \
		grew_near "$s1" "$s2" 32768 10

	for r in cpu memory io; do
		got=$(cx cat /proc/pressure/$r | shape)
		want=$(shape <$CGC/$r.pressure)
		check "ctr: /proc/pressure/$r has the shape of $r.pressure" "got: $got; want: $want" same "$got" "$want"
		# A refresh after k1 lies between k1 and a read after the view.
		k1=$(some_total <$CGC/$r.pressure)
		psi_matches() {
			v=$(some_total <"$(vf pressure/$r)")
			k2=$(some_total <$CGC/$r.pressure)
			between "$k1" "$v" "$k2"
		}
		until_ok 10 psi_matches
		check "ctr: /proc/pressure/$r some total is the cgroup's ($k1..$k2)" "got $v; host: $(head -n1 /proc/pressure/$r)" between "$k1" "$v" "$k2"
	done

	# Busy % from two samples while one busy loop runs at full quota: each
	# sample right after a rewrite of the view, so procview's window and
	# the kernel's (usage_usec) are the same.
	timeout 20 runc exec -d $C sh -c 'while :; do :; done' </dev/null >/dev/null 2>&1
	sleep 2
	stat_sample; c1=$s_line u1=$s_u m1=$s_m
	sleep 3
	stat_sample; c2=$s_line u2=$s_u m2=$s_m
	pct=$(busy_pct "$c1" "$c2")
	kp=$(quota_pct "$u1" "$u2" "$m1" "$m2" 0.5)
	check "ctr: /proc/stat busy = the kernel's share of the quota (+-10), >= 90% at full quota (kernel: $kp%)" "busy=$pct%; '$c1' -> '$c2'; $((m2 - m1)) ms" busy_ok "$pct" "$kp"

	# Refresh: with the loop running, /proc/stat and uptime change within 2 s.
	u1=$(cx cat /proc/uptime)
	sleep 2
	u2=$(cx cat /proc/uptime)
	check "ctr: daemon refreshes the views within 2 s (/proc/uptime changes)" "before: '$u1'; after: '$u2'; exec: $(tail -n 3 $T/exec.err)" \
		changed "$u1" "$u2"

	# Load: a second busy task, ~15 s.
	timeout 20 runc exec -d $C sh -c 'while :; do :; done' </dev/null >/dev/null 2>&1
	sleep 15
	la=$(cat "$(vf loadavg)")
	check "ctr: loadavg 1-min > 0 after 2 busy tasks for 15 s" "loadavg: $la" \
		awk -v l="${la%% *}" 'BEGIN { exit !(l + 0 > 0) }'
	# running/threads counts the container's tasks, not the host's: read on
	# the host side (no runc exec in the cgroup since the last task scan),
	# with pids.current on both sides.
	threads_match() {
		pc1=$(cat $CGC/pids.current)
		la=$(cat "$(vf loadavg)")
		pc2=$(cat $CGC/pids.current)
		th=$(echo "$la" | awk '{ split($4, a, "/"); print a[2] }')
		hth=$(awk '{ split($4, a, "/"); print a[2] }' /proc/loadavg)
		[ "$pc1" = "$pc2" ] && [ "${th:-999999}" -le "$pc1" ] && [ "${th:-999999}" -lt "${hth:-0}" ]
	}
	if until_ok 10 threads_match; then ok "ctr: loadavg threads ($th) <= pids.current ($pc1) and < host threads ($hth)"; else
		notok "ctr: loadavg threads <= pids.current and < host threads" "loadavg: $la; pids.current $pc1..$pc2; host: $(cat /proc/loadavg)"
	fi

	# Daemon restart: kill -9, start again, views still update.
	pid=$(cat /run/procview/procviewd.pid 2>/dev/null)
	[ -n "$pid" ] && [ -d "/proc/$pid" ] || pid=$(pidof procviewd)
	if [ -n "$pid" ]; then
		ok "ctr: procviewd is running (pid $pid)"
		kill -9 $pid
		sleep 0.5
		setsid procviewd >>/run/procviewd.out 2>&1 </dev/null &
		# The views froze with the daemon; wait (up to 15 s: a loaded host
		# slows the new daemon's start under TCG) for the first rewrite by
		# the new one, then read what the container sees.
		u1=$(cat "$(vf uptime)")
		uptime_moved() { [ "$(cat "$(vf uptime)")" != "$u1" ]; }
		until_ok 15 uptime_moved
		u2=$(cx cat /proc/uptime)
		check "ctr: views update after kill -9 and restart of procviewd" "before: '$u1'; after: '$u2'; exec: $(tail -n 3 $T/exec.err); procviewd: $(tail -n 5 /run/procviewd.out)" \
			changed "$u1" "$u2"
	else
		notok "ctr: procviewd is running" "no pid file, no process; log: $(tail -n 20 /run/procview.log 2>/dev/null)"
		notok "ctr: views update after kill -9 and restart of procviewd" "no procviewd to restart"
	fi

	timeout 20 runc kill $C KILL >/dev/null 2>&1
	sleep 0.5
	timeout 20 runc delete -f $C >/dev/null 2>&1
fi
rmdir $CGC 2>/dev/null

# procview exec (issue 14) on cgroup v2: not yet part of this suite. In this
# guest (Debian's 6.1 kernel, cgroup v2) the second stage failed to start
# ("fork/exec /proc/self/exe: no such file or directory", with the cgroup fd
# of CLONE_INTO_CGROUP); docs/exec.md lists it as a known gap.
# ---------------------------------------------- fidelity (issue 12) ----
# A second container with the default uptime (auto; no time namespace with
# the guest's runc 1.1): no negative or future process time, the CPU count
# equal everywhere (cpuinfo, stat, the cpuN directories, online/possible/
# present), /sys/block/<dev>/stat is the container's. Expected values come
# from the kernel's and the cgroup's own files.
# fid_ages_ok "STARTS... UPTIME": every process's age, as ps computes it
# (uptime - start ticks / 100, USER_HZ), is >= 0 and under an hour.
fid_ages_ok() {
	echo "$1" | awk '{ v[NR] = $1 } END {
		if (NR < 2) exit 1
		for (i = 1; i < NR; i++) { a = v[NR] - v[i] / 100; if (a < -0.01 || a > 3600) exit 1 }
	}'
}
# fid_cpus: CPUs the container may use: min(|cpuset|, ceil(quota/period)).
fid_cpus() {
	read -r q p <"$1/cpu.max"
	awk -v set="$(cat "$1/cpuset.cpus.effective")" -v q="$q" -v p="$p" 'BEGIN {
		n = 0; k = split(set, r, ",")
		for (i = 1; i <= k; i++) { if (split(r[i], e, "-") == 2) n += e[2] - e[1] + 1; else n++ }
		if (q != "max") { c = int((q + p - 1) / p); if (c < n) n = c }
		print n }'
}
fidelity_checks() {
	F=fid FC=$CG/procview-test-fid
	write_bundle "$T/$F" $F sleep 3600
	jq '.annotations["io.procview.uptime"] = "auto"' "$T/$F/config.json" >"$T/$F/c.json" && mv "$T/$F/c.json" "$T/$F/config.json"
	timeout 60 procview-runc run -d -b "$T/$F" $F </dev/null >"$T/fid.out" 2>&1
	case $(runc state $F 2>/dev/null | grep '"status"') in
	*running*) ok "fid: a container with uptime = auto starts" ;;
	*) notok "fid: a container with uptime = auto starts (other fid checks skipped)" "$(head -c 1500 "$T/fid.out")"; return ;;
	esac
	fx() { timeout 60 runc exec $F "$@" 2>>"$T/exec.err"; }
	i=0
	while [ $i -lt 50 ] && [ "$(fx cat /proc/meminfo | field MemTotal)" != 262144 ]; do sleep 0.2; i=$((i + 1)); done
	fx sh -c 'sleep 100 & sleep 100 & exit 0' </dev/null >/dev/null

	mi=$(fx cat /proc/self/mountinfo)
	check "fid: /proc/uptime is the kernel's (no view) with uptime = auto" "$(echo "$mi" | grep uptime)" \
		test -z "$(echo "$mi" | awk '$5 == "/proc/uptime"')"
	ages=$(fx sh -c 'for p in /proc/[0-9]*; do cut -d" " -f22 $p/stat; done; cut -d" " -f1 /proc/uptime')
	check "fid: no negative or future process time (uptime - start time)" "starts and uptime: $(echo $ages)" fid_ages_ok "$ages"
	# One exec samples all three: a runc exec takes seconds under TCG, so
	# separate reads would drift apart by that much.
	sample=$(fx sh -c 'date +%s; awk "\$1 == \"btime\" { print \$2 }" /proc/stat; cut -d. -f1 /proc/uptime')
	now=$(echo "$sample" | sed -n 1p)
	bt=$(echo "$sample" | sed -n 2p)
	up=$(echo "$sample" | sed -n 3p)
	check "fid: btime ($bt) + uptime ($up) is now ($now)" "stat btime $bt; uptime $up" \
		test $((${bt:-0} + ${up:-0} - now)) -le 2 -a $((${bt:-0} + ${up:-0} - now)) -ge -3
	hb=$(awk '$1 == "btime" { print $2 }' /proc/stat)
	check "fid: btime is the host's ($hb) with uptime = auto" "btime $bt" test "${bt:-0}" = "$hb"

	want=$(fid_cpus "$FC")
	got=$(fx sh -c 'grep -c ^processor /proc/cpuinfo; grep -c "^cpu[0-9]" /proc/stat; ls -d /sys/devices/system/cpu/cpu[0-9]* | wc -l' | tr '\n' ' ')
	check "fid: CPU counts equal the cgroup's ($want): cpuinfo, stat, cpuN directories" "got: $got" \
		test "$got" = "$want $want $want "
	range=0
	[ "$want" = 1 ] || range=0-$((want - 1))
	got=$(fx cat /sys/devices/system/cpu/online /sys/devices/system/cpu/possible /sys/devices/system/cpu/present | tr '\n' ' ')
	check "fid: online, possible, present are $range" "got: $got" test "$got" = "$range $range $range "

	dev=$(data_disk)
	devno=$(awk -v d="$dev" '$3 == d { print $1 ":" $2 }' /proc/diskstats)
	path=$(readlink -f /sys/block/$dev)
	check "fid: /sys/block/$dev/stat is a view in the container" "$(echo "$mi" | grep block)" \
		test -n "$(echo "$mi" | awk -v p="$path/stat" '$5 == p')"
	fx dd if=/dev/zero of=/data/fid bs=1M count=16 oflag=direct >/dev/null 2>&1
	sleep 2.5
	sw=$(fx cat /sys/block/$dev/stat | awk '{ print $7 }')
	w=$(wbytes "$devno" <$FC/io.stat)
	check "fid: /sys/block/$dev/stat sectors written ($sw) = io.stat wbytes/512 ($((${w:-0} / 512))) +-10%" "io.stat: $(cat $FC/io.stat)" \
		near "${sw:-0}" $((${w:-0} / 512)) 10

	timeout 20 runc kill $F KILL >/dev/null 2>&1
	sleep 0.5
	timeout 20 runc delete -f $F >/dev/null 2>&1
	rmdir $FC 2>/dev/null
}
[ -x "$BIN/procview-runc" ] && fidelity_checks

if [ "$fails" != 0 ] && [ -s /run/procview.log ]; then
	diag "procview log (tail):"
	tail -n 30 /run/procview.log | sed 's/^/#   /'
fi
echo "1..$n"
[ "$fails" = 0 ]
