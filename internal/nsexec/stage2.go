//go:build linux

package nsexec

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strings"

	"golang.org/x/sys/unix"
)

// stageArg, as argv[1], makes procview stage 2 (MaybeStage2).
const stageArg = "__procview-nsexec-stage2"

// planFD is where stage 2 finds its socket to stage 1 (ExtraFiles[0]).
const planFD = 3

// MaybeStage2 turns the process into stage 2 when it was started as one,
// and never returns then. Call it first thing in main, before any flag
// parsing, so it works whatever the CLI library.
//
// Stage 2 is born in the target's namespaces (PID namespace included: a
// procfs belongs to the PID namespace of the process that mounts it), in a
// private mount namespace, inside the container's cgroup. It reads its plan
// from stage 1, mounts, closes every inherited fd and execs the tool, which
// keeps its pid: the tool is the only process procview adds to the
// container.
func MaybeStage2() {
	if len(os.Args) < 2 || os.Args[1] != stageArg {
		return
	}
	// PDEATHSIG belongs to the thread that sets it and survives exec only
	// on the thread that execs: both happen on this one.
	runtime.LockOSThread()
	os.Exit(stage2())
}

func stage2() int {
	// Should procview die, the tool dies with it instead of lingering in
	// the container.
	unix.Prctl(unix.PR_SET_PDEATHSIG, uintptr(unix.SIGKILL), 0, 0, 0)
	sock := os.NewFile(planFD, "nsexec")
	data, err := io.ReadAll(sock)
	if err != nil || len(data) == 0 {
		return CodeSetupFailed // stage 1 is gone
	}
	fail := func(code int, err error) int {
		fmt.Fprint(sock, err.Error())
		return code
	}
	var p plan
	if err := json.Unmarshal(data, &p); err != nil || len(p.Args) == 0 {
		return fail(CodeSetupFailed, fmt.Errorf("stage 2: bad plan: %v", err))
	}
	if err := p.mount(); err != nil {
		return fail(CodeSetupFailed, err)
	}
	path, err := exec.LookPath(p.Args[0])
	if err != nil {
		return fail(CodeNotFound, fmt.Errorf("%s: command not found on the host's PATH", p.Args[0]))
	}
	// Nothing procview or its caller opened reaches the tool; the socket
	// closes on exec, which tells stage 1 the tool runs.
	if err := unix.CloseRange(planFD, ^uint(0), unix.CLOSE_RANGE_CLOEXEC); err != nil {
		return fail(CodeSetupFailed, fmt.Errorf("close inherited fds: %w", err))
	}
	err = unix.Exec(path, p.Args, os.Environ())
	code := CodeNotExecutable
	if errors.Is(err, unix.ENOENT) {
		code = CodeNotFound
	}
	return fail(code, fmt.Errorf("exec %s: %w", path, err))
}

const (
	procFlags = unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC
	roBind    = unix.MS_REMOUNT | unix.MS_BIND | unix.MS_RDONLY | unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC
)

// mount sets up /sys, /proc and the views in stage 2's (private) mount
// namespace.
func (p *plan) mount() error {
	if p.Sys {
		if err := freshSysfs(); err != nil {
			return err
		}
	}
	if p.Proc {
		// The host's procfs (and its submounts) leave this namespace only.
		_ = unix.Unmount("/proc", unix.MNT_DETACH)
		if err := unix.Mount("proc", "/proc", "proc", procFlags, ""); err != nil {
			return fmt.Errorf("mount procfs on /proc: %w", err)
		}
	}
	for _, b := range p.Binds {
		if err := bindView(b); err != nil {
			fmt.Fprintf(os.Stderr, "procview exec: warning: view %s not bound: %v\n", b.Target, err)
		}
	}
	return nil
}

func bindView(b bind) error {
	st, err := os.Lstat(b.Target)
	if errors.Is(err, os.ErrNotExist) {
		return nil // e.g. /proc/pressure/* on a kernel without PSI
	}
	if err != nil {
		return err
	}
	src, err := os.Lstat(b.Source)
	if err != nil {
		return err
	}
	if st.Mode().Type() != src.Mode().Type() {
		return fmt.Errorf("%s is a %v, the view a %v", b.Target, st.Mode().Type(), src.Mode().Type())
	}
	flags := uintptr(unix.MS_BIND)
	if src.IsDir() {
		flags |= unix.MS_REC
	}
	if err := unix.Mount(b.Source, b.Target, "", flags, ""); err != nil {
		return fmt.Errorf("bind %s: %w", b.Source, err)
	}
	if err := unix.Mount("", b.Target, "", roBind, ""); err != nil {
		return fmt.Errorf("remount %s read-only: %w", b.Target, err)
	}
	return nil
}

// freshSysfs replaces /sys by a sysfs of the current network namespace,
// as `ip netns exec` does, so /sys/class/net lists the container's links.
// The host's filesystems mounted under /sys (cgroup, debugfs, tracefs,
// bpf…) are cloned first and attached back, so cgroup and tracing tools
// keep working.
func freshSysfs() error {
	subs, err := sysSubmounts()
	if err != nil {
		return err
	}
	var clones []int
	var points []string
	for _, mp := range subs {
		fd, err := unix.OpenTree(unix.AT_FDCWD, mp, unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC|unix.AT_RECURSIVE)
		if err != nil {
			continue
		}
		clones, points = append(clones, fd), append(points, mp)
	}
	defer func() {
		for _, fd := range clones {
			unix.Close(fd)
		}
	}()
	_ = unix.Unmount("/sys", unix.MNT_DETACH)
	if err := unix.Mount("sysfs", "/sys", "sysfs", procFlags, ""); err != nil {
		return fmt.Errorf("mount sysfs on /sys: %w", err)
	}
	for i, fd := range clones {
		if err := unix.MoveMount(fd, "", unix.AT_FDCWD, points[i], unix.MOVE_MOUNT_F_EMPTY_PATH); err != nil && !errors.Is(err, unix.ENOENT) {
			fmt.Fprintf(os.Stderr, "procview exec: warning: %s not restored under the fresh /sys: %v\n", points[i], err)
		}
	}
	return nil
}

// sysSubmounts lists the mount points directly under the /sys mount.
func sysSubmounts() ([]string, error) {
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return nil, fmt.Errorf("read mountinfo: %w", err)
	}
	type m struct{ id, parent, point string }
	var all []m
	sysID := ""
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 5 {
			continue
		}
		x := m{f[0], f[1], unescapeMount(f[4])}
		all = append(all, x)
		if x.point == "/sys" {
			sysID = x.id // the last one is on top
		}
	}
	var out []string
	seen := map[string]bool{}
	for _, x := range all {
		if sysID != "" && x.parent == sysID && !seen[x.point] {
			seen[x.point] = true
			out = append(out, x.point)
		}
	}
	return out, nil
}
