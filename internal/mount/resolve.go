//go:build linux

package mount

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	pathrs "github.com/cyphar/filepath-securejoin/pathrs-lite"
	"github.com/cyphar/filepath-securejoin/pathrs-lite/procfs"
	"golang.org/x/sys/unix"
)

// openTarget opens target (absolute, clean) inside root as an O_PATH fd.
// pathrs-lite keeps the resolution inside root whatever symlinks say; on top
// of that the result must be exactly rootReal+target, because the files
// procview covers never sit behind a symlink and a symlink that stays inside
// the rootfs could still point at a file we must not cover.
func openTarget(root *os.File, rootReal, target string) (*os.File, error) {
	f, err := pathrs.OpenatInRoot(root, target)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, diagnoseMissing(root, target)
		}
		if errors.Is(err, unix.ELOOP) {
			return nil, fmt.Errorf("open %s in %s: %w: %w", target, rootReal, ErrSymlink, err)
		}
		return nil, fmt.Errorf("open %s in %s: %w", target, rootReal, err)
	}
	got, err := realPath(f)
	if err != nil {
		f.Close()
		return nil, err
	}
	if want := filepath.Join(rootReal, target); got != want {
		f.Close()
		return nil, fmt.Errorf("%s in %s resolves to %s: %w", target, rootReal, got, ErrSymlink)
	}
	return f, nil
}

// diagnoseMissing walks target component by component without following
// anything, to tell a genuinely missing file (ErrMissing) from a symlink that
// led nowhere (ErrSymlink). Nothing is mounted on this path, so the walk
// racing with changes is harmless.
func diagnoseMissing(root *os.File, target string) error {
	dir := int(root.Fd())
	var opened []int
	defer func() {
		for _, fd := range opened {
			unix.Close(fd)
		}
	}()
	parts := strings.Split(strings.TrimPrefix(target, "/"), "/")
	for i, name := range parts {
		sofar := "/" + strings.Join(parts[:i+1], "/")
		var st unix.Stat_t
		err := unix.Fstatat(dir, name, &st, unix.AT_SYMLINK_NOFOLLOW)
		if errors.Is(err, unix.ENOENT) {
			return missingIn(dir, target, sofar)
		}
		if err != nil {
			return fmt.Errorf("stat %s in rootfs: %w", sofar, err)
		}
		if st.Mode&unix.S_IFMT == unix.S_IFLNK {
			return fmt.Errorf("%s: %w (%s is a symlink)", target, ErrSymlink, sofar)
		}
		if i == len(parts)-1 {
			break
		}
		fd, err := unix.Openat(dir, name, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("open %s in rootfs: %w", sofar, err)
		}
		opened = append(opened, fd)
		dir = fd
	}
	// Everything exists now: it appeared after the open failed.
	return fmt.Errorf("%s: %w (changed while resolving)", target, ErrMissing)
}

// missingIn explains why sofar, under directory fd dir, does not exist: on
// the expected filesystem the kernel simply lacks the file (ErrMissing, e.g.
// /proc/pressure without PSI); anywhere else procfs or sysfs is not mounted
// where it should be (ErrWrongFS), which must not pass as a harmless skip.
func missingIn(dir int, target, sofar string) error {
	var sfs unix.Statfs_t
	if err := unix.Fstatfs(dir, &sfs); err != nil {
		return fmt.Errorf("statfs parent of %s: %w", sofar, err)
	}
	if want := expectedMagic(target); sfs.Type != want {
		return fmt.Errorf("target %s: %w: %s does not exist on f_type %#x, want %#x (not mounted yet?)",
			target, ErrWrongFS, sofar, sfs.Type, want)
	}
	return fmt.Errorf("%s: %w (%s does not exist)", target, ErrMissing, sofar)
}

// realPath is the path of f as seen from the calling thread's root.
func realPath(f *os.File) (string, error) {
	p, err := procfs.ProcSelfFdReadlink(f)
	if err != nil {
		return "", fmt.Errorf("readlink fd of %s: %w", f.Name(), err)
	}
	return p, nil
}

// checkTargetFile requires target to be a regular file on the filesystem its
// path implies, and returns the mount attributes the bind must carry:
// read-only plus whichever of nosuid/nodev/noexec the target's mount has.
func checkTargetFile(f *os.File, target string) (uint64, error) {
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		return 0, fmt.Errorf("stat target %s: %w", target, err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return 0, fmt.Errorf("target %s: %w (%s)", target, ErrNotRegular, fileType(st.Mode))
	}
	var sfs unix.Statfs_t
	if err := unix.Fstatfs(int(f.Fd()), &sfs); err != nil {
		return 0, fmt.Errorf("statfs target %s: %w", target, err)
	}
	if want := expectedMagic(target); sfs.Type != want {
		return 0, fmt.Errorf("target %s: %w (f_type %#x, want %#x)", target, ErrWrongFS, sfs.Type, want)
	}
	return mountAttrs(sfs.Flags), nil
}

// mountAttrs maps statfs f_flags of the target's mount to the MOUNT_ATTR_*
// set for the bind.
func mountAttrs(flags int64) uint64 {
	attrs := uint64(unix.MOUNT_ATTR_RDONLY)
	if flags&unix.ST_NOSUID != 0 {
		attrs |= unix.MOUNT_ATTR_NOSUID
	}
	if flags&unix.ST_NODEV != 0 {
		attrs |= unix.MOUNT_ATTR_NODEV
	}
	if flags&unix.ST_NOEXEC != 0 {
		attrs |= unix.MOUNT_ATTR_NOEXEC
	}
	return attrs
}

func fileType(mode uint32) string {
	switch mode & unix.S_IFMT {
	case unix.S_IFDIR:
		return "directory"
	case unix.S_IFLNK:
		return "symlink"
	case unix.S_IFIFO:
		return "fifo"
	case unix.S_IFSOCK:
		return "socket"
	case unix.S_IFCHR:
		return "character device"
	case unix.S_IFBLK:
		return "block device"
	case unix.S_IFREG:
		return "regular file"
	}
	return fmt.Sprintf("mode %#o", mode&unix.S_IFMT)
}
