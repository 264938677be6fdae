#!/usr/bin/env bats
# Short versions of the reliability suite (issue 7); the long ones are
# test/reliability/reliability.bats (make reliability). The scenarios live
# in test/reliability/lib.bash.

load helpers
load ../reliability/lib

setup_file() {
	requires root jq "$RUNC" go
	rel_setup_file
}
teardown_file() { pv_teardown_file; }
setup() {
	pv_setup
	requires binaries
}
teardown() { pv_teardown; }

@test "torn reads: 100k reads by 4 readers in 2 containers, views refreshed every 10 ms, Shmem swinging: 0 bad" {
	rel_torn_reads 100000 2 2
}

@test "daemon crash: 5 containers keep reading through 2 SIGKILLs; re-adopted within 2 s; one daemon after 8 concurrent starts" {
	rel_crash 5 2
}

@test "fail-open: daemon missing or failing, state root read-only, garbage or stuck cgroup tree -> starts, error in the logs and runc's JSON log (open) / refused (closed)" {
	rel_failopen daemon-missing daemon-failing state-readonly cgroup-garbage hook-stuck
}

@test "hostile input (subset): symlinked /proc, /sys, cpu dir and targets, fifo/dir targets, odd ids, bad config.json and hook state, garbage cgroups: 0 escapes, 0 crashes" {
	requires cli
	rel_hostile short
}
