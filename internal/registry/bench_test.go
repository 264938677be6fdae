package registry

import (
	"fmt"
	"io/fs"
	"os"
	"testing"
	"testing/fstest"

	"github.com/procview/procview/internal/cgroupstats"
	"github.com/procview/procview/internal/snapshot"
)

// bench1000 is a v2 tree with 1000 docker scopes (and the pids' /proc), on
// disk: a MapFS synthesizes directories by scanning every key, which would
// measure itself.
func bench1000(b *testing.B) (fs.FS, string) {
	t := &testing.T{}
	procRoot := b.TempDir()
	fsys := fstest.MapFS{"cgroup.controllers": &fstest.MapFile{Data: []byte("cpu memory pids\n")}}
	for i := range 1000 {
		v2Cgroup(t, fsys, procRoot, fmt.Sprintf("/system.slice/docker-%064x.scope", i+1), 1000+i, "268435456")
	}
	dir := b.TempDir()
	if err := os.CopyFS(dir, fsys); err != nil {
		b.Fatal(err)
	}
	return os.DirFS(dir), procRoot
}

// Discovery: one walk of the tree (every 5 rounds), containers known.
func BenchmarkDiscover1000(b *testing.B) {
	fsys, procRoot := bench1000(b)
	r := New(Options{CgroupFS: fsys, Mode: cgroupstats.ModeV2, ProcRoot: procRoot})
	defer r.Close()
	r.Round(nil, 8, snapshot.Self{})
	b.ReportAllocs()
	for b.Loop() {
		r.discover(nil, nil)
	}
}

// A round without discovery: 1000 cgroup reads and the snapshot.
func BenchmarkRound1000(b *testing.B) {
	fsys, procRoot := bench1000(b)
	r := New(Options{CgroupFS: fsys, Mode: cgroupstats.ModeV2, ProcRoot: procRoot, DiscoverEvery: 1 << 30})
	defer r.Close()
	r.Round(nil, 8, snapshot.Self{})
	b.ReportAllocs()
	for b.Loop() {
		r.Round(nil, 8, snapshot.Self{})
	}
}
