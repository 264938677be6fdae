// Package viewfile keeps one view file on tmpfs and rewrites it in place.
//
// A bind mount pins the file's inode, so a refresh can never be a rename;
// truncate+write lets readers see an empty file, and a write that changes
// the length lets a reader combine the old size with new bytes. Every
// refresh is therefore one pwrite at offset 0 of exactly the file's current
// length; the layout (internal/layout) makes the rendered content fit it.
package viewfile

import (
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// Layout turns rendered content into the bytes to write.
type Layout interface {
	// Apply returns content padded to Size(); grew reports that it could not
	// fit and the size increased.
	Apply(content []byte) (out []byte, grew bool)
	Size() int
}

// File is an open view file. It remembers a hash and the length of what it
// wrote, not the bytes: a daemon with a thousand containers would otherwise
// hold a second copy of every view.
type File struct {
	f      *os.File
	layout Layout
	sum    uint64
	size   int
}

var seed = maphash.MakeSeed()

// Create makes a new view file at path holding content as laid out by l.
// Mode 0444: containers read it; only the daemon (root, via its fd) writes.
func Create(path string, l Layout, content []byte) (*File, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("create view dir: %w", err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL|unix.O_NOFOLLOW|os.O_TRUNC, 0o444)
	if err != nil {
		return nil, fmt.Errorf("create view %s: %w", path, err)
	}
	out, _ := l.Apply(content)
	if _, err := f.WriteAt(out, 0); err != nil {
		f.Close()
		return nil, fmt.Errorf("write view %s: %w", path, err)
	}
	return &File{f: f, layout: l, sum: maphash.Bytes(seed, out), size: len(out)}, nil
}

// Open adopts an existing view file (after a daemon restart). mk builds the
// layout from the bytes on disk, so column widths and size carry over.
func Open(path string, mk func(existing []byte) Layout) (*File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|unix.O_NOFOLLOW, 0)
	if err != nil {
		return nil, fmt.Errorf("open view %s: %w", path, err)
	}
	cur, err := io.ReadAll(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("read view %s: %w", path, err)
	}
	return &File{f: f, layout: mk(cur), sum: maphash.Bytes(seed, cur), size: len(cur)}, nil
}

// Update writes content if it differs from what the file holds. It reports
// whether the length had to change (rare: a column outgrew the slack).
func (v *File) Update(content []byte) (grew bool, err error) {
	out, grew := v.layout.Apply(content)
	sum := maphash.Bytes(seed, out)
	if len(out) == v.size && sum == v.sum {
		return false, nil
	}
	if _, err := v.f.WriteAt(out, 0); err != nil {
		return grew, fmt.Errorf("write view %s: %w", v.f.Name(), err)
	}
	if len(out) < v.size {
		// Only exact-length views (online) can shrink, when the CPU count drops.
		if err := v.f.Truncate(int64(len(out))); err != nil {
			return grew, fmt.Errorf("truncate view %s: %w", v.f.Name(), err)
		}
	}
	v.sum, v.size = sum, len(out)
	return grew, nil
}

// Close releases the file.
func (v *File) Close() error {
	if v == nil || v.f == nil {
		return nil
	}
	err := v.f.Close()
	v.f = nil
	if errors.Is(err, os.ErrClosed) {
		return nil
	}
	return err
}
