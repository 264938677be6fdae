// Package readwatch tells procviewd which containers read a view since
// their views were last written, so an unread container whose counters do
// not move costs no full refresh.
//
// Views reach containers through read-only bind mounts, and the kernel
// never updates atime through a read-only mount (touch_atime needs write
// access to the mount), so atime cannot tell. inotify can: IN_ACCESS is
// reported for reads through any mount of the inode, in any mount
// namespace, and a watch on a directory reports reads of the files in it.
// Each watch is one-shot (IN_ONESHOT): the kernel drops it at the first
// read, so a container polling its views pays for one event per refresh,
// not one per read, and the daemon re-arms the watch after it rewrites the
// views. The same works on tmpfs and on any other filesystem.
package readwatch

import (
	"errors"
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Watcher is one inotify instance for every container of a daemon. It is
// not safe for concurrent use.
type Watcher struct {
	fd    int
	byWD  map[int32]string            // armed watch -> container key
	armed map[string]map[string]int32 // key -> dir -> wd of an armed watch
	buf   []byte
}

// New opens an inotify instance.
func New() (*Watcher, error) {
	fd, err := unix.InotifyInit1(unix.IN_NONBLOCK | unix.IN_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("inotify_init1: %w", err)
	}
	return &Watcher{fd: fd, byWD: map[int32]string{}, armed: map[string]map[string]int32{},
		buf: make([]byte, 64<<10)}, nil
}

// Arm watches dirs (a container's view directories) for the next read of
// any file in them. Directories already armed cost nothing.
func (w *Watcher) Arm(key string, dirs []string) error {
	a := w.armed[key]
	if a == nil {
		a = make(map[string]int32, len(dirs))
		w.armed[key] = a
	}
	var errs []error
	for _, d := range dirs {
		if _, ok := a[d]; ok {
			continue
		}
		wd, err := unix.InotifyAddWatch(w.fd, d, unix.IN_ACCESS|unix.IN_ONESHOT|unix.IN_ONLYDIR)
		if err != nil {
			errs = append(errs, fmt.Errorf("watch %s: %w", d, err))
			continue
		}
		a[d] = int32(wd)
		w.byWD[int32(wd)] = key
	}
	return errors.Join(errs...)
}

// Drain reads the queued events without blocking and calls read once per
// event for the container whose view was read. Watches that fired are
// disarmed (the kernel removed them).
func (w *Watcher) Drain(read func(key string)) error {
	for {
		n, err := unix.Read(w.fd, w.buf)
		if err == unix.EINTR {
			continue
		}
		if err == unix.EAGAIN {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read inotify events: %w", err)
		}
		for off := 0; off+unix.SizeofInotifyEvent <= n; {
			ev := (*unix.InotifyEvent)(unsafe.Pointer(&w.buf[off]))
			off += unix.SizeofInotifyEvent + int(ev.Len)
			if ev.Mask&unix.IN_Q_OVERFLOW != 0 {
				// Lost events: treat every container as read.
				for key := range w.armed {
					read(key)
				}
				w.disarmAll()
				continue
			}
			key, ok := w.byWD[ev.Wd]
			if !ok {
				continue // the IN_IGNORED that follows a one-shot event
			}
			// IN_ACCESS: a read (the kernel drops the one-shot watch).
			// IN_IGNORED of a watch still armed: the directory went away
			// or was replaced; reported as a read so the caller refreshes
			// and re-arms.
			if ev.Mask&(unix.IN_ACCESS|unix.IN_IGNORED) != 0 {
				w.disarm(key, ev.Wd)
				read(key)
			}
		}
	}
}

func (w *Watcher) disarm(key string, wd int32) {
	delete(w.byWD, wd)
	for d, x := range w.armed[key] {
		if x == wd {
			delete(w.armed[key], d)
		}
	}
}

func (w *Watcher) disarmAll() {
	for wd := range w.byWD {
		_, _ = unix.InotifyRmWatch(w.fd, uint32(wd))
	}
	clear(w.byWD)
	clear(w.armed)
}

// Forget removes key's watches (the container is gone).
func (w *Watcher) Forget(key string) {
	for _, wd := range w.armed[key] {
		_, _ = unix.InotifyRmWatch(w.fd, uint32(wd))
		delete(w.byWD, wd)
	}
	delete(w.armed, key)
}

// Close releases the inotify instance.
func (w *Watcher) Close() error {
	if w == nil || w.fd < 0 {
		return nil
	}
	err := unix.Close(w.fd)
	w.fd = -1
	return err
}
