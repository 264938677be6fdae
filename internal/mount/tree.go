//go:build linux

package mount

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"
)

// TreeBind is a directory (or file) to bind into a container: Source on the
// host, Target inside the container. With Over empty the target must be a
// directory on the filesystem its path implies (sysfs under /sys); with Over
// set the target must be that very host file or directory (a placeholder
// procview made in a directory it bound earlier in the same call), so an
// entry is only ever mounted where procview put it.
type TreeBind struct {
	Source, Target string
	Over           string
}

// ErrShared: the target's mount is shared, so a mount on it would propagate
// to peers outside the container (docker -v /sys:/sys:rshared).
var ErrShared = errors.New("target mount is shared with a peer outside the container")

// ErrNoOpenTree: the kernel lacks open_tree/mount_setattr (before 5.12);
// directory binds are not attempted there.
var ErrNoOpenTree = errors.New("directory binds need open_tree (Linux 5.12)")

type treeSource struct {
	tree     int // detached private clone, -1 when preparing failed
	over     uint64
	overIno  uint64
	overSet  bool
	isDir    bool
	srcPath  string
	prepared error
}

// BindTreesInto clones every Source (directory or file, not recursive) in
// the host mount namespace and attaches it read-only over its Target inside
// the mount namespace of pid, in order, so a later bind may target an entry
// of a directory bound by an earlier one. Like BindInto it returns
// per-bind results and an error only when nothing could be attempted.
func BindTreesInto(log logrus.FieldLogger, pid int, rootfs string, binds []TreeBind) ([]Result, error) {
	if pid <= 0 {
		return nil, fmt.Errorf("bind into pid %d: invalid pid", pid)
	}
	if err := checkRootfs(rootfs); err != nil {
		return nil, err
	}
	ns, err := openNamespace(pid)
	if err != nil {
		return nil, err
	}
	defer ns.Close()
	results := make([]Result, len(binds))
	srcs := make([]treeSource, len(binds))
	defer func() {
		for _, s := range srcs {
			if s.tree >= 0 {
				unix.Close(s.tree)
			}
		}
	}()
	for i, b := range binds {
		results[i].Bind = Bind{Source: b.Source, Target: b.Target}
		srcs[i] = prepareTree(b)
	}
	err = onThrowawayThread(func() error {
		return inNamespace(ns, rootfs, func(root *os.File, rootReal string) {
			for i := range binds {
				attachTreeBind(root, rootReal, &srcs[i], &results[i])
				if srcs[i].tree >= 0 && results[i].Status == StatusMounted {
					unix.Close(srcs[i].tree)
					srcs[i].tree = -1
				}
			}
		})
	})
	if err != nil {
		return nil, err
	}
	for _, r := range results {
		e := log.WithFields(logrus.Fields{"source": r.Source, "target": r.Target, "status": r.Status})
		if r.Status == StatusMounted {
			e.Debug("tree bind mounted")
		} else {
			e.WithError(r.Err).Warn("tree bind not mounted")
		}
	}
	return results, nil
}

// prepareTree clones b.Source into a private detached mount and records the
// placeholder's identity, in the host mount namespace.
func prepareTree(b TreeBind) treeSource {
	s := treeSource{tree: -1, srcPath: b.Source}
	if b.Over != "" {
		var st unix.Stat_t
		if err := unix.Lstat(b.Over, &st); err != nil {
			s.prepared = fmt.Errorf("stat placeholder %s: %w", b.Over, err)
			return s
		}
		s.over, s.overIno, s.overSet = st.Dev, st.Ino, true
	} else if err := checkTarget(b.Target); err != nil {
		s.prepared = err
		return s
	}
	fd, err := unix.OpenTree(unix.AT_FDCWD, b.Source, unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC|unix.AT_SYMLINK_NOFOLLOW)
	if errors.Is(err, unix.ENOSYS) {
		s.prepared = ErrNoOpenTree
		return s
	}
	if err != nil {
		s.prepared = fmt.Errorf("open_tree %s: %w", b.Source, err)
		return s
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		s.prepared = fmt.Errorf("stat source %s: %w", b.Source, err)
		return s
	}
	s.isDir = st.Mode&unix.S_IFMT == unix.S_IFDIR
	if err := unix.MountSetattr(fd, "", unix.AT_EMPTY_PATH, &unix.MountAttr{Propagation: unix.MS_PRIVATE}); err != nil {
		unix.Close(fd)
		s.prepared = fmt.Errorf("make clone of %s private: %w", b.Source, err)
		return s
	}
	s.tree = fd
	return s
}

// attachTreeBind runs in the container's mount namespace.
func attachTreeBind(root *os.File, rootReal string, s *treeSource, r *Result) {
	if s.prepared != nil {
		r.Status, r.Err = StatusFailed, s.prepared
		if errors.Is(s.prepared, ErrBadPath) {
			r.Status = StatusRefused
		}
		return
	}
	target := openResult(root, rootReal, r)
	if target == nil {
		return
	}
	defer target.Close()
	var st unix.Stat_t
	if err := unix.Fstat(int(target.Fd()), &st); err != nil {
		r.Status, r.Err = StatusFailed, fmt.Errorf("stat target %s: %w", r.Target, err)
		return
	}
	var sfs unix.Statfs_t
	if err := unix.Fstatfs(int(target.Fd()), &sfs); err != nil {
		r.Status, r.Err = StatusFailed, fmt.Errorf("statfs target %s: %w", r.Target, err)
		return
	}
	if s.overSet {
		if st.Dev != s.over || st.Ino != s.overIno {
			r.Status, r.Err = StatusRefused, fmt.Errorf("target %s is not procview's placeholder: %w", r.Target, ErrWrongFS)
			return
		}
	} else {
		if st.Mode&unix.S_IFMT != unix.S_IFDIR {
			r.Status, r.Err = StatusRefused, fmt.Errorf("target %s: not a directory (%s): %w", r.Target, fileType(st.Mode), ErrWrongFS)
			return
		}
		if want := expectedMagic(r.Target); sfs.Type != want {
			r.Status, r.Err = StatusRefused, fmt.Errorf("target %s: %w (f_type %#x, want %#x)", r.Target, ErrWrongFS, sfs.Type, want)
			return
		}
	}
	if (st.Mode&unix.S_IFMT == unix.S_IFDIR) != s.isDir {
		r.Status, r.Err = StatusRefused, fmt.Errorf("target %s and source %s differ in type: %w", r.Target, r.Source, ErrWrongFS)
		return
	}
	if shared, err := isShared(target); err != nil {
		r.Status, r.Err = StatusFailed, err
		return
	} else if shared {
		r.Status, r.Err = StatusRefused, fmt.Errorf("target %s: %w", r.Target, ErrShared)
		return
	}
	attr := unix.MountAttr{Attr_set: mountAttrs(sfs.Flags)}
	if err := unix.MountSetattr(s.tree, "", unix.AT_EMPTY_PATH, &attr); err != nil {
		r.Status, r.Err = StatusFailed, fmt.Errorf("make clone of %s read-only: %w", r.Source, err)
		return
	}
	if err := unix.MoveMount(s.tree, "", int(target.Fd()), "",
		unix.MOVE_MOUNT_F_EMPTY_PATH|unix.MOVE_MOUNT_T_EMPTY_PATH); err != nil {
		r.Status, r.Err = StatusFailed, fmt.Errorf("move_mount %s onto %s: %w", r.Source, r.Target, err)
		return
	}
	r.Status, r.ReadOnly = StatusMounted, true
}

// isShared reports whether the mount holding f is a shared mount (a member
// of a peer group), from the calling thread's mountinfo.
func isShared(f *os.File) (bool, error) {
	fdinfo, err := os.ReadFile(fmt.Sprintf("/proc/thread-self/fdinfo/%d", f.Fd()))
	if err != nil {
		return false, fmt.Errorf("read fdinfo of %s: %w", f.Name(), err)
	}
	id := ""
	for _, l := range strings.Split(string(fdinfo), "\n") {
		if v, ok := strings.CutPrefix(l, "mnt_id:"); ok {
			id = strings.TrimSpace(v)
		}
	}
	if _, err := strconv.Atoi(id); err != nil {
		return false, fmt.Errorf("no mnt_id in fdinfo of %s", f.Name())
	}
	mi, err := os.ReadFile("/proc/thread-self/mountinfo")
	if err != nil {
		return false, fmt.Errorf("read mountinfo: %w", err)
	}
	return mountShared(mi, id)
}

// mountShared finds mount id in mountinfo and reports whether its optional
// fields name a peer group ("shared:N").
func mountShared(mountinfo []byte, id string) (bool, error) {
	sc := bufio.NewScanner(bytes.NewReader(mountinfo))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 7 || f[0] != id {
			continue
		}
		for _, opt := range f[6:] {
			if opt == "-" {
				break
			}
			if strings.HasPrefix(opt, "shared:") {
				return true, nil
			}
		}
		return false, nil
	}
	return false, fmt.Errorf("mount %s not in mountinfo", id)
}
