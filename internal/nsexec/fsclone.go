//go:build linux

package nsexec

import (
	"errors"
	"fmt"
	"os"
	"strings"

	pathrs "github.com/cyphar/filepath-securejoin/pathrs-lite"
	"golang.org/x/sys/unix"
)

// detached is a mount cloned from the container, not attached anywhere yet.
type detached struct {
	fd     int
	target string
}

// attachContainerFiles shows the container's files (--root, --etc) in the
// new mount namespace. On the locked thread it enters the container's mount
// namespace, clones what it needs with open_tree(OPEN_TREE_CLONE) (a plain
// rbind of /proc/PID/root would drop the container's submounts, and the
// kernel refuses to clone another namespace's mounts from outside), makes
// the clones read-only, returns to the new namespace and attaches them with
// move_mount. Files for --etc are resolved inside the container's root
// (pathrs-lite: symlinks never lead onto the host's files).
func (r *runner) attachContainerFiles() error {
	own, err := os.Open("/proc/thread-self/ns/mnt")
	if err != nil {
		return fmt.Errorf("open own mount namespace: %w", err)
	}
	defer own.Close()
	// Only files the host has get covered: no mount point is created.
	var etc []string
	if r.o.Etc {
		for _, name := range EtcFiles {
			if st, err := os.Stat(name); err == nil && st.Mode().IsRegular() {
				etc = append(etc, name)
			}
		}
	}
	if err := unix.Setns(int(r.mntNS.Fd()), unix.CLONE_NEWNS); err != nil {
		return fmt.Errorf("enter the container's mount namespace: %w", err)
	}
	clones, cloneErr := r.cloneFromContainer(etc)
	defer func() {
		for _, c := range clones {
			unix.Close(c.fd)
		}
	}()
	if err := unix.Setns(int(own.Fd()), unix.CLONE_NEWNS); err != nil {
		// The thread is stuck in the container's namespace: it must not
		// start anything.
		return fmt.Errorf("return from the container's mount namespace: %w", err)
	}
	if cloneErr != nil {
		return cloneErr
	}
	for _, c := range clones {
		if err := unix.MoveMount(c.fd, "", unix.AT_FDCWD, c.target, unix.MOVE_MOUNT_F_EMPTY_PATH); err != nil {
			return fmt.Errorf("attach the container's %s: %w", c.target, err)
		}
	}
	return nil
}

// cloneFromContainer runs inside the container's mount namespace.
func (r *runner) cloneFromContainer(etc []string) ([]detached, error) {
	var out []detached
	ro := &unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY | unix.MOUNT_ATTR_NOSUID | unix.MOUNT_ATTR_NODEV}
	if r.o.Root != "" {
		fd, err := unix.OpenTree(unix.AT_FDCWD, "/", unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC|unix.AT_RECURSIVE)
		if err != nil {
			return out, fmt.Errorf("clone the container's root: %w", err)
		}
		out = append(out, detached{fd, r.o.Root})
		if err := unix.MountSetattr(fd, "", unix.AT_EMPTY_PATH|unix.AT_RECURSIVE, ro); err != nil {
			return out, fmt.Errorf("make the container's root read-only: %w", err)
		}
	}
	if len(etc) == 0 {
		return out, nil
	}
	root, err := os.OpenFile("/", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return out, fmt.Errorf("open the container's root: %w", err)
	}
	defer root.Close()
	for _, name := range etc {
		f, err := pathrs.OpenatInRoot(root, strings.TrimPrefix(name, "/"))
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return out, fmt.Errorf("open the container's %s: %w", name, err)
		}
		var st unix.Stat_t
		err = unix.Fstat(int(f.Fd()), &st)
		if err != nil || st.Mode&unix.S_IFMT != unix.S_IFREG {
			f.Close()
			continue
		}
		fd, err := unix.OpenTree(int(f.Fd()), "", unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC|unix.AT_EMPTY_PATH)
		f.Close()
		if err != nil {
			return out, fmt.Errorf("clone the container's %s: %w", name, err)
		}
		out = append(out, detached{fd, name})
		if err := unix.MountSetattr(fd, "", unix.AT_EMPTY_PATH, ro); err != nil {
			return out, fmt.Errorf("make the container's %s read-only: %w", name, err)
		}
	}
	return out, nil
}
