package daemon

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/procview/procview/internal/cgroupstats"
	"github.com/procview/procview/internal/config"
	"github.com/procview/procview/internal/cpuview"
	"github.com/procview/procview/internal/publish"
	"github.com/procview/procview/internal/render"
	"github.com/procview/procview/internal/state"
	"github.com/procview/procview/internal/tasks"
)

// BenchmarkLiveRefresh splits one container's refresh on this machine's
// cgroupfs (root; a cgroup with one sleeping task in every v1 hierarchy
// and the v2 tree, under a parent): Probe (what an idle container costs
// per round), Refresh (a full refresh on the Reader's cadence) and
// ForcedRefresh (limits, cpuset and ancestors re-read too: the safety
// net's).
func BenchmarkLiveRefresh(b *testing.B) {
	if os.Geteuid() != 0 {
		b.Skip("needs root to create cgroups")
	}
	cfg := config.Default()
	d, err := New(cfg, quietLog())
	if err != nil {
		b.Skip(err)
	}
	if d.Sampler.Mode == cgroupstats.ModeV2 {
		b.Skip("v1/hybrid hierarchies only")
	}
	parent := fmt.Sprintf("procview-test-livebench-%d", os.Getpid())
	var dirs []string
	for _, h := range []string{"memory", "cpu", "cpuacct", "blkio", "pids", "unified"} {
		d := filepath.Join(cfg.CgroupRoot, h, parent, "c")
		if err := os.MkdirAll(d, 0o755); err != nil {
			b.Skip(err)
		}
		dirs = append(dirs, d)
	}
	sleep := exec.Command("sleep", "600")
	if err := sleep.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		_ = sleep.Process.Kill()
		_ = sleep.Wait()
		time.Sleep(50 * time.Millisecond)
		for _, d := range dirs {
			_ = os.Remove(d)
			_ = os.Remove(filepath.Dir(d))
		}
	})
	for _, d := range dirs {
		if err := os.WriteFile(filepath.Join(d, "cgroup.procs"), []byte(strconv.Itoa(sleep.Process.Pid)), 0); err != nil {
			b.Fatal(err)
		}
	}
	loc, err := cgroupstats.ReadLocation(d.Sampler.ProcFS, sleep.Process.Pid)
	if err != nil {
		b.Fatal(err)
	}
	start, err := tasks.StartTime(d.Sampler.ProcFS, sleep.Process.Pid)
	if err != nil {
		b.Fatal(err)
	}
	root := state.Root(tmpfsDir(b))
	host, err := d.Sampler.Host()
	if err != nil {
		b.Fatal(err)
	}
	var names []string
	for _, v := range render.Views() {
		names = append(names, v.Name)
	}
	meta := &state.Meta{ID: "live", Pid: sleep.Process.Pid, Location: loc, StartNs: start, InitStartNs: start,
		CPUView: string(cpuview.Quota), Views: names}
	s, err := publish.Create(root, "live", meta, d.Sampler, host)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Refresh(d.Sampler, host); err != nil {
		b.Fatal(err)
	}
	b.Run("Probe", func(b *testing.B) {
		for b.Loop() {
			s.Probe()
		}
	})
	for _, forced := range []bool{false, true} {
		name := "Refresh"
		if forced {
			name = "ForcedRefresh"
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				d.Sampler.Ancestors.NextRound()
				if forced {
					s.ForceFull()
				}
				if _, err := s.Refresh(d.Sampler, host); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
