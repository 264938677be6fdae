//go:build linux

// Package nsexec runs a host binary inside a running container's
// namespaces so that it sees only the container: `procview exec`.
//
// Stage 1 (Run, in procview): resolve the container to a pid, open a pidfd
// and the namespace files, check the container can not ptrace the tool and
// is not frozen, then on a locked OS thread unshare the mount namespace
// (rprivate first), optionally clone the container's files in (--root,
// --etc) and join net/uts/ipc/pid/cgroup, and start stage 2 from that thread
// (procview re-executed, in the container's cgroup). Stage 2
// (MaybeStage2) is in the container's PID namespace: it mounts a fresh
// procfs and sysfs, binds the container's views over them, closes
// inherited fds and execs the tool. docs/exec.md has the details.
package nsexec
