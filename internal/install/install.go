// Package install registers procview with a container engine (docker,
// containerd, podman, CRI-O) by editing the engine's configuration files, and
// reverts that edit.
//
// Each engine touches two kinds of files:
//   - shared files (daemon.json, containerd's config.toml) are patched as text
//     so that every other byte, comments included, stays as it was;
//   - owned files (hooks.d JSON, containers.conf and crio.conf drop-ins) are
//     procview's alone.
//
// Before the first change install keeps the original bytes in
// <file>.procview.bak, or, when the file did not exist, leaves a
// <file>.procview.created marker listing the directories it created. Uninstall puts the backup back when the
// file is still what install made of it (byte for byte), removes a file
// install created, and otherwise removes only procview's entry; without a
// backup or marker it leaves an entry alone (written by hand or by make
// install), except containerd's marked block, which is always procview's.
//
// The format logic is pure ((orig, opts) -> (new, changed, err)); this file
// holds the file handling shared by every engine: backup, atomic write and
// the printed report.
package install

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// Suffixes of the bookkeeping files written next to a configuration file.
const (
	BackupSuffix  = ".procview.bak"
	CreatedSuffix = ".procview.created"
)

// Engines lists the engines install knows, in the order of the usage text.
var Engines = []string{"docker", "containerd", "podman", "crio"}

// Options configure one install or uninstall run.
type Options struct {
	// Engine is one of Engines.
	Engine string
	// Config is the engine's configuration file (daemon.json, config.toml,
	// or the drop-in for podman and crio); empty means the engine's default.
	Config string
	// HooksDir is the oci hooks.d directory (podman, crio); empty means
	// DefaultHooksDir.
	HooksDir string
	// BinDir holds procview-runc and procview-hook (install only).
	BinDir string
	// DryRun prints what would change without writing anything.
	DryRun bool
	// Out receives the report.
	Out io.Writer
}

// Default paths.
const (
	DefaultDockerConfig     = "/etc/docker/daemon.json"
	DefaultContainerdConfig = "/etc/containerd/config.toml"
	DefaultPodmanConfig     = "/etc/containers/containers.conf.d/99-procview.conf"
	DefaultCrioConfig       = "/etc/crio/crio.conf.d/99-procview.conf"
	DefaultHooksDir         = "/usr/share/containers/oci/hooks.d"
)

// kind tells how a file is shared with the rest of the system.
type kind int

const (
	shared kind = iota // edited in place; others own the rest of it
	owned              // procview's alone (a drop-in or a hook file)
)

// fileEdit is one file an engine changes, with its pure transformations.
type fileEdit struct {
	path string
	kind kind
	// noBackup: the directory reads every file (CRI-O's crio.conf.d), so a
	// .procview.bak there would be loaded as configuration; refuse to
	// replace a foreign file instead of backing it up.
	noBackup bool
	// install and uninstall map the current bytes (nil when the file is
	// missing) to the new ones.
	install   func(orig []byte) ([]byte, bool, error)
	uninstall func(cur []byte) ([]byte, bool, error)
	// marked: uninstall recognises exactly what install added (a marked
	// block), so it may remove it without a backup or created marker.
	// Otherwise such an entry may have been written by hand, and is left.
	marked bool
	// blank reports whether what uninstall left holds no configuration
	// (nil: only whitespace); a file install created that ends up blank is
	// removed.
	blank func([]byte) bool
}

func (f fileEdit) isBlank(b []byte) bool {
	if f.blank != nil {
		return f.blank(b)
	}
	return len(bytes.TrimSpace(b)) == 0
}

// plan is what an engine does: its files, and what to tell the operator.
type plan struct {
	files []fileEdit
	next  string // how to make the engine pick the change up
	// nextUninstall, when set, replaces next after uninstall.
	nextUninstall string
	check         string // a one-line check
}

func planFor(o Options) (plan, error) {
	switch o.Engine {
	case "docker":
		return dockerPlan(o), nil
	case "containerd":
		return containerdPlan(o), nil
	case "podman":
		return podmanPlan(o), nil
	case "crio":
		return crioPlan(o), nil
	}
	return plan{}, fmt.Errorf("unknown engine %q (want one of %s)", o.Engine, strings.Join(Engines, ", "))
}

func withDefault(p, def string) string {
	if p == "" {
		return def
	}
	return p
}

// Install configures o.Engine to use procview.
func Install(o Options) error {
	defer bufferReport(&o)()
	if o.BinDir == "" {
		return errors.New("install: no bin dir")
	}
	if !filepath.IsAbs(o.BinDir) {
		return fmt.Errorf("install: bin dir %q is not absolute", o.BinDir)
	}
	p, err := planFor(o)
	if err != nil {
		return err
	}
	changed := false
	for _, f := range p.files {
		c, err := installFile(o, f)
		if err != nil {
			return err
		}
		changed = changed || c
	}
	switch {
	case !changed:
		fmt.Fprintf(o.Out, "%s: already configured\n", o.Engine)
		return nil
	case o.DryRun:
		fmt.Fprintf(o.Out, "%s: dry run, nothing written\n", o.Engine)
	}
	if p.next != "" {
		fmt.Fprintf(o.Out, "next: %s\n", p.next)
	}
	if p.check != "" {
		fmt.Fprintf(o.Out, "check: %s\n", p.check)
	}
	return nil
}

// Uninstall reverts Install.
func Uninstall(o Options) error {
	defer bufferReport(&o)()
	p, err := planFor(o)
	if err != nil {
		return err
	}
	changed := false
	// Reverse order: hooks before the runtime entry that may use them.
	for i := len(p.files) - 1; i >= 0; i-- {
		c, err := uninstallFile(o, p.files[i])
		if err != nil {
			return err
		}
		changed = changed || c
	}
	switch {
	case !changed:
		fmt.Fprintf(o.Out, "%s: not configured by procview install, nothing to do\n", o.Engine)
	case o.DryRun:
		fmt.Fprintf(o.Out, "%s: dry run, nothing written\n", o.Engine)
	default:
		if n := withDefault(p.nextUninstall, p.next); n != "" {
			fmt.Fprintf(o.Out, "next: %s\n", n)
		}
	}
	return nil
}

// bufferReport holds the report until the returned function runs, so that
// a closed stdout (| head) cannot kill the process half way through the
// files.
func bufferReport(o *Options) func() {
	out := o.Out
	if out == nil {
		out = io.Discard
	}
	var rep bytes.Buffer
	o.Out = &rep
	return func() { out.Write(rep.Bytes()) }
}

// readOptional returns the file's bytes, or nil and false when it is missing.
func readOptional(path string) ([]byte, bool, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("read %s: %w", path, err)
	}
	return b, true, nil
}

func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

func installFile(o Options, f fileEdit) (bool, error) {
	orig, existed, err := readOptional(f.path)
	if err != nil {
		return false, err
	}
	next, changed, err := f.install(orig)
	if err != nil {
		return false, fmt.Errorf("%s: %w", f.path, err)
	}
	if !changed {
		fmt.Fprintf(o.Out, "%s: unchanged (already configured)\n", f.path)
		return false, nil
	}
	bak, created := f.path+BackupSuffix, f.path+CreatedSuffix
	verb := "updated"
	var notes []string
	switch {
	case !existed:
		verb = "created"
	case exists(bak) || exists(created):
		// An earlier install already recorded the original state.
	case f.noBackup:
		return false, fmt.Errorf("%s exists with other content; move it away first (no backup is written in this directory: the engine reads every file in it)", f.path)
	default:
		notes = append(notes, "backup "+bak)
	}
	fmt.Fprintf(o.Out, "%s: %s\n", f.path, strings.Join(append([]string{verb}, notes...), ", "))
	writeDiff(o.Out, f.path, orig, next)
	if o.DryRun {
		return true, nil
	}
	if existed && !exists(bak) && !exists(created) {
		if err := writeAtomic(bak, orig, f.path); err != nil {
			return false, err
		}
	}
	if !existed {
		// The marker lists the directories created here, for uninstall.
		var dirs []string
		for d := filepath.Dir(f.path); !exists(d); d = filepath.Dir(d) {
			dirs = append(dirs, d)
		}
		if err := os.MkdirAll(filepath.Dir(f.path), 0o755); err != nil {
			return false, fmt.Errorf("create %s: %w", filepath.Dir(f.path), err)
		}
		if !exists(bak) {
			var m []byte
			for _, d := range dirs {
				m = append(m, d+"\n"...)
			}
			if err := writeAtomic(created, m, ""); err != nil {
				return false, err
			}
		}
	}
	return true, writeAtomic(f.path, next, f.path)
}

func uninstallFile(o Options, f fileEdit) (bool, error) {
	cur, existed, err := readOptional(f.path)
	if err != nil {
		return false, err
	}
	bak, created := f.path+BackupSuffix, f.path+CreatedSuffix
	orig, hasBak, err := readOptional(bak)
	if err != nil {
		return false, err
	}
	hasCreated := exists(created)
	var next []byte
	remove := false
	switch {
	case !existed:
		if !hasBak && !hasCreated {
			return false, nil
		}
		// Someone removed the file since; put the original back if there was one.
		next, remove = orig, !hasBak
	case hasBak && (f.kind == owned || isInstallOf(f, orig, cur)):
		// Untouched since install, or procview's own file: the backup is
		// the exact original.
		if !isInstallOf(f, orig, cur) {
			fmt.Fprintf(o.Out, "%s: changed since install; restoring the backup anyway\n", f.path)
		}
		next = orig
	case f.kind == owned && hasCreated:
		remove = true
	case f.kind == owned:
		// Not ours (e.g. written by make install): leave it.
		fmt.Fprintf(o.Out, "%s: not created by procview install, left alone\n", f.path)
		return false, nil
	case !hasBak && !hasCreated && !f.marked:
		// An entry without a record of install: written by hand.
		if _, changed, _ := f.uninstall(cur); changed {
			fmt.Fprintf(o.Out, "%s: procview entry not added by procview install (no %s), left alone\n", f.path, bak)
		}
		return false, nil
	default:
		var changed bool
		next, changed, err = f.uninstall(cur)
		if err != nil {
			return false, fmt.Errorf("%s: %w", f.path, err)
		}
		if !changed && !hasBak && !hasCreated {
			return false, nil
		}
		// Created by install and holding nothing else now.
		remove = hasCreated && !hasBak && f.isBlank(next)
	}
	switch {
	case remove && existed:
		fmt.Fprintf(o.Out, "%s: removed\n", f.path)
		writeDiff(o.Out, f.path, cur, nil)
	case remove:
	case bytes.Equal(cur, next) && existed:
		fmt.Fprintf(o.Out, "%s: unchanged\n", f.path)
	default:
		fmt.Fprintf(o.Out, "%s: restored\n", f.path)
		writeDiff(o.Out, f.path, cur, next)
	}
	if o.DryRun {
		return true, nil
	}
	if remove {
		if err := os.Remove(f.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return false, fmt.Errorf("remove %s: %w", f.path, err)
		}
	} else if !bytes.Equal(cur, next) || !existed {
		ref := f.path
		if !existed {
			ref = bak
		}
		if err := writeAtomic(f.path, next, ref); err != nil {
			return false, err
		}
	}
	var dirs []byte
	if remove {
		dirs, _, _ = readOptional(created)
	}
	for _, p := range []string{bak, created} {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return false, fmt.Errorf("remove %s: %w", p, err)
		}
	}
	// Directories install created, deepest first, while empty.
	for _, d := range strings.Split(string(dirs), "\n") {
		if d != "" && os.Remove(d) == nil {
			fmt.Fprintf(o.Out, "%s: removed (empty)\n", d)
		}
	}
	return true, nil
}

// isInstallOf reports whether cur is what install makes of orig.
func isInstallOf(f fileEdit, orig, cur []byte) bool {
	next, changed, err := f.install(orig)
	return err == nil && changed && bytes.Equal(next, cur)
}

// writeAtomic writes b to path through a temporary file in the same
// directory and a rename, so that readers never see a partial file. The new
// file takes the mode and owner of ref when ref exists, else 0644.
func writeAtomic(path string, b []byte, ref string) error {
	mode := fs.FileMode(0o644)
	uid, gid := -1, -1
	if ref != "" {
		if st, err := os.Stat(ref); err == nil {
			mode = st.Mode().Perm()
			if sys, ok := st.Sys().(*syscall.Stat_t); ok {
				uid, gid = int(sys.Uid), int(sys.Gid)
			}
		}
	}
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".procview-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	fail := func(err error) error {
		tmp.Close()
		os.Remove(tmp.Name())
		return fmt.Errorf("write %s: %w", path, err)
	}
	if _, err := tmp.Write(b); err != nil {
		return fail(err)
	}
	if err := tmp.Chmod(mode); err != nil {
		return fail(err)
	}
	if uid >= 0 && os.Geteuid() == 0 {
		if err := tmp.Chown(uid, gid); err != nil {
			return fail(err)
		}
	}
	if err := tmp.Sync(); err != nil {
		return fail(err)
	}
	if err := tmp.Close(); err != nil {
		return fail(err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// writeDiff prints the lines that differ between a and b, unified-diff style
// with one hunk: install and uninstall change one contiguous region per file.
func writeDiff(w io.Writer, path string, a, b []byte) {
	al, bl := splitLines(a), splitLines(b)
	pre := 0
	for pre < len(al) && pre < len(bl) && al[pre] == bl[pre] {
		pre++
	}
	suf := 0
	for suf < len(al)-pre && suf < len(bl)-pre && al[len(al)-1-suf] == bl[len(bl)-1-suf] {
		suf++
	}
	fmt.Fprintf(w, "--- %s\n+++ %s\n@@ -%d,%d +%d,%d @@\n", path, path, pre+1, len(al)-pre-suf, pre+1, len(bl)-pre-suf)
	for _, l := range al[pre : len(al)-suf] {
		fmt.Fprintf(w, "-%s\n", l)
	}
	for _, l := range bl[pre : len(bl)-suf] {
		fmt.Fprintf(w, "+%s\n", l)
	}
}

func splitLines(b []byte) []string {
	if len(b) == 0 {
		return nil
	}
	s := string(b)
	noEOL := !strings.HasSuffix(s, "\n")
	lines := strings.Split(strings.TrimSuffix(s, "\n"), "\n")
	if noEOL {
		lines[len(lines)-1] += "\n\\ No newline at end of file"
	}
	return lines
}
