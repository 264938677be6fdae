//go:build linux

// Package mount bind-mounts procview's view files over /proc and /sys files
// inside a container's mount namespace, from an OCI createRuntime hook.
//
// At createRuntime the hook runs in the host namespaces, the container's init
// is blocked in runc, its mount namespace already has a fresh procfs at
// ROOTFS/proc and sysfs at ROOTFS/sys, and pivot_root has not happened yet
// (integration.md §2–§5).
//
// How a bind is made, and why:
//   - Each source is cloned into a detached mount with open_tree(2)
//     (OPEN_TREE_CLONE) while still in the host mount namespace. A plain
//     mount(2) bind after setns would need the source to be on a mount of the
//     container's namespace (the kernel refuses a bind from another
//     namespace's mount, even through /proc/self/fd), so host paths would have
//     to be re-resolved in the container's copy of the host tree. The detached
//     clone needs no path at all once it exists.
//   - The clone is made private, so it is no peer of a shared state root.
//   - The clone is made read-only (and nosuid/nodev/noexec like the target's
//     mount) with mount_setattr(2) before it is attached, so it is never
//     visible writable.
//   - A dedicated goroutine locks its OS thread, unshares CLONE_FS (setns on
//     a mount namespace fails with EINVAL while fs attributes are shared with
//     other threads) and setns into the container's mount namespace. The
//     thread is never unlocked: when the goroutine returns, the Go runtime
//     kills the thread instead of reusing it in the wrong namespace. The
//     main thread is never used for this (Go parks it instead of killing
//     it, and /proc/self follows it). This keeps everything in-process (no
//     nsenter/mount binaries to find, no re-exec protocol) at the cost of
//     one thread.
//   - The target is opened inside the rootfs with pathrs-lite (scoped
//     resolution, never outside the rootfs), must resolve to exactly
//     ROOTFS+Target (no symlink anywhere), must be a regular file on procfs
//     (under /proc) or sysfs (under /sys), and the clone is attached onto
//     that very fd with move_mount(2) MOVE_MOUNT_T_EMPTY_PATH, so there is no
//     window between check and mount.
//   - On kernels without open_tree/mount_setattr (before 5.12) the source is
//     bind-mounted with mount(2) by its host path, which exists in the
//     container's copy of the host tree before pivot_root, after checking it
//     is the same inode; then made private and remounted read-only.
//
// Read-only is a mount flag, not a lock: root inside a user-namespaced
// container owns its mount namespace and can remount the bind read-write, as
// with runc's own ro binds. The view files then stay safe only because that
// root (a mapped, unprivileged host uid) does not own them.
package mount

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"
)

// Bind is one file to mount: Source on the host (a tmpfs file under the state
// root), Target a path inside the container ("/proc/meminfo",
// "/sys/devices/system/cpu/online").
type Bind struct{ Source, Target string }

// Status says what happened to one Bind.
type Status int

const (
	// StatusMounted means the source is now mounted over the target.
	StatusMounted Status = iota
	// StatusMissing means the target does not exist in the container (e.g.
	// /proc/pressure/io on a kernel without PSI); nothing was mounted.
	StatusMissing
	// StatusRefused means the target or source failed a safety check
	// (symlink, wrong file type, wrong filesystem, bad path); nothing was
	// mounted.
	StatusRefused
	// StatusFailed means a system call failed; nothing was mounted.
	StatusFailed
)

func (s Status) String() string {
	switch s {
	case StatusMounted:
		return "mounted"
	case StatusMissing:
		return "missing"
	case StatusRefused:
		return "refused"
	case StatusFailed:
		return "failed"
	}
	return fmt.Sprintf("Status(%d)", int(s))
}

// Result is the outcome for one Bind, in the order binds were given.
type Result struct {
	Bind
	Status Status
	// ReadOnly is true when the mount was made read-only; a mounted bind
	// that could not be made read-only is still StatusMounted (logged).
	ReadOnly bool
	// Already is true when the target already was this very source (the
	// hook ran twice); nothing new was mounted.
	Already bool
	// Err explains any status other than StatusMounted.
	Err error
}

// Errors a Result.Err may wrap; test with errors.Is.
var (
	// ErrMissing: the target does not exist.
	ErrMissing = errors.New("target does not exist")
	// ErrSymlink: a component of the target is a symlink, or the target
	// resolved somewhere other than ROOTFS+Target.
	ErrSymlink = errors.New("symlink in target path")
	// ErrNotRegular: the target or source is not a regular file.
	ErrNotRegular = errors.New("not a regular file")
	// ErrWrongFS: the target is not on the filesystem its path implies
	// (procfs under /proc, sysfs under /sys), or it is missing from a
	// directory that is not (procfs or sysfs not mounted there yet, or
	// already covered by another bind).
	ErrWrongFS = errors.New("target on wrong filesystem")
	// ErrBadPath: the target path is not an absolute, clean path under
	// /proc or /sys.
	ErrBadPath = errors.New("bad target path")
	// ErrPropagates: the target's mount is a shared peer of a mount
	// outside the container, so a bind there would appear outside too.
	ErrPropagates = errors.New("mount would propagate out of the container")
)

// BindInto bind-mounts every Source over ROOTFS+Target inside the mount
// namespace of pid, read-only. rootfs is the container's root as seen from
// the host before pivot_root (config.json root.path made absolute).
//
// It returns per-bind results so the caller can fail open on individual
// files; the error is non-nil only when nothing could be attempted (bad pid
// or rootfs, pid in our own mount namespace, setns failure), and then no
// mount was made.
func BindInto(log logrus.FieldLogger, pid int, rootfs string, binds []Bind) ([]Result, error) {
	if pid <= 0 {
		return nil, fmt.Errorf("bind into pid %d: invalid pid", pid)
	}
	if err := checkRootfs(rootfs); err != nil {
		return nil, err
	}
	log = log.WithFields(logrus.Fields{"pid": pid, "rootfs": rootfs})

	ns, err := openNamespace(pid)
	if err != nil {
		return nil, err
	}
	defer ns.Close()

	results := make([]Result, len(binds))
	sources := make([]*source, len(binds))
	for i, b := range binds {
		results[i].Bind = b
		if err := checkTarget(b.Target); err != nil {
			results[i].Status, results[i].Err = StatusRefused, err
			continue
		}
		src, err := prepareSource(b.Source)
		if err != nil {
			results[i].Status, results[i].Err = StatusFailed, err
			if errors.Is(err, ErrNotRegular) || errors.Is(err, ErrBadPath) {
				results[i].Status = StatusRefused
			}
			continue
		}
		sources[i] = src
	}
	// Detached clones that were not attached vanish when their fd closes.
	defer func() {
		for _, src := range sources {
			src.close()
		}
	}()

	// Peer groups of runc's mount namespace (ours) and of init's: a view
	// mounted on a container mount in one of them would show there.
	prop := &propagation{outside: peerGroups("/proc/self/mountinfo", "/proc/1/mountinfo")}
	err = onThrowawayThread(func() error {
		return bindInNamespace(log, ns, rootfs, sources, results, prop)
	})
	if err != nil {
		return nil, err
	}
	for _, r := range results {
		entry := log.WithFields(logrus.Fields{"source": r.Source, "target": r.Target, "status": r.Status})
		switch r.Status {
		case StatusMounted:
			entry.WithFields(logrus.Fields{"readonly": r.ReadOnly, "already": r.Already}).Debug("bind mounted")
		case StatusMissing:
			entry.WithError(r.Err).Info("bind skipped: target missing")
		default:
			entry.WithError(r.Err).Warn("bind not mounted")
		}
	}
	return results, nil
}

// openNamespace opens pid's mount namespace, refusing our own: mounting
// "into" it would cover the host's files.
func openNamespace(pid int) (*os.File, error) {
	nsPath := fmt.Sprintf("/proc/%d/ns/mnt", pid)
	ns, err := os.Open(nsPath)
	if err != nil {
		return nil, fmt.Errorf("open mount namespace %s: %w", nsPath, err)
	}
	if same, err := sameNamespace(ns); err != nil || same {
		ns.Close()
		if err == nil {
			err = fmt.Errorf("bind into pid %d: %s is our own mount namespace, refusing", pid, nsPath)
		}
		return nil, err
	}
	return ns, nil
}

// onThrowawayThread runs fn on an OS thread that dies afterwards, so fn may
// change the thread's namespaces. The thread is locked and never unlocked:
// Go terminates such a thread when its goroutine exits.
func onThrowawayThread(fn func() error) error {
	errc := make(chan error, 1)
	go throwaway(fn, errc)
	return <-errc
}

func throwaway(fn func() error, errc chan<- error) {
	runtime.LockOSThread()
	if unix.Gettid() == unix.Getpid() {
		// Go never terminates the main thread, it only parks it, and
		// /proc/self (ns/mnt, mountinfo, root) follows the main thread: a
		// main thread left in the container's namespace would mislead the
		// rest of the process. Keep it occupied here, so the new goroutine
		// gets another thread, and release it untouched.
		inner := make(chan error, 1)
		go throwaway(fn, inner)
		errc <- <-inner
		runtime.UnlockOSThread()
		return
	}
	errc <- fn()
}

// bindInNamespace runs on a locked thread that it moves into ns. An error
// means no bind was attempted.
func bindInNamespace(log logrus.FieldLogger, ns *os.File, rootfs string, sources []*source, results []Result, prop *propagation) error {
	return inNamespace(ns, rootfs, func(root *os.File, rootReal string) {
		prop.readInside()
		for i := range results {
			if sources[i] == nil {
				continue
			}
			attach(log, root, rootReal, sources[i], &results[i], prop)
		}
	})
}

// inNamespace moves the calling locked thread into ns, opens rootfs there and
// hands it to fn. An error means fn did not run.
func inNamespace(ns *os.File, rootfs string, fn func(root *os.File, rootReal string)) error {
	if err := unix.Unshare(unix.CLONE_FS); err != nil {
		return fmt.Errorf("unshare CLONE_FS: %w", err)
	}
	if err := unix.Setns(int(ns.Fd()), unix.CLONE_NEWNS); err != nil {
		return fmt.Errorf("setns %s: %w", ns.Name(), err)
	}
	root, err := os.OpenFile(rootfs, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open rootfs %s in container mount namespace: %w", rootfs, err)
	}
	defer root.Close()
	rootReal, err := realPath(root)
	if err != nil {
		return fmt.Errorf("resolve rootfs %s: %w", rootfs, err)
	}
	fn(root, rootReal)
	return nil
}

// checkRootfs requires an absolute, clean path other than "/": the rootfs
// comes from config.json, and a ".." in it means someone is being clever.
func checkRootfs(rootfs string) error {
	if !filepath.IsAbs(rootfs) || filepath.Clean(rootfs) != rootfs || hasDotDot(rootfs) {
		return fmt.Errorf("rootfs %q: must be an absolute clean path without ..", rootfs)
	}
	if rootfs == "/" {
		return fmt.Errorf("rootfs %q: refusing to mount over the namespace root", rootfs)
	}
	return nil
}

// checkTarget requires an absolute, clean path strictly under /proc or /sys.
func checkTarget(target string) error {
	if !filepath.IsAbs(target) || filepath.Clean(target) != target || hasDotDot(target) {
		return fmt.Errorf("target %q: %w: must be absolute and clean", target, ErrBadPath)
	}
	if expectedMagic(target) == 0 {
		return fmt.Errorf("target %q: %w: must be under /proc or /sys", target, ErrBadPath)
	}
	return nil
}

func hasDotDot(p string) bool {
	for _, c := range strings.Split(p, "/") {
		if c == ".." {
			return true
		}
	}
	return false
}

// expectedMagic is the statfs f_type the target must live on, 0 if none.
func expectedMagic(target string) int64 {
	switch {
	case strings.HasPrefix(target, "/proc/"):
		return unix.PROC_SUPER_MAGIC
	case strings.HasPrefix(target, "/sys/"):
		return unix.SYSFS_MAGIC
	}
	return 0
}

// sameNamespace reports whether ns is the calling process's mount namespace.
func sameNamespace(ns *os.File) (bool, error) {
	var theirs, ours unix.Stat_t
	if err := unix.Fstat(int(ns.Fd()), &theirs); err != nil {
		return false, fmt.Errorf("stat %s: %w", ns.Name(), err)
	}
	// Every thread that runs Go code is in the process's namespace (see
	// throwaway), so any thread-self answer is ours.
	if err := unix.Stat("/proc/thread-self/ns/mnt", &ours); err != nil {
		return false, fmt.Errorf("stat /proc/thread-self/ns/mnt: %w", err)
	}
	return theirs.Dev == ours.Dev && theirs.Ino == ours.Ino, nil
}
