// Package state lays out procview's state root: one directory per container
// holding its view files, its metadata and its accounting floors. The state
// root lives on tmpfs (default /run/procview), so it survives daemon restarts
// but not reboots, and a restarted daemon re-adopts every container from it.
//
//	<root>/procviewd.lock        flock held by the running daemon
//	<root>/procviewd.pid
//	<root>/procviewd.start.log   the last started daemon's stderr until it locked
//	<root>/runtime/features-*    the runtimes' namespaces (procview-runc's cache)
//	<root>/containers/<key>/meta.json
//	<root>/containers/<key>/acct.json
//	<root>/containers/<key>/views/{meminfo,...,pressure/cpu,online}
package state

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"

	"github.com/procview/procview/internal/cgroupstats"
	"github.com/procview/procview/internal/cputime"
	"github.com/procview/procview/internal/loadavg"
	"github.com/procview/procview/internal/tasks"
)

// Root is a state root directory.
type Root string

// Containers is the directory holding one directory per container.
func (r Root) Containers() string { return filepath.Join(string(r), "containers") }

// Dir is the directory of the container with the given key.
func (r Root) Dir(key string) string { return filepath.Join(r.Containers(), key) }

// ViewsDir holds the container's view files.
func (r Root) ViewsDir(key string) string { return filepath.Join(r.Dir(key), "views") }

// LockFile is the daemon's lock.
func (r Root) LockFile() string { return filepath.Join(string(r), "procviewd.lock") }

// TryLock takes the daemon lock without waiting; the lock lasts while f is
// open. held reports (with f nil) that another process holds it.
func (r Root) TryLock() (f *os.File, held bool, err error) {
	if err := os.MkdirAll(string(r), 0o755); err != nil {
		return nil, false, fmt.Errorf("create state root %s: %w", r, err)
	}
	f, err = os.OpenFile(r.LockFile(), os.O_RDWR|os.O_CREATE|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, false, fmt.Errorf("open lock: %w", err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, true, nil
		}
		return nil, false, fmt.Errorf("lock %s: %w", r.LockFile(), err)
	}
	return f, false, nil
}

// PidFile holds the daemon's pid.
func (r Root) PidFile() string { return filepath.Join(string(r), "procviewd.pid") }

// RuntimeCache holds what procview-runc learned from runtimes ("features").
func (r Root) RuntimeCache() string { return filepath.Join(string(r), "runtime") }

// StartLog holds the stderr of the last procviewd a hook started, until it
// took the lock: why a daemon failed to start.
func (r Root) StartLog() string { return filepath.Join(string(r), "procviewd.start.log") }

// safeID matches ^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$. Hand-written: the
// regexp's {0,127} compiled at every hook and wrapper start (118 kB, 1700
// allocations, about 1 ms of each container start on a loaded machine).
func safeID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case i > 0 && (c == '_' || c == '.' || c == '-'):
		default:
			return false
		}
	}
	return true
}

// hashedKey reports whether s has the form of a hashed key, h-<32 hex>.
func hashedKey(s string) bool {
	if len(s) != 34 || s[:2] != "h-" {
		return false
	}
	for i := 2; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// Key turns a container id into a directory name. Ids that are not plain
// names ('/', "..", very long, odd bytes) are hashed so no id can escape
// the state root. An id that looks like a hashed key is hashed too, so a
// literal id can never name another container's directory.
func Key(id string) string {
	if safeID(id) && id != "." && id != ".." && !hashedKey(id) {
		return id
	}
	sum := sha256.Sum256([]byte(id))
	return "h-" + hex.EncodeToString(sum[:16])
}

// Ident is a container directory's identity. A container re-created with
// the same id gets a new directory under the same key; its identity tells
// the two apart.
type Ident struct{ Dev, Ino uint64 }

// Ident returns the identity of key's directory.
func (r Root) Ident(key string) (Ident, error) {
	var st unix.Stat_t
	if err := unix.Lstat(r.Dir(key), &st); err != nil {
		return Ident{}, fmt.Errorf("stat state of %s: %w", key, err)
	}
	return Ident{Dev: st.Dev, Ino: st.Ino}, nil
}

// RemoveIf deletes key's directory only while it is still the directory
// id: a container that replaced it keeps its own. The directory is first
// renamed aside, so what gets deleted is what was checked.
func (r Root) RemoveIf(key string, id Ident) error {
	var rnd [8]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return fmt.Errorf("remove state of %s: %w", key, err)
	}
	aside := filepath.Join(r.Containers(), ".gone-"+hex.EncodeToString(rnd[:]))
	err := unix.Renameat2(unix.AT_FDCWD, r.Dir(key), unix.AT_FDCWD, aside, unix.RENAME_NOREPLACE)
	if errors.Is(err, unix.ENOENT) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("remove state of %s: %w", key, err)
	}
	var st unix.Stat_t
	if err := unix.Lstat(aside, &st); err == nil && (Ident{Dev: st.Dev, Ino: st.Ino}) != id {
		// Someone else's: put it back (unless its key was taken meanwhile).
		if err := unix.Renameat2(unix.AT_FDCWD, aside, unix.AT_FDCWD, r.Dir(key), unix.RENAME_NOREPLACE); err != nil {
			return fmt.Errorf("restore state of %s: %w", key, err)
		}
		return nil
	}
	if err := os.RemoveAll(aside); err != nil {
		return fmt.Errorf("remove state of %s: %w", key, err)
	}
	return nil
}

// Meta describes one registered container.
type Meta struct {
	ID       string               `json:"id"`
	Pid      int                  `json:"pid"`
	Bundle   string               `json:"bundle,omitempty"`
	Rootfs   string               `json:"rootfs,omitempty"`
	Location cgroupstats.Location `json:"location"`
	// StartNs is where the container's uptime starts, in host
	// CLOCK_BOOTTIME ns: the init's start, or minus the boottime offset of
	// the container's time namespace when it has one.
	StartNs uint64 `json:"start_ns"`
	// HostUptime shows the host's uptime and btime instead of the
	// container's age (config uptime; never with a time namespace).
	// TimeNamespace: the container has its own boottime. In either case
	// the kernel's /proc/uptime already counts from the boot the process
	// start times count from, so the uptime view is not mounted.
	HostUptime    bool `json:"host_uptime,omitempty"`
	TimeNamespace bool `json:"time_namespace,omitempty"`
	// InitStartNs is the init's start time, to tell it from a reused pid.
	InitStartNs uint64    `json:"init_start_ns"`
	CPUView     string    `json:"cpu_view"`
	Views       []string  `json:"views"`
	Created     time.Time `json:"created"`
}

// Acct is the per-container history that keeps counters monotonic.
type Acct struct {
	CPU   cputime.State `json:"cpu"`
	Load  loadavg.State `json:"load"`
	Tasks tasks.Summary `json:"tasks"`
}

// WriteMeta stores m in dir (temp file + rename: these files are not bind-mounted).
func WriteMeta(dir string, m *Meta) error { return writeJSON(filepath.Join(dir, "meta.json"), m) }

// ReadMeta loads dir/meta.json.
func ReadMeta(dir string) (*Meta, error) {
	var m Meta
	if err := readJSON(filepath.Join(dir, "meta.json"), &m); err != nil {
		return nil, err
	}
	return &m, nil
}

// WriteAcct stores a in dir.
func WriteAcct(dir string, a *Acct) error { return writeJSON(filepath.Join(dir, "acct.json"), a) }

// ReadAcct loads dir/acct.json; a missing file gives a zero Acct.
func ReadAcct(dir string) (*Acct, error) {
	var a Acct
	err := readJSON(filepath.Join(dir, "acct.json"), &a)
	if errors.Is(err, fs.ErrNotExist) {
		return &a, nil
	}
	return &a, err
}

// List returns the keys of registered containers.
func (r Root) List() ([]string, error) {
	ents, err := os.ReadDir(r.Containers())
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list containers: %w", err)
	}
	keys := make([]string, 0, len(ents))
	for _, e := range ents {
		if e.IsDir() && e.Name()[0] != '.' {
			keys = append(keys, e.Name())
		}
	}
	return keys, nil
}

// Remove deletes a container's state.
func (r Root) Remove(key string) error {
	if err := os.RemoveAll(r.Dir(key)); err != nil {
		return fmt.Errorf("remove state of %s: %w", key, err)
	}
	return nil
}

func writeJSON(path string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s: %w", path, err)
	}
	// A fresh name, created exclusively and never through a symlink: a
	// fixed "path.tmp" would be written through whatever sits there.
	f, err := createTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(b)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// createTemp creates dir/prefix<random> with O_EXCL|O_NOFOLLOW, mode 0600.
func createTemp(dir, prefix string) (*os.File, error) {
	var rnd [8]byte
	for range 10 {
		if _, err := rand.Read(rnd[:]); err != nil {
			return nil, fmt.Errorf("temp name: %w", err)
		}
		p := filepath.Join(dir, prefix+hex.EncodeToString(rnd[:]))
		f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("create temp file in %s: %w", dir, err)
		}
		return f, nil
	}
	return nil, fmt.Errorf("create temp file in %s: %w", dir, fs.ErrExist)
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("decode %s: %w", path, err)
	}
	return nil
}
