// Package publish owns the view files of registered containers: it creates
// them at registration (the hook), adopts them after a daemon restart, and
// refreshes them in place.
package publish

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

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
}

// Target is the sampling target described by the metadata.
func (s *Set) Target() views.Target {
	return views.Target{Location: s.Meta.Location, StartNs: s.Meta.StartNs, CPUView: cpuview.Mode(s.Meta.CPUView)}
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
	s := &Set{Root: root, Key: key, Meta: meta, Acct: acct, Files: map[string]*viewfile.File{}}
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

// Refresh samples the container and rewrites every changed view in place.
// It returns the names of views whose length had to grow.
func (s *Set) Refresh(smp *views.Sampler, host *hoststats.Host) (grew []string, err error) {
	in, err := smp.Input(host, s.Target(), s.Acct)
	if err != nil {
		return nil, err
	}
	out, err := views.Render(in, s.Meta.Views)
	if err != nil {
		return nil, err
	}
	var errs []error
	for name, f := range s.Files {
		g, err := f.Update(out[name])
		if err != nil {
			errs = append(errs, err)
		}
		if g {
			grew = append(grew, name)
		}
	}
	if err := state.WriteAcct(s.Root.Dir(s.Key), s.Acct); err != nil {
		errs = append(errs, err)
	}
	return grew, errors.Join(errs...)
}

// Close closes every file.
func (s *Set) Close() {
	for _, f := range s.Files {
		f.Close()
	}
}
