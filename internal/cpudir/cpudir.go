// Package cpudir builds a container's /sys/devices/system/cpu: a directory
// on the state root, bound over the container's, holding only the visible
// CPUs' cpuN directories (the host's real ones, bound in by the hook) and
// online/possible/present for 0..n-1, so sysstat, lscpu, glibc and psutil
// count the n CPUs /proc/cpuinfo lists.
//
// Layout under <state>/containers/<key>/cpudir:
//
//	visible/        bound over /sys/devices/system/cpu
//	  cpu0 … cpuN-1 placeholders the hook bound a host cpuK directory onto
//	  cpufreq, …    placeholders for the host's other directories, bound too
//	  kernel_max, … copies of the host's small files
//	  online, possible, present   hard links of the view files
//	stash/hK        host cpuK's placeholder while that CPU is not visible
//	map.json        which host CPU backs each visible cpuI
//
// When the visible CPUs change (quota or cpuset), the daemon renames
// placeholders between visible/ and stash/. A mount follows its mountpoint's
// dentry through a rename, and renaming a dentry that is a mountpoint in
// another mount namespace is allowed, so the container sees the directory
// appear or vanish without procview entering its namespace. A mount whose
// mountpoint sits in stash/ is unreachable from the container (and absent
// from its mountinfo) until it moves back.
package cpudir

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
)

// Name is the directory's name in a container's state directory.
const Name = "cpudir"

// Target is the directory covered in the container.
const Target = "/sys/devices/system/cpu"

// Linked are the files that are views (the view files bound in).
var Linked = []string{"online", "possible", "present"}

var cpuName = regexp.MustCompile(`^cpu[0-9]+$`)

// Dir is one container's cpu directory.
type Dir string

// Visible is the directory bound over Target.
func (d Dir) Visible() string { return filepath.Join(string(d), "visible") }
func (d Dir) stash() string   { return filepath.Join(string(d), "stash") }
func (d Dir) mapPath() string { return filepath.Join(string(d), "map.json") }

// Mapping is which host CPU each visible cpuI stands for (Want) and which
// host directory backs it (Visible; -1: an empty directory, for a CPU the
// hook did not stash).
type Mapping struct {
	Want    []int `json:"want"`
	Visible []int `json:"visible"`
}

// Entry is one thing the hook binds into the visible directory.
type Entry struct {
	Source      string // host path
	Placeholder string // host path of the placeholder in visible/
	Target      string // path in the container
}

// Build creates the directory for a container whose cpuset is stash (host
// CPU numbers) from the host's sysCPU directory (/sys/devices/system/cpu).
// views maps "online", "possible", "present" to their view files. It
// returns what the hook must bind, in order: every host directory other than
// cpuN onto its placeholder, the view files onto theirs, then each stashed
// cpuK onto hK. Arrange then names the visible ones cpu0..cpuN-1.
func Build(d Dir, sysCPU string, stash []int, views map[string]string) ([]Entry, error) {
	vis := d.Visible()
	if err := os.MkdirAll(vis, 0o755); err != nil {
		return nil, fmt.Errorf("create %s: %w", vis, err)
	}
	if err := os.MkdirAll(d.stash(), 0o755); err != nil {
		return nil, fmt.Errorf("create %s: %w", d.stash(), err)
	}
	ents, err := os.ReadDir(sysCPU)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", sysCPU, err)
	}
	var out []Entry
	for _, e := range ents {
		name := e.Name()
		switch {
		case cpuName.MatchString(name) || slices.Contains(Linked, name):
			continue
		case name == "offline":
			// No visible CPU is offline.
			if err := os.WriteFile(filepath.Join(vis, name), []byte("\n"), 0o444); err != nil {
				return nil, fmt.Errorf("write %s: %w", name, err)
			}
		case e.IsDir():
			p := filepath.Join(vis, name)
			if err := os.Mkdir(p, 0o755); err != nil {
				return nil, fmt.Errorf("create placeholder %s: %w", p, err)
			}
			out = append(out, Entry{Source: filepath.Join(sysCPU, name), Placeholder: p, Target: Target + "/" + name})
		case e.Type().IsRegular():
			// Small static files (kernel_max, modalias, isolated,
			// nohz_full, uevent, …): a copy, which also makes uevent inert.
			b, err := os.ReadFile(filepath.Join(sysCPU, name))
			if err != nil {
				continue // write-only or unreadable: leave it out
			}
			if err := os.WriteFile(filepath.Join(vis, name), b, 0o444); err != nil {
				return nil, fmt.Errorf("write %s: %w", name, err)
			}
		}
	}
	for _, name := range Linked {
		src, ok := views[name]
		if !ok {
			continue
		}
		// A placeholder the view file is bound onto, as over the host's
		// file without the directory: a read-only mount of the same inode
		// the daemon rewrites.
		p := filepath.Join(vis, name)
		if err := os.WriteFile(p, nil, 0o444); err != nil {
			return nil, fmt.Errorf("create placeholder %s: %w", p, err)
		}
		out = append(out, Entry{Source: src, Placeholder: p, Target: Target + "/" + name})
	}
	for _, k := range stash {
		src := filepath.Join(sysCPU, "cpu"+strconv.Itoa(k))
		if _, err := os.Stat(src); err != nil {
			continue
		}
		h := "h" + strconv.Itoa(k)
		p := filepath.Join(vis, h)
		if err := os.Mkdir(p, 0o755); err != nil {
			return nil, fmt.Errorf("create placeholder %s: %w", p, err)
		}
		out = append(out, Entry{Source: src, Placeholder: p, Target: Target + "/" + h})
	}
	return out, nil
}

// ReadMapping reads the current mapping; a missing file is the hook's
// state before the first Arrange: nothing visible yet.
func ReadMapping(d Dir) (Mapping, error) {
	var m Mapping
	b, err := os.ReadFile(d.mapPath())
	if errors.Is(err, fs.ErrNotExist) {
		return m, nil
	}
	if err != nil {
		return m, fmt.Errorf("read %s: %w", d.mapPath(), err)
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return m, fmt.Errorf("decode %s: %w", d.mapPath(), err)
	}
	return m, nil
}

// Exists reports whether the container has a cpu directory.
func Exists(d Dir) bool {
	_, err := os.Stat(d.Visible())
	return err == nil
}

// Arrange makes visible/ hold cpu0..cpuN-1 backed by the host CPUs want, in
// order: only positions whose host CPU changes are touched. Placeholders the
// hook left in visible/ (hK) and entries no longer wanted move to stash/; a
// wanted CPU with no stashed directory gets an empty one. It returns the
// mapping now in place.
func Arrange(d Dir, want []int) (Mapping, error) {
	cur, err := ReadMapping(d)
	if err != nil {
		return cur, err
	}
	vis, st := d.Visible(), d.stash()
	// First call after Build: the hook's hK placeholders are still in
	// visible/; every one goes to stash/ unless it is wanted in place.
	if ents, err := os.ReadDir(vis); err == nil {
		for _, e := range ents {
			if n := e.Name(); len(n) > 1 && n[0] == 'h' && isDigits(n[1:]) {
				if err := os.Rename(filepath.Join(vis, n), filepath.Join(st, n)); err != nil {
					return cur, fmt.Errorf("stash %s: %w", n, err)
				}
			}
		}
	}
	if slices.Equal(cur.Want, want) {
		return cur, nil
	}
	// Out: positions that change or go away.
	for i, k := range cur.Visible {
		if i < len(want) && want[i] == cur.Want[i] {
			continue
		}
		p := filepath.Join(vis, "cpu"+strconv.Itoa(i))
		var err error
		if k < 0 {
			err = os.Remove(p)
		} else {
			err = os.Rename(p, filepath.Join(st, "h"+strconv.Itoa(k)))
		}
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return cur, fmt.Errorf("hide cpu%d: %w", i, err)
		}
	}
	// In: positions that are new or changed.
	next := Mapping{Want: slices.Clone(want), Visible: slices.Clone(want)}
	for i, k := range want {
		if i < len(cur.Want) && cur.Want[i] == k {
			next.Visible[i] = cur.Visible[i]
			continue
		}
		p := filepath.Join(vis, "cpu"+strconv.Itoa(i))
		err := os.Rename(filepath.Join(st, "h"+strconv.Itoa(k)), p)
		if errors.Is(err, fs.ErrNotExist) {
			// Not in the cpuset the hook saw: an empty directory still
			// counts for glibc, sysstat and lscpu.
			next.Visible[i] = -1
			err = os.Mkdir(p, 0o755)
		}
		if err != nil {
			return cur, fmt.Errorf("show cpu%d (host cpu%d): %w", i, k, err)
		}
	}
	if err := writeMapping(d, next); err != nil {
		return next, err
	}
	return next, nil
}

func writeMapping(d Dir, m Mapping) error {
	b, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("encode mapping: %w", err)
	}
	tmp := d.mapPath() + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return fmt.Errorf("write %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, d.mapPath()); err != nil {
		return fmt.Errorf("rename %s: %w", tmp, err)
	}
	return nil
}

func isDigits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}
