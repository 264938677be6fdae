// Package publish owns the view files of registered containers: it creates
// them at registration (the hook), adopts them after a daemon restart, and
// refreshes them in place.
package publish

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"hash/maphash"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/procview/procview/internal/cgroupstats"
	"github.com/procview/procview/internal/cpuview"
	"github.com/procview/procview/internal/hoststats"
	"github.com/procview/procview/internal/layout"
	"github.com/procview/procview/internal/render"
	"github.com/procview/procview/internal/state"
	"github.com/procview/procview/internal/viewfile"
	"github.com/procview/procview/internal/views"
)

// Set is one container's open view files.
type Set struct {
	Root  state.Root
	Key   string
	Meta  *state.Meta
	Acct  *state.Acct
	Files map[string]*viewfile.File
	// DirID is the identity of the directory the files were opened in:
	// when it changes, the container was re-created with the same id.
	DirID state.Ident

	// Last is the last cgroup sample and LastCPUs the CPUs the views
	// showed then; Written counts view rewrites: the daemon hands them to
	// the registry (metrics, ps) and resets Written.
	Last     *cgroupstats.Stats
	LastCPUs int
	Written  uint64
	// SlowByAge leaves re-reading the slow cgroup files (limits, cpuset,
	// ancestors) to ForceFull, instead of every few Refreshes: for a caller
	// that refreshes a container when it changes, not every round.
	SlowByAge bool

	// Kept between refreshes so a round costs few syscalls and allocations.
	cg       *cgroupstats.Reader
	rendered map[string]uint64 // hash of the last content handed to each view's file
	acct     acctFile
	cpuDir   cpuDirState
}

// renderBufs holds render buffers: one per refresh in flight rather than
// one (as large as the largest view) per container.
var renderBufs = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// hashSeed keys the content hashes; a collision (odds 2^-64 per change)
// would delay one view's update until its content changes again.
var hashSeed = maphash.MakeSeed()

// Target is the sampling target described by the metadata.
func (s *Set) Target() views.Target {
	return views.Target{Location: s.Meta.Location, StartNs: s.Meta.StartNs, CPUView: cpuview.Mode(s.Meta.CPUView),
		HostUptime: s.Meta.HostUptime}
}

// Path is where view name lives on the host.
func (s *Set) Path(name string) string {
	return filepath.Join(s.Root.ViewsDir(s.Key), filepath.FromSlash(name))
}

// Create registers a container: writes meta.json, renders every view once
// from a live sample and creates the files. On error nothing is left behind.
func Create(root state.Root, key string, meta *state.Meta, smp *views.Sampler, host *hoststats.Host) (_ *Set, err error) {
	dir := root.Dir(key)
	if err := os.MkdirAll(root.Containers(), 0o755); err != nil {
		return nil, fmt.Errorf("create state root %s: %w", root, err)
	}
	if err := os.Mkdir(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create container state: %w", err)
	}
	s := &Set{Root: root, Key: key, Meta: meta, Acct: &state.Acct{}, Files: map[string]*viewfile.File{}}
	defer func() {
		if err != nil {
			s.Close()
			_ = root.Remove(key)
		}
	}()
	if s.DirID, err = root.Ident(key); err != nil {
		return nil, err
	}
	in, err := smp.Input(host, s.Target(), s.Acct)
	if err != nil {
		return nil, err
	}
	out, err := views.Render(in, meta.Views)
	if err != nil {
		return nil, err
	}
	for _, name := range meta.Views {
		v, _ := render.Lookup(name)
		f, err := viewfile.Create(s.Path(v.Name), layout.New(v.Layout, out[v.Name]), out[v.Name])
		if err != nil {
			return nil, err
		}
		s.Files[v.Name] = f
	}
	if err := state.WriteAcct(dir, s.Acct); err != nil {
		return nil, err
	}
	// meta.json last: its presence tells the daemon the container is complete.
	if err := state.WriteMeta(dir, meta); err != nil {
		return nil, err
	}
	return s, nil
}

// ErrIncomplete marks a container directory without meta.json (being created
// or half-removed).
var ErrIncomplete = errors.New("container state incomplete")

// Adopt opens an existing container's files, e.g. after a daemon restart.
func Adopt(root state.Root, key string) (_ *Set, err error) {
	dir := root.Dir(key)
	// Before reading: files from a directory that replaces this one are
	// then at worst adopted again next round.
	dirID, err := root.Ident(key)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s", ErrIncomplete, key)
	}
	if err != nil {
		return nil, err
	}
	meta, err := state.ReadMeta(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s", ErrIncomplete, key)
	}
	if err != nil {
		return nil, err
	}
	acct, err := state.ReadAcct(dir)
	if err != nil {
		acct = &state.Acct{} // floors are an optimisation; values re-derive from counters
	}
	s := &Set{Root: root, Key: key, Meta: meta, Acct: acct, Files: map[string]*viewfile.File{}, DirID: dirID}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	for _, name := range meta.Views {
		v, ok := render.Lookup(name)
		if !ok {
			continue
		}
		spec := v.Layout
		f, err := viewfile.Open(s.Path(v.Name), func(b []byte) viewfile.Layout { return layout.Adopt(spec, b) })
		if err != nil {
			return nil, err
		}
		s.Files[v.Name] = f
	}
	return s, nil
}

// Probe reports whether the container's usage counters (memory, CPU, I/O)
// moved since the last Refresh or Probe: one pread per counter on kept
// descriptors (cgroupstats.Reader.Probe). It reports true before the first
// Refresh and after a failed one.
func (s *Set) Probe() bool {
	if s.cg == nil {
		return true
	}
	return s.cg.Probe()
}

// ForceFull makes the next Refresh re-read every cgroup file, limits and
// cpuset included, not only the counters.
func (s *Set) ForceFull() {
	if s.cg != nil {
		s.cg.ForceFull()
	}
}

// ViewDirs are the directories holding the container's view files (views/
// and views/pressure/), the ones a read watch covers.
func (s *Set) ViewDirs() []string {
	dirs := []string{s.Root.ViewsDir(s.Key)}
	for name := range s.Files {
		if d := filepath.Dir(s.Path(name)); !slices.Contains(dirs, d) {
			dirs = append(dirs, d)
		}
	}
	return dirs
}

// Refresh samples the container and rewrites every changed view in place.
// It returns the names of views whose length had to grow. The cgroup is
// read through a cgroupstats.Reader kept in the Set, and a view whose
// rendered content did not change is neither laid out nor written.
func (s *Set) Refresh(smp *views.Sampler, host *hoststats.Host) (grew []string, err error) {
	if s.cg == nil {
		s.cg = smp.NewReader(s.Meta.Location)
		if s.SlowByAge {
			s.cg.FullEvery = math.MaxInt
		}
	}
	// Pid lists are only used by the task scan (every 5 s); a v1 list
	// costs an open and a read each round otherwise.
	s.cg.StalePidLists = !smp.ScanDue(s.Acct)
	st, err := s.cg.Read()
	if err != nil {
		s.Last = nil
		return nil, fmt.Errorf("read cgroup: %w", err)
	}
	in, err := smp.InputFrom(host, st, s.Target(), s.Acct)
	if err != nil {
		return nil, err
	}
	s.Last, s.LastCPUs = st, in.CPUs
	if s.rendered == nil {
		s.rendered = make(map[string]uint64, len(s.Files))
	}
	buf := renderBufs.Get().(*bytes.Buffer)
	defer renderBufs.Put(buf)
	var errs []error
	if err := s.syncCPUDir(in); err != nil {
		errs = append(errs, err)
	}
	for _, name := range s.Meta.Views {
		v, ok := render.Lookup(name)
		if !ok {
			return nil, fmt.Errorf("unknown view %q", name)
		}
		f := s.Files[v.Name]
		if f == nil {
			continue
		}
		buf.Reset()
		if err := v.Render(buf, in); err != nil {
			return nil, fmt.Errorf("render %s: %w", v.Name, err)
		}
		sum := maphash.Bytes(hashSeed, buf.Bytes())
		if last, seen := s.rendered[v.Name]; seen && last == sum {
			continue // same content: the file already holds its layout
		}
		g, err := f.Update(buf.Bytes())
		if err != nil {
			errs = append(errs, err)
			delete(s.rendered, v.Name) // retry the write next round
			continue
		}
		s.rendered[v.Name] = sum
		s.Written++
		if g {
			grew = append(grew, v.Name)
		}
	}
	if err := s.acct.write(s.Root.Dir(s.Key), s.Acct); err != nil {
		errs = append(errs, err)
	}
	return grew, errors.Join(errs...)
}

// Close closes every file.
func (s *Set) Close() {
	for _, f := range s.Files {
		f.Close()
	}
	if s.cg != nil {
		s.cg.Close()
		s.cg = nil
	}
	s.acct.close()
}

// acctFile rewrites acct.json in place with one pwrite instead of a temp
// file and a rename per round. Shorter content is padded with spaces, which
// JSON ignores, so the file never holds a mix of two versions; the state
// root is tmpfs, so a daemon killed mid-round leaves the last whole write.
type acctFile struct {
	f    *os.File
	last []byte
}

func (a *acctFile) write(dir string, acct *state.Acct) error {
	b, err := json.Marshal(acct)
	if err != nil {
		return fmt.Errorf("encode acct.json: %w", err)
	}
	if a.f == nil {
		// The hook wrote the first version with state.WriteAcct; from
		// now on the daemon owns the file.
		if err := state.WriteAcct(dir, acct); err != nil {
			return err
		}
		p := filepath.Join(dir, "acct.json")
		f, err := os.OpenFile(p, os.O_RDWR|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("open %s: %w", p, err)
		}
		a.f, a.last = f, b
		return nil
	}
	if bytes.Equal(b, bytes.TrimRight(a.last, " ")) {
		return nil
	}
	for len(b) < len(a.last) {
		b = append(b, ' ')
	}
	if _, err := a.f.WriteAt(b, 0); err != nil {
		return fmt.Errorf("write %s: %w", a.f.Name(), err)
	}
	a.last = b
	return nil
}

func (a *acctFile) close() {
	if a.f != nil {
		a.f.Close()
		a.f = nil
	}
}
