package cgroupstats

import (
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestProbe: Probe reports a move of each usage counter once, stays quiet
// while nothing moves, and ignores files it does not watch (memory.stat is
// read only by a full Read).
func TestProbe(t *testing.T) {
	for _, tree := range fixtureTrees(t) {
		t.Run(filepath.Base(tree), func(t *testing.T) {
			root, _, r := fixtureReader(t, filepath.Base(tree), nil, DefaultFullEvery)
			if r.Probe() != true {
				t.Error("Probe before the first Read: not moved, want moved")
			}
			if _, err := r.Read(); err != nil {
				t.Fatal(err)
			}
			if len(r.probes) == 0 {
				t.Fatal("Read found no usage counters")
			}
			want := map[string]bool{"memory.usage_in_bytes": true, "cpuacct.usage": true, "memory.current": true,
				"cpu.stat": true, "io.stat": true}
			for _, p := range r.probes {
				if !want[path.Base(p)] {
					t.Errorf("probe %s is not a usage counter", p)
				}
			}
			if r.Probe() {
				t.Error("Probe after Read with nothing changed: moved")
			}
			// memory.stat changes (a full Read would see it) but no counter does.
			for _, p := range r.probes {
				stat := filepath.Join(root, path.Dir(p), "memory.stat")
				if b, err := os.ReadFile(stat); err == nil {
					if err := os.WriteFile(stat, []byte(strings.Replace(string(b), " ", " 1", 1)), 0o644); err != nil {
						t.Fatal(err)
					}
				}
			}
			if r.Probe() {
				t.Error("Probe after a memory.stat change: moved, want not (not a probe file)")
			}
			for _, p := range slices.Clone(r.probes) {
				f := filepath.Join(root, p)
				b, err := os.ReadFile(f)
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(f, append(b, '\n'), 0o644); err != nil {
					t.Fatal(err)
				}
				if !r.Probe() {
					t.Errorf("%s changed: Probe not moved", p)
				}
				if r.Probe() {
					t.Errorf("%s: second Probe moved again", p)
				}
			}
		})
	}
}

// TestForceFull: a changed limit shows on the next Read after ForceFull,
// not only every FullEvery reads.
func TestForceFull(t *testing.T) {
	root, loc, r := fixtureReader(t, "v2-limit256m-quota0.5-io", nil, 100)
	if _, err := r.Read(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, loc.Unified, "memory.max"), []byte("1048576\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	st, err := r.Read()
	if err != nil {
		t.Fatal(err)
	}
	if st.Memory.Limit == 1<<20 {
		t.Fatal("limit re-read on a cached round; the test needs FullEvery > 2")
	}
	r.ForceFull()
	if st, err = r.Read(); err != nil {
		t.Fatal(err)
	}
	if st.Memory.Limit != 1<<20 {
		t.Errorf("after ForceFull: limit %d, want %d", st.Memory.Limit, 1<<20)
	}
}

// TestAncestorCache: Readers sharing an AncestorCache read a parent's file
// once per round: a change on disk shows after NextRound, not before.
func TestAncestorCache(t *testing.T) {
	root, loc, r := fixtureReader(t, "v2-nested-parent128m-quota1.5-leaf512m", nil, 1)
	r.Ancestors = NewAncestorCache()
	st, err := r.Read()
	if err != nil {
		t.Fatal(err)
	}
	if st.Memory.Limit != 128<<20 {
		t.Fatalf("limit %d, want the parent's 128 MiB", st.Memory.Limit)
	}
	parent := filepath.Join(root, path.Dir(loc.Unified), "memory.max")
	if err := os.WriteFile(parent, []byte("67108864\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if st, err = r.Read(); err != nil {
		t.Fatal(err)
	}
	if st.Memory.Limit != 128<<20 {
		t.Errorf("same round: limit %d, want the shared 128 MiB", st.Memory.Limit)
	}
	r.Ancestors.NextRound()
	if st, err = r.Read(); err != nil {
		t.Fatal(err)
	}
	if st.Memory.Limit != 64<<20 {
		t.Errorf("next round: limit %d, want the parent's new 64 MiB", st.Memory.Limit)
	}
}
