#!/usr/bin/env bats
# The long reliability suite (issue 7), run by test/reliability/run.sh
# (make reliability). Sizes come from the environment so a quick rehearsal
# can shrink them; the defaults are the issue's figures. The short versions
# are in test/bats/reliability.bats (make test).

load ../bats/helpers
load lib
load hardening

: "${REL_READS:=10000000}" "${REL_READ_CONTAINERS:=2}" "${REL_READERS_PER_CONTAINER:=2}"
: "${REL_CRASH_CONTAINERS:=20}" "${REL_CRASH_KILLS:=5}"
: "${REL_CHURN:=200}" "${REL_CHURN_PARALLEL:=10}"

setup_file() {
	requires root jq "$RUNC" go
	rel_setup_file
}
teardown_file() { pv_teardown_file; }
setup() {
	pv_setup
	requires binaries cli
}
teardown() { pv_teardown; }

@test "torn reads: $REL_READS reads inside containers, views refreshed every 10 ms, Shmem swinging" {
	rel_torn_reads "$REL_READS" "$REL_READ_CONTAINERS" "$REL_READERS_PER_CONTAINER"
}

@test "daemon crash: $REL_CRASH_CONTAINERS containers reading through $REL_CRASH_KILLS SIGKILLs of procviewd" {
	rel_crash "$REL_CRASH_CONTAINERS" "$REL_CRASH_KILLS"
}

@test "fail-open / fail-closed matrix" {
	rel_failopen daemon-missing daemon-failing state-readonly cgroup-garbage hook-stuck hook-slow
}

@test "hostile input: full matrix" {
	rel_hostile
}

@test "churn: $REL_CHURN containers through procview-runc, $REL_CHURN_PARALLEL at a time" {
	rel_churn "$REL_CHURN" "$REL_CHURN_PARALLEL"
}

@test "hardening: descriptors of procview-runc's caller never reach procviewd (5 daemon starts)" {
	hard_fds 5
}

@test "hardening: duplicate or case-only-different keys leave config.json byte-identical, reason logged" {
	hard_dupkeys linux-twice hooks-case deep-repeat
}

@test "hardening: 5 same-id re-creations within one round, poststop lost: live views, state kept" {
	hard_same_id 5
}

@test "hardening: 5 containers with an rshared /sys bind and shared rootfsPropagation: parent's mounts and cpu/online unchanged, skip logged" {
	hard_propagation 5
}

@test "hardening: a container with 50 000 threads adds at most one interval to another container's refresh (60 changes)" {
	requires gcc
	hard_threads 50000 60
}
