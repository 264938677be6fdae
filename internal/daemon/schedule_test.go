package daemon

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/procview/procview/internal/cgroupstats"
	"github.com/procview/procview/internal/config"
	"github.com/procview/procview/internal/state"
)

// TestRoundFollowsChange: with refresh_max_interval above the interval, a
// round rewrites only the containers whose counters moved or whose views
// were read, and every container at the safety net (limits included).
func TestRoundFollowsChange(t *testing.T) {
	for _, fixture := range []string{"hybrid-limit256m-quota0.5-io", "v2-limit256m-quota0.5-io"} {
		t.Run(fixture, func(t *testing.T) {
			dir := t.TempDir()
			h := newFakeHost(t, fixture, filepath.Join(dir, "host"), 2)
			root := state.Root(filepath.Join(dir, "state"))
			h.register(t, root)
			d := newTestDaemon(h, root)
			d.Cfg.RefreshInterval = config.Duration{Duration: time.Second}
			d.Cfg.RefreshMaxInterval = config.Duration{Duration: 10 * time.Second}
			d.startWatch()
			if d.watch == nil {
				t.Fatal("no read watch")
			}
			defer d.shutdown()
			d.Round()
			if len(d.sets) != 2 {
				t.Fatalf("adopted %d sets, want 2", len(d.sets))
			}
			for _, sc := range d.sched {
				sc.next = *h.now + 10e9 // pin the randomly placed first safety net
			}
			// peek reads a view as the test, not as a container: it
			// discards the read events and re-arms the watches.
			peek := func(key, name string) string {
				t.Helper()
				v := readView(t, root, key, name)
				if err := d.watch.Drain(func(string) {}); err != nil {
					t.Fatal(err)
				}
				for k, s := range d.sets {
					if err := d.watch.Arm(k, s.ViewDirs()); err != nil {
						t.Fatal(err)
					}
				}
				return v
			}
			round := func(secs uint64) {
				*h.now += secs * 1e9
				d.Round()
				for k, msg := range d.failed {
					if msg != "" {
						t.Fatalf("container %s: %s", k, msg)
					}
				}
			}
			up := func(key string) string { return peek(key, "uptime") }
			a0, b0 := up("bench-0"), up("bench-1")

			round(1)
			if a, b := up("bench-0"), up("bench-1"); a != a0 || b != b0 {
				t.Errorf("nothing moved, nothing read: uptime rewritten (%q -> %q, %q -> %q)", a0, a, b0, b)
			}

			// bench-0 uses 10 MiB more: only bench-0 is refreshed.
			used0 := memUsedKB(t, peek("bench-0", "meminfo"))
			bumpUsage(t, h, 0, 10<<20)
			round(1)
			if got := memUsedKB(t, peek("bench-0", "meminfo")); got != used0+10<<10 {
				t.Errorf("bench-0 used after +10 MiB: %d kB, want %d kB", got, used0+10<<10)
			}
			if a := up("bench-0"); a == a0 {
				t.Error("bench-0 moved: uptime not rewritten")
			}
			if b := up("bench-1"); b != b0 {
				t.Errorf("bench-1 did not move: uptime rewritten (%q -> %q)", b0, b)
			}

			// A container reads bench-1's meminfo: bench-1 is refreshed next
			// round, once.
			if _, err := os.ReadFile(filepath.Join(root.ViewsDir("bench-1"), "meminfo")); err != nil {
				t.Fatal(err)
			}
			round(1)
			b1 := up("bench-1")
			if b1 == b0 {
				t.Error("bench-1 read: uptime not rewritten")
			}
			round(1)
			if b := up("bench-1"); b != b1 {
				t.Errorf("bench-1 not read again: uptime rewritten (%q -> %q)", b1, b)
			}

			// The safety net: after refresh_max_interval every container is
			// refreshed; an idle one's limits wait for slowIdleEvery.
			setLimit(t, h, 1, 128<<20)
			round(10)
			if b := up("bench-1"); b == b1 {
				t.Error("safety net: bench-1 uptime not rewritten")
			}
			if got := memTotalKB(t, peek("bench-1", "meminfo")); got != 256<<10 {
				t.Errorf("safety net of an idle container: MemTotal %d kB, want the limit unread until slowIdleEvery", got)
			}
			// Once bench-1 moves, its first refresh re-reads the limits.
			bumpUsage(t, h, 1, 1<<20)
			round(1)
			if got := memTotalKB(t, peek("bench-1", "meminfo")); got != 128<<10 {
				t.Errorf("bench-1 moved: MemTotal %d kB after the limit went to 128 MiB", got)
			}
			// An idle container's limit shows at a safety net slowIdleEvery
			// after its last read.
			setLimit(t, h, 0, 64<<20)
			round(slowIdleEvery / 1e9)
			if got := memTotalKB(t, peek("bench-0", "meminfo")); got != 64<<10 {
				t.Errorf("idle bench-0 after %ds: MemTotal %d kB, want 64 MiB", slowIdleEvery/1e9, got)
			}
		})
	}
}

// counterFile is a memory file of fake container i in the fixture's layout.
func counterFile(h *fakeHost, i int, v1, v2 string) string {
	if h.smp.Mode != cgroupstats.ModeV2 {
		return filepath.Join(h.dir, "sys/fs/cgroup/memory", h.locs[i].V1["memory"], v1)
	}
	return filepath.Join(h.dir, "sys/fs/cgroup", h.locs[i].Unified, v2)
}

func bumpUsage(t *testing.T, h *fakeHost, i int, by uint64) {
	t.Helper()
	p := counterFile(h, i, "memory.usage_in_bytes", "memory.current")
	raw, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	u, err := strconv.ParseUint(strings.TrimSpace(string(raw)), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(strconv.FormatUint(u+by, 10)+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

func setLimit(t *testing.T, h *fakeHost, i int, limit uint64) {
	t.Helper()
	p := counterFile(h, i, "memory.limit_in_bytes", "memory.max")
	if err := os.WriteFile(p, []byte(strconv.FormatUint(limit, 10)+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

func memTotalKB(t *testing.T, meminfo string) uint64 {
	t.Helper()
	for _, l := range strings.Split(meminfo, "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "MemTotal:" {
			v, _ := strconv.ParseUint(f[1], 10, 64)
			return v
		}
	}
	t.Fatalf("no MemTotal in %q", meminfo)
	return 0
}
