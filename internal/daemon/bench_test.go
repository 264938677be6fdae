package daemon

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"

	"github.com/procview/procview/internal/cgroupstats"
	"github.com/procview/procview/internal/config"
	"github.com/procview/procview/internal/cpuview"
	"github.com/procview/procview/internal/publish"
	"github.com/procview/procview/internal/render"
	"github.com/procview/procview/internal/state"
	"github.com/procview/procview/internal/tasks"
	"github.com/procview/procview/internal/views"
)

const hostsDir = "../../testdata/hosts"

// fakeHost is a writable copy of a fixture host tree with n copies of its
// leaf cgroup, one per fake container.
type fakeHost struct {
	dir  string
	smp  *views.Sampler
	locs []cgroupstats.Location
	pids []int
	now  *uint64
}

// newFakeHost copies fixture into dir and clones its leaf cgroup n times as
// /procview-bench-<i> in every hierarchy. Each container gets a fake init
// (proc/<pid>/stat) so the daemon's liveness check succeeds, as it does for
// a running container.
func newFakeHost(tb testing.TB, fixture, dir string, n int) *fakeHost {
	tb.Helper()
	src := filepath.Join(hostsDir, fixture)
	if err := os.CopyFS(dir, os.DirFS(src)); err != nil {
		tb.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(dir, "proc/self/cgroup"))
	if err != nil {
		tb.Fatal(err)
	}
	loc, err := cgroupstats.ParseProcCgroup(raw)
	if err != nil {
		tb.Fatal(err)
	}
	leaf := loc.Unified
	if strings.Count(leaf, "/") != 1 {
		tb.Fatalf("fixture %s: nested leaf %q not supported", fixture, leaf)
	}
	cgRoot := filepath.Join(dir, "sys/fs/cgroup")
	var leafDirs []string // every directory named like the leaf
	err = filepath.WalkDir(cgRoot, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && "/"+d.Name() == leaf {
			leafDirs = append(leafDirs, p)
			return filepath.SkipDir
		}
		return nil
	})
	if err != nil || len(leafDirs) == 0 {
		tb.Fatalf("fixture %s: no leaf dirs (%v)", fixture, err)
	}
	now := uint64(5000e9)
	h := &fakeHost{dir: dir, now: &now}
	for i := range n {
		name := fmt.Sprintf("procview-bench-%d", i)
		for _, ld := range leafDirs {
			if err := os.CopyFS(filepath.Join(filepath.Dir(ld), name), os.DirFS(ld)); err != nil {
				tb.Fatal(err)
			}
		}
		l := cgroupstats.Location{V1: map[string]string{}, Unified: "/" + name}
		for c, p := range loc.V1 {
			if p == leaf {
				p = "/" + name
			}
			l.V1[c] = p
		}
		pid := 100000 + i
		stat := fmt.Sprintf("%d (sh) S 1 %d %d 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 %d 0 0\n", pid, pid, pid, 100000+i)
		if err := os.MkdirAll(filepath.Join(dir, "proc", strconv.Itoa(pid)), 0o755); err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "proc", strconv.Itoa(pid), "stat"), []byte(stat), 0o644); err != nil {
			tb.Fatal(err)
		}
		h.locs = append(h.locs, l)
		h.pids = append(h.pids, pid)
	}
	cgFS := os.DirFS(cgRoot)
	mode, err := cgroupstats.DetectMode(cgFS)
	if err != nil {
		tb.Fatal(err)
	}
	h.smp = &views.Sampler{CgroupFS: cgFS, Mode: mode,
		ProcFS: os.DirFS(filepath.Join(dir, "proc")), SysFS: os.DirFS(filepath.Join(dir, "sys")),
		Now: func() uint64 { return now }}
	return h
}

// register creates every fake container's state under root, as the hook does.
func (h *fakeHost) register(tb testing.TB, root state.Root) {
	tb.Helper()
	host, err := h.smp.Host()
	if err != nil {
		tb.Fatal(err)
	}
	var names []string
	for _, v := range render.Views() {
		names = append(names, v.Name)
	}
	for i, loc := range h.locs {
		start, err := tasks.StartTime(h.smp.ProcFS, h.pids[i])
		if err != nil {
			tb.Fatal(err)
		}
		id := fmt.Sprintf("bench-%d", i)
		meta := &state.Meta{ID: id, Pid: h.pids[i], Location: loc, StartNs: 1000e9, InitStartNs: start,
			CPUView: string(cpuview.Quota), Views: names}
		s, err := publish.Create(root, state.Key(id), meta, h.smp, host)
		if err != nil {
			tb.Fatal(err)
		}
		s.Close()
	}
}

// tmpfsDir is a temporary directory on tmpfs when /dev/shm is one (the
// state root lives on tmpfs in production), else on the test's TempDir.
func tmpfsDir(tb testing.TB) string {
	var st unix.Statfs_t
	if err := unix.Statfs("/dev/shm", &st); err == nil && st.Type == unix.TMPFS_MAGIC {
		d, err := os.MkdirTemp("/dev/shm", "procview-bench-")
		if err == nil {
			tb.Cleanup(func() { os.RemoveAll(d) })
			return d
		}
	}
	return tb.TempDir()
}

// cpuTime is the process's user+system CPU time in ns: the daemon's cost is
// CPU, while wall time also counts waiting on the disk.
func cpuTime() int64 {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

func quietLog() logrus.FieldLogger {
	l := logrus.New()
	l.SetOutput(io.Discard)
	return l
}

// newTestDaemon is a daemon over a fake host; it adopts the registered
// containers in its first Round.
func newTestDaemon(h *fakeHost, root state.Root) *Daemon {
	h.smp.FDBudget = cgroupstats.NewFDBudget(0) // sized by Round, as in New
	h.smp.Ancestors = cgroupstats.NewAncestorCache()
	return &Daemon{
		nofile:  openFileLimit(),
		inits:   map[string]*initProbe{},
		Cfg:     config.Config{StateRoot: string(root)},
		Log:     quietLog(),
		Root:    root,
		Sampler: h.smp,
		sets:    map[string]*publish.Set{},
		failed:  map[string]string{},
	}
}

// BenchmarkRefreshRound times one daemon round over N containers whose
// cgroups are copies of a fixture's leaf on disk. full: every container
// refreshed fully every round (refresh_max_interval = interval): list,
// liveness check, read, derive, render, lay out and write every view,
// persist the floors. idle: the adaptive loop when no counter moves and
// nobody reads: list, drain the read watch, probe every container.
// ns/container is the figure to hold against the 20 µs budget (the
// fixture's files are regular files, so kernel-side cgroupfs costs are not
// included).
func BenchmarkRefreshRound(b *testing.B) {
	for _, fixture := range []string{"hybrid-limit256m-quota0.5-io", "v2-limit256m-quota0.5-io"} {
		for _, n := range []int{100, 1000} {
			for _, load := range []string{"full", "idle"} {
				b.Run(fmt.Sprintf("%s/n=%d/%s", fixture, n, load), func(b *testing.B) {
					benchRounds(b, fixture, n, load == "idle")
				})
			}
		}
	}
}

func benchRounds(b *testing.B, fixture string, n int, adaptive bool) {
	dir := tmpfsDir(b)
	runtime.GC()
	var ms0 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	heap0 := ms0.HeapAlloc
	h := newFakeHost(b, fixture, filepath.Join(dir, "host"), n)
	root := state.Root(filepath.Join(dir, "state"))
	h.register(b, root)
	d := newTestDaemon(h, root)
	if adaptive {
		// No safety net inside the benchmark: only probes.
		d.Cfg.RefreshInterval = config.Duration{Duration: time.Second}
		d.Cfg.RefreshMaxInterval = config.Duration{Duration: time.Hour}
		d.startWatch()
	}
	d.Round() // adopt
	if len(d.sets) != n {
		for k, msg := range d.failed {
			if msg != "" {
				b.Fatalf("adopted %d of %d containers; %s: %s", len(d.sets), n, k, msg)
			}
		}
		b.Fatalf("adopted %d of %d containers", len(d.sets), n)
	}
	for _, sc := range d.sched {
		sc.next = *h.now + uint64(time.Hour)
	}
	b.ReportAllocs()
	cpu0 := cpuTime()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		*h.now += 1e9
		d.Round()
	}
	b.StopTimer()
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N*n), "cpu-ns/container")
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(ms.HeapAlloc-heap0)/float64(n), "heap-B/container")
	for k, msg := range d.failed {
		if msg != "" {
			b.Fatalf("container %s: %s", k, msg)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/container")
	d.shutdown()
}
