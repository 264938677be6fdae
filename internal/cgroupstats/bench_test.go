package cgroupstats

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkRead compares one sample of a fixture cgroup by Read (open, read,
// close every file) and by a Reader (kept descriptors, full round every
// DefaultFullEvery reads).
func BenchmarkRead(b *testing.B) {
	for _, tree := range []string{"hybrid-limit256m-quota0.5-io", "v2-limit256m-quota0.5-io"} {
		dir := filepath.Join(hostsDir, tree)
		raw, err := os.ReadFile(filepath.Join(dir, "proc/self/cgroup"))
		if err != nil {
			b.Fatal(err)
		}
		loc, err := ParseProcCgroup(raw)
		if err != nil {
			b.Fatal(err)
		}
		fsys := os.DirFS(filepath.Join(dir, "sys/fs/cgroup"))
		mode, err := DetectMode(fsys)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(tree+"/Read", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Read(fsys, mode, loc); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(tree+"/Reader", func(b *testing.B) {
			r := NewReader(fsys, mode, loc, nil)
			defer r.Close()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := r.Read(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkReadLive is BenchmarkRead on this machine's cgroupfs: an empty
// procview-test- cgroup in every hierarchy (root only), and the Probe of
// its usage counters that replaces the read while nothing moves.
func BenchmarkReadLive(b *testing.B) {
	if os.Geteuid() != 0 {
		b.Skip("needs root to create cgroups")
	}
	fsys := os.DirFS(liveRoot)
	mode, err := DetectMode(fsys)
	if err != nil {
		b.Skip(err)
	}
	name := fmt.Sprintf("/procview-test-bench-%d", os.Getpid())
	var bases []string
	switch mode {
	case ModeV2:
		bases = []string{liveRoot}
	default:
		dirs, err := controllerDirs(fsys)
		if err != nil {
			b.Fatal(err)
		}
		seen := map[string]bool{}
		for _, d := range dirs {
			if !seen[d] {
				seen[d] = true
				bases = append(bases, filepath.Join(liveRoot, d))
			}
		}
		if mode == ModeHybrid {
			bases = append(bases, filepath.Join(liveRoot, "unified"))
		}
	}
	for _, base := range bases {
		if err := os.Mkdir(base+name, 0o755); err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = os.Remove(base + name) })
	}
	loc := LocationFromPath(name)
	b.Run("Read", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := Read(fsys, mode, loc); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Reader", func(b *testing.B) {
		r := NewReader(fsys, mode, loc, nil)
		defer r.Close()
		b.ReportAllocs()
		for b.Loop() {
			if _, err := r.Read(); err != nil {
				b.Fatal(err)
			}
		}
	})
	// Probe: what an idle container costs per round (its usage counters).
	b.Run("Probe", func(b *testing.B) {
		r := NewReader(fsys, mode, loc, nil)
		defer r.Close()
		if _, err := r.Read(); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			if r.Probe() {
				b.Fatal("an empty cgroup's counters moved")
			}
		}
	})
}
