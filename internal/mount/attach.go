//go:build linux

package mount

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"
)

// forceLegacy makes prepareSource take the mount(2) path even where
// open_tree(2) works, so tests cover both.
var forceLegacy bool

// source is one bind source, prepared in the host mount namespace.
type source struct {
	path     string
	dev, ino uint64
	// tree is a private detached clone from open_tree(2), or -1 on kernels
	// without open_tree/mount_setattr (before 5.12), where the source is
	// bind-mounted by path from the container's copy of the host tree.
	tree int
	// flags are the statfs flags of the source's mount (legacy only: a
	// bind remount must restate them).
	flags int64
}

func (s *source) close() {
	if s != nil && s.tree >= 0 {
		unix.Close(s.tree)
		s.tree = -1
	}
}

// prepareSource checks that path is a regular file and, where the kernel
// allows, clones it into a private detached mount.
func prepareSource(path string) (*source, error) {
	if !filepath.IsAbs(path) {
		return nil, fmt.Errorf("source %q: %w: not absolute", path, ErrBadPath)
	}
	src := &source{path: path, tree: -1}
	if !forceLegacy {
		err := src.clone()
		if err == nil || !errors.Is(err, unix.ENOSYS) {
			return src, err
		}
	}
	// The source is ours (state root), but a symlink there is a bug: don't follow it.
	var st unix.Stat_t
	if err := unix.Lstat(path, &st); err != nil {
		return nil, fmt.Errorf("stat source %s: %w", path, err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return nil, fmt.Errorf("source %s: %w (%s)", path, ErrNotRegular, fileType(st.Mode))
	}
	var sfs unix.Statfs_t
	if err := unix.Statfs(path, &sfs); err != nil {
		return nil, fmt.Errorf("statfs source %s: %w", path, err)
	}
	src.dev, src.ino, src.flags = st.Dev, st.Ino, sfs.Flags
	return src, nil
}

// clone makes a detached copy of the mount holding s.path, rooted at s.path,
// in the calling thread's (host) mount namespace.
func (s *source) clone() error {
	fd, err := unix.OpenTree(unix.AT_FDCWD, s.path,
		unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC|unix.AT_SYMLINK_NOFOLLOW)
	if err != nil {
		return fmt.Errorf("open_tree %s: %w", s.path, err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return fmt.Errorf("stat source %s: %w", s.path, err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		unix.Close(fd)
		return fmt.Errorf("source %s: %w (%s)", s.path, ErrNotRegular, fileType(st.Mode))
	}
	// A clone of a shared mount (the state root under systemd) is a peer
	// of it: anything later mounted over the file in the container would
	// propagate back to the state root and into every other container's
	// bind.
	if err := unix.MountSetattr(fd, "", unix.AT_EMPTY_PATH, &unix.MountAttr{Propagation: unix.MS_PRIVATE}); err != nil {
		unix.Close(fd)
		return fmt.Errorf("make clone of %s private: %w", s.path, err)
	}
	s.tree, s.dev, s.ino = fd, st.Dev, st.Ino
	return nil
}

// attach mounts src over r.Target, filling in r. It runs in the container's
// mount namespace.
func attach(log logrus.FieldLogger, root *os.File, rootReal string, src *source, r *Result, prop *propagation) {
	target := openResult(root, rootReal, r)
	if target == nil {
		return
	}
	defer target.Close()

	// Same inode as the source: an earlier run already mounted it. Checked
	// before the filesystem test, which the earlier bind would now fail.
	if same, ro, err := isSource(target, src); err != nil {
		r.Status, r.Err = StatusFailed, fmt.Errorf("compare %s with source %s: %w", r.Target, r.Source, err)
		return
	} else if same {
		r.Status, r.Already, r.ReadOnly = StatusMounted, true, ro
		return
	}

	attrs, err := checkTargetFile(target, r.Target)
	if err != nil {
		r.Status, r.Err = StatusRefused, err
		return
	}
	// Every bind goes through here, on both paths below: a mount made on a
	// shared peer of a mount outside the container appears outside too.
	if err := prop.check(target, r.Target); err != nil {
		r.Status, r.Err = StatusRefused, err
		return
	}
	if src.tree >= 0 {
		attachTree(log, src, target, attrs, r)
	} else {
		attachLegacy(log, root, rootReal, src, target, attrs, r)
	}
}

// openResult opens r.Target in root, or fills in r's status (missing or
// refused) and returns nil.
func openResult(root *os.File, rootReal string, r *Result) *os.File {
	target, err := openTarget(root, rootReal, r.Target)
	if err != nil {
		r.Status, r.Err = StatusRefused, err
		if errors.Is(err, ErrMissing) {
			r.Status = StatusMissing
		}
		return nil
	}
	return target
}

// attachTree moves the detached clone onto the target fd.
func attachTree(log logrus.FieldLogger, src *source, target *os.File, attrs uint64, r *Result) {
	// Read-only before the mount is visible; retried after attaching if the
	// kernel refuses it on a detached mount.
	attr := unix.MountAttr{Attr_set: attrs}
	roErr := unix.MountSetattr(src.tree, "", unix.AT_EMPTY_PATH, &attr)

	if err := unix.MoveMount(src.tree, "", int(target.Fd()), "",
		unix.MOVE_MOUNT_F_EMPTY_PATH|unix.MOVE_MOUNT_T_EMPTY_PATH); err != nil {
		r.Status, r.Err = StatusFailed, fmt.Errorf("move_mount %s onto %s: %w", r.Source, r.Target, err)
		return
	}
	r.Status = StatusMounted
	if roErr != nil {
		roErr = unix.MountSetattr(src.tree, "", unix.AT_EMPTY_PATH, &attr)
	}
	if roErr != nil {
		log.WithError(roErr).WithField("target", r.Target).Warn("bind mounted but not read-only")
		return
	}
	r.ReadOnly = true
}

// attachLegacy bind-mounts by path, for kernels before 5.12. Before
// pivot_root the container's mount namespace is a copy of the host's, so the
// source path exists there too; it must still be the same inode.
func attachLegacy(log logrus.FieldLogger, root *os.File, rootReal string, src *source, target *os.File, attrs uint64, r *Result) {
	sf, err := os.OpenFile(src.path, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		r.Status, r.Err = StatusFailed, fmt.Errorf("source %s in container mount namespace: %w", src.path, err)
		return
	}
	defer sf.Close()
	if same, _, err := isSource(sf, src); err != nil || !same {
		r.Status, r.Err = StatusFailed, fmt.Errorf("source %s in container mount namespace is another file (%v)", src.path, err)
		return
	}
	if err := unix.Mount(fdPath(sf), fdPath(target), "", unix.MS_BIND, ""); err != nil {
		r.Status, r.Err = StatusFailed, fmt.Errorf("bind %s onto %s: %w", r.Source, r.Target, err)
		return
	}
	r.Status = StatusMounted

	// The target fd still names the covered file: resolve again to reach
	// the new mount, and make sure it is ours.
	top, err := openTarget(root, rootReal, r.Target)
	if err != nil {
		log.WithError(err).WithField("target", r.Target).Warn("bind mounted but not made private and read-only")
		return
	}
	defer top.Close()
	if same, _, err := isSource(top, src); err != nil || !same {
		log.WithError(err).WithField("target", r.Target).Warn("bind mounted but covered by another mount")
		return
	}
	if err := unix.Mount("", fdPath(top), "", unix.MS_PRIVATE, ""); err != nil {
		log.WithError(err).WithField("target", r.Target).Warn("bind mounted but not made private")
	}
	flags := uintptr(unix.MS_BIND|unix.MS_REMOUNT) | msFlags(attrs) | msFlags(mountAttrs(src.flags))
	if err := unix.Mount("", fdPath(top), "", flags, ""); err != nil {
		log.WithError(err).WithField("target", r.Target).Warn("bind mounted but not read-only")
		return
	}
	r.ReadOnly = true
}

// msFlags maps MOUNT_ATTR_* bits to mount(2) MS_* flags.
func msFlags(attrs uint64) uintptr {
	var f uintptr
	for _, m := range []struct {
		attr uint64
		ms   uintptr
	}{
		{unix.MOUNT_ATTR_RDONLY, unix.MS_RDONLY},
		{unix.MOUNT_ATTR_NOSUID, unix.MS_NOSUID},
		{unix.MOUNT_ATTR_NODEV, unix.MS_NODEV},
		{unix.MOUNT_ATTR_NOEXEC, unix.MS_NOEXEC},
	} {
		if attrs&m.attr != 0 {
			f |= m.ms
		}
	}
	return f
}

func fdPath(f *os.File) string {
	return fmt.Sprintf("/proc/thread-self/fd/%d", f.Fd())
}

// isSource reports whether f is the source's inode, and whether f's mount
// is read-only.
func isSource(f *os.File, src *source) (same, readOnly bool, err error) {
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		return false, false, err
	}
	if st.Dev != src.dev || st.Ino != src.ino {
		return false, false, nil
	}
	var sfs unix.Statfs_t
	if err := unix.Fstatfs(int(f.Fd()), &sfs); err != nil {
		return true, false, err
	}
	return true, sfs.Flags&unix.ST_RDONLY != 0, nil
}
