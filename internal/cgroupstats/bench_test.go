package cgroupstats

import (
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
