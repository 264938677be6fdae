#!/bin/sh
# guest-capture.sh — runs inside the cgroup v2 VM: captures the v2 fixture
# scenarios with hack/capture-fixture.sh and prints them as a base64 tar.gz
# between PROCVIEW-FIXTURES-BEGIN/END markers on the console, plus TAP lines
# (one per scenario) so the host can tell what worked.
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
REPO=/procview/repo
CAP=$REPO/hack/capture-fixture.sh
M=1048576

n=0 fails=0
if [ ! -f "$CAP" ]; then
	echo "not ok 1 - hack/capture-fixture.sh is not in the repo yet"
	echo "1..1"
	exit 1
fi
# The I/O workload writes to /var/tmp: put it on the virtio disk so io.stat
# and diskstats see real block I/O (tmpfs would not).
mkdir -p /mnt/data/tmp /var
ln -sfn /mnt/data/tmp /var/tmp

# NAME OPTIONS... ; names follow capture-fixture.sh --standard ("v2-...").
scenarios="
v2-limit256m-quota0.5-io|--memory $((256 * M)) --quota 50000 --period 100000 --pids-max 100 --io $((8 * M))
v2-nested-parent128m-quota1.5-leaf512m|--parent-memory $((128 * M)) --parent-quota 150000 --parent-period 100000 --memory $((512 * M))
v2-nolimit|
v2-cpuset1|--cpuset 1
v2-swap-limit256m-memsw512m|--memory $((256 * M)) --memsw $((512 * M))
v2-quota1.5|--quota 150000 --period 100000
"
while IFS='|' read -r name opts; do
	[ -n "$name" ] || continue
	n=$((n + 1))
	# shellcheck disable=SC2086
	if out=$(cd $REPO && timeout 120 bash "$CAP" $opts "$name" 2>&1); then
		echo "ok $n - capture $name"
	else
		fails=$((fails + 1))
		echo "not ok $n - capture $name"
		echo "$out" | tail -n 15 | sed 's/^/#   /'
	fi
done <<EOF2
$scenarios
EOF2

if [ -d $REPO/testdata/hosts ]; then
	echo "PROCVIEW-FIXTURES-BEGIN"
	(cd $REPO/testdata/hosts && tar -cf - v2-* | gzip -9 | base64)
	echo "PROCVIEW-FIXTURES-END"
fi
echo "1..$n"
[ "$fails" = 0 ]
