package views

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/procview/procview/internal/cgroupstats"
	"github.com/procview/procview/internal/cpuview"
	"github.com/procview/procview/internal/render"
	"github.com/procview/procview/internal/state"
)

// BenchmarkReadRender is one container's full refresh cycle minus the
// writes: read the cgroup files of a fixture tree, derive, render every view.
func BenchmarkReadRender(b *testing.B) {
	for _, name := range []string{"hybrid-limit256m-quota0.5-io", "v2-limit256m-quota0.5-io"} {
		b.Run(name, func(b *testing.B) {
			dir := filepath.Join(hostsDir, name)
			cgFS := os.DirFS(filepath.Join(dir, "sys/fs/cgroup"))
			mode, err := cgroupstats.DetectMode(cgFS)
			if err != nil {
				b.Fatal(err)
			}
			raw, _ := os.ReadFile(filepath.Join(dir, "proc/self/cgroup"))
			loc, err := cgroupstats.ParseProcCgroup(raw)
			if err != nil {
				b.Fatal(err)
			}
			now := uint64(5000e9)
			smp := &Sampler{CgroupFS: cgFS, Mode: mode, ProcFS: os.DirFS(filepath.Join(dir, "proc")),
				SysFS: os.DirFS(filepath.Join(dir, "sys")), Now: func() uint64 { return now }}
			host, err := smp.Host()
			if err != nil {
				b.Fatal(err)
			}
			var names []string
			for _, v := range render.Views() {
				names = append(names, v.Name)
			}
			acct := &state.Acct{}
			tgt := Target{Location: loc, StartNs: 1000e9, CPUView: cpuview.Quota}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				now += 1e9
				in, err := smp.Input(host, tgt, acct)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := Render(in, names); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
