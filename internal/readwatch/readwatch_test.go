package readwatch

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"golang.org/x/sys/unix"
)

func drain(t *testing.T, w *Watcher) []string {
	t.Helper()
	var got []string
	if err := w.Drain(func(k string) { got = append(got, k) }); err != nil {
		t.Fatal(err)
	}
	slices.Sort(got)
	return slices.Compact(got)
}

// TestReadThroughReadOnlyBind: a read through a read-only bind mount of a
// view file (how containers see it) is reported once per arming, and the
// atime, which the watch replaces, does not move.
func TestReadThroughReadOnlyBind(t *testing.T) {
	dir := t.TempDir()
	views := filepath.Join(dir, "a", "views")
	for _, d := range []string{views, filepath.Join(views, "pressure"), filepath.Join(dir, "b", "views")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	meminfo := filepath.Join(views, "meminfo")
	cpu := filepath.Join(views, "pressure", "cpu")
	for _, f := range []string{meminfo, cpu, filepath.Join(dir, "b", "views", "meminfo")} {
		if err := os.WriteFile(f, []byte("x\n"), 0o444); err != nil {
			t.Fatal(err)
		}
	}
	w, err := New()
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	arm := func() {
		t.Helper()
		if err := w.Arm("a", []string{views, filepath.Join(views, "pressure")}); err != nil {
			t.Fatal(err)
		}
		if err := w.Arm("b", []string{filepath.Join(dir, "b", "views")}); err != nil {
			t.Fatal(err)
		}
	}
	arm()
	if got := drain(t, w); len(got) != 0 {
		t.Fatalf("events before any read: %v", got)
	}

	target := meminfo
	bind := filepath.Join(dir, "bind")
	if err := os.WriteFile(bind, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mount(meminfo, bind, "", unix.MS_BIND, ""); err == nil {
		defer unix.Unmount(bind, unix.MNT_DETACH)
		if err := unix.Mount("", bind, "", unix.MS_BIND|unix.MS_REMOUNT|unix.MS_RDONLY, ""); err != nil {
			t.Fatal(err)
		}
		target = bind
	} else {
		t.Logf("no bind mount (%v): reading the file directly", err)
	}
	var before unix.Stat_t
	if err := unix.Stat(meminfo, &before); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := os.ReadFile(target); err != nil {
			t.Fatal(err)
		}
	}
	if got := drain(t, w); !slices.Equal(got, []string{"a"}) {
		t.Errorf("after reading a's meminfo: %v, want [a]", got)
	}
	if target == bind {
		var after unix.Stat_t
		if err := unix.Stat(meminfo, &after); err != nil {
			t.Fatal(err)
		}
		if after.Atim != before.Atim {
			// Why the watch: a container's reads never move atime.
			t.Errorf("atime moved through the read-only bind: %v -> %v", before.Atim, after.Atim)
		}
	}
	// One-shot: more reads without re-arming report nothing.
	if _, err := os.ReadFile(target); err != nil {
		t.Fatal(err)
	}
	if got := drain(t, w); len(got) != 0 {
		t.Errorf("read after the watch fired: %v, want none until re-armed", got)
	}
	// A read in a subdirectory fires that directory's watch, still armed.
	if _, err := os.ReadFile(cpu); err != nil {
		t.Fatal(err)
	}
	if got := drain(t, w); !slices.Equal(got, []string{"a"}) {
		t.Errorf("after reading a's pressure/cpu: %v, want [a]", got)
	}
	arm()
	if _, err := os.ReadFile(filepath.Join(dir, "b", "views", "meminfo")); err != nil {
		t.Fatal(err)
	}
	if _, err := os.ReadFile(meminfo); err != nil {
		t.Fatal(err)
	}
	if got := drain(t, w); !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("after re-arming and reading both: %v, want [a b]", got)
	}
	// Forgotten containers report nothing.
	arm()
	w.Forget("b")
	if _, err := os.ReadFile(filepath.Join(dir, "b", "views", "meminfo")); err != nil {
		t.Fatal(err)
	}
	if got := drain(t, w); len(got) != 0 {
		t.Errorf("read of a forgotten container: %v", got)
	}
}

// TestReplacedDirectory: a watched directory that goes away (a container's
// state replaced) is reported, and Arm then watches the new directory at
// the same path.
func TestReplacedDirectory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "views")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	w, err := New()
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if err := w.Arm("a", []string{dir}); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(dir); err != nil {
		t.Fatal(err)
	}
	if got := drain(t, w); !slices.Equal(got, []string{"a"}) {
		t.Fatalf("after removing a's directory: %v, want [a]", got)
	}
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(dir, "meminfo")
	if err := os.WriteFile(f, []byte("x\n"), 0o444); err != nil {
		t.Fatal(err)
	}
	if err := w.Arm("a", []string{dir}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.ReadFile(f); err != nil {
		t.Fatal(err)
	}
	if got := drain(t, w); !slices.Equal(got, []string{"a"}) {
		t.Errorf("read in the new directory: %v, want [a]", got)
	}
}
