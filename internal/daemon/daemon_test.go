package daemon

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/procview/procview/internal/state"
	"github.com/procview/procview/internal/tasks"
)

func readView(t *testing.T, root state.Root, key, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root.ViewsDir(key), name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func memUsedKB(t *testing.T, meminfo string) uint64 {
	t.Helper()
	var total, free uint64
	for _, l := range strings.Split(meminfo, "\n") {
		f := strings.Fields(l)
		if len(f) < 2 {
			continue
		}
		v, _ := strconv.ParseUint(f[1], 10, 64)
		switch f[0] {
		case "MemTotal:":
			total = v
		case "MemFree:":
			free = v
		}
	}
	if total == 0 {
		t.Fatalf("no MemTotal in %q", meminfo)
	}
	return total - free
}

// TestRound: rounds follow a counter change through the kept descriptors,
// forget a container whose state was removed (poststop), and remove the
// state of a container whose init and cgroup are gone.
func TestRound(t *testing.T) {
	for _, fixture := range []string{"hybrid-limit256m-quota0.5-io", "v2-limit256m-quota0.5-io"} {
		t.Run(fixture, func(t *testing.T) {
			dir := t.TempDir()
			h := newFakeHost(t, fixture, filepath.Join(dir, "host"), 3)
			root := state.Root(filepath.Join(dir, "state"))
			h.register(t, root)
			d := newTestDaemon(h, root)
			d.Round()
			if len(d.sets) != 3 || len(d.inits) != 3 {
				t.Fatalf("adopted %d sets, %d init probes, want 3", len(d.sets), len(d.inits))
			}
			before := memUsedKB(t, readView(t, root, "bench-0", "meminfo"))

			// Usage grows by 10 MiB in the cgroup of bench-0.
			bumpUsage(t, h, 0, 10<<20)
			*h.now += 1e9
			d.Round()
			if got := memUsedKB(t, readView(t, root, "bench-0", "meminfo")); got != before+10<<10 {
				t.Errorf("used after +10 MiB: %d kB, want %d kB", got, before+10<<10)
			}
			for k, msg := range d.failed {
				if msg != "" {
					t.Errorf("container %s: %s", k, msg)
				}
			}

			// poststop removed bench-1's state: the daemon forgets it.
			if err := root.Remove("bench-1"); err != nil {
				t.Fatal(err)
			}
			*h.now += 1e9
			d.Round()
			if _, ok := d.sets["bench-1"]; ok || d.inits["bench-1"] != nil {
				t.Error("bench-1 still tracked after its state was removed")
			}

			// bench-2's init exited (its pid now names another process: a
			// regular file, unlike procfs, keeps serving a deleted file to
			// an open descriptor) and its cgroup was removed everywhere.
			statFile := filepath.Join(h.dir, "proc", strconv.Itoa(h.pids[2]), "stat")
			if err := os.WriteFile(statFile, []byte(strconv.Itoa(h.pids[2])+" (x) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 999999 0 0\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			leaf := h.locs[2].Unified
			ents, _ := os.ReadDir(filepath.Join(h.dir, "sys/fs/cgroup"))
			for _, e := range append(ents, nil) {
				sub := ""
				if e != nil {
					sub = e.Name()
				}
				_ = os.RemoveAll(filepath.Join(h.dir, "sys/fs/cgroup", sub, leaf))
			}
			*h.now += 1e9
			d.Round()
			if _, ok := d.sets["bench-2"]; ok {
				t.Error("bench-2 still tracked after its init and cgroup are gone")
			}
			if _, err := os.Stat(root.Dir("bench-2")); !os.IsNotExist(err) {
				t.Errorf("bench-2 state not removed: %v", err)
			}
			if _, ok := d.sets["bench-0"]; !ok {
				t.Error("bench-0 dropped")
			}
			d.shutdown()
		})
	}
}

// TestInitProbeLive: a kept /proc/<pid>/stat descriptor fails once its
// process is gone, which is what lets the daemon keep it open.
func TestInitProbeLive(t *testing.T) {
	cmd := exec.Command("sleep", "60")
	if err := cmd.Start(); err != nil {
		t.Skip(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	procFS := os.DirFS("/proc")
	var p initProbe
	defer p.close()
	want, err := tasks.StartTime(procFS, cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := p.startTime(procFS, cmd.Process.Pid, make([]byte, statBufSize)); err != nil || got != want {
		t.Fatalf("start time %d, %v; want %d", got, err, want)
	}
	if p.f == nil {
		t.Fatal("descriptor not kept")
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	if got, err := p.startTime(procFS, cmd.Process.Pid, make([]byte, statBufSize)); err == nil {
		t.Errorf("exited process: start time %d, want an error", got)
	}
}
