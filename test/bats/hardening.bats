#!/usr/bin/env bats
# Hardening (issue 15), short versions; the long ones are in
# test/reliability/reliability.bats (make reliability). The scenarios live
# in test/reliability/hardening.bash.

load helpers
load ../reliability/lib
load ../reliability/hardening

setup_file() { pv_setup_file; }
teardown_file() { pv_teardown_file; }
setup() {
	pv_setup
	requires binaries
}
teardown() { pv_teardown; }

@test "descriptors: a descriptor the caller of procview-runc holds (fd 7) is not open in the procviewd it starts" {
	hard_fds 1
}

@test "unusual JSON: config.json with a repeated \"linux\", a \"Hooks\" or keys differing in case is left byte-identical, reason logged" {
	hard_dupkeys linux-twice hooks-case deep-repeat
}

@test "same id: a container re-created with the same id within one round (poststop lost) gets live views and keeps its state" {
	hard_same_id 1
}

@test "propagation: a container with an rshared /sys bind and shared rootfsPropagation leaves its parent's mounts and cpu/online unchanged; skipped view logged" {
	hard_propagation 1
}

@test "threads: a container with 50 000 threads does not delay another container's refresh beyond one interval (20 changes, compared with the same without it)" {
	requires gcc
	hard_threads 50000 20
}
