package cgroupstats

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// copyTree copies a fixture tree to a writable directory and returns its
// cgroup root and the leaf's location.
func copyTree(t *testing.T, tree string) (string, Location) {
	t.Helper()
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS(tree)); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(dir, "proc/self/cgroup"))
	if err != nil {
		t.Fatal(err)
	}
	loc, err := ParseProcCgroup(raw)
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(dir, "sys/fs/cgroup"), loc
}

// fixtureReader copies the fixture tree and returns a Reader of its leaf
// with full rounds every every reads, closed at the end of the test.
func fixtureReader(t *testing.T, tree string, budget *FDBudget, every int) (string, Location, *Reader) {
	t.Helper()
	root, loc := copyTree(t, filepath.Join(hostsDir, tree))
	fsys := os.DirFS(root)
	mode, err := DetectMode(fsys)
	if err != nil {
		t.Fatal(err)
	}
	r := NewReader(fsys, mode, loc, budget)
	t.Cleanup(func() { r.Close() })
	r.FullEvery = every
	return root, loc, r
}

// TestReaderMatchesRead: a Reader returns exactly what Read returns, on its
// first read, on cached rounds and on full rounds, with and without kept
// descriptors.
func TestReaderMatchesRead(t *testing.T) {
	for _, tree := range fixtureTrees(t) {
		for _, budget := range []*FDBudget{nil, NewFDBudget(0)} {
			t.Run(fmt.Sprintf("%s/budget=%v", filepath.Base(tree), budget != nil), func(t *testing.T) {
				root, loc := copyTree(t, tree)
				fsys := os.DirFS(root)
				mode, err := DetectMode(fsys)
				if err != nil {
					t.Fatal(err)
				}
				want, err := Read(fsys, mode, loc)
				if err != nil {
					t.Fatal(err)
				}
				r := NewReader(fsys, mode, loc, budget)
				defer r.Close()
				r.FullEvery = 3
				for i := range 7 {
					got, err := r.Read()
					if err != nil {
						t.Fatalf("read %d: %v", i, err)
					}
					if d := cmp.Diff(want, got); d != "" {
						t.Fatalf("read %d differs from Read (-Read +Reader):\n%s", i, d)
					}
				}
				if open := r.OpenFiles(); (budget == nil) != (open > 0) {
					t.Errorf("kept %d descriptors with budget %v", open, budget)
				}
			})
		}
	}
}

// leafFiles returns the paths of name in every directory of the leaf.
func leafFiles(t *testing.T, root string, loc Location, name string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && d.Name() == name && filepath.Base(filepath.Dir(p)) == filepath.Base(loc.Unified) {
			out = append(out, p)
		}
		return nil
	})
	if err != nil || len(out) == 0 {
		t.Fatalf("no %s in the leaf of %s (%v)", name, root, err)
	}
	return out
}

func rewrite(t *testing.T, files []string, val string) {
	t.Helper()
	for _, f := range files {
		if err := os.WriteFile(f, []byte(val+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestReaderSeesChanges: counters change on the next read, limits within
// FullEvery reads, a removed cgroup is reported as fs.ErrNotExist and a
// recreated one is read afresh.
func TestReaderSeesChanges(t *testing.T) {
	for _, tc := range []struct {
		tree, usage, limit string
	}{
		{"v2-limit256m-quota0.5-io", "memory.current", "memory.max"},
		{"hybrid-limit256m-quota0.5-io", "memory.usage_in_bytes", "memory.limit_in_bytes"},
	} {
		t.Run(tc.tree, func(t *testing.T) {
			const every = 4
			root, loc, r := fixtureReader(t, tc.tree, nil, every)
			first, err := r.Read()
			if err != nil {
				t.Fatal(err)
			}

			usage := first.Memory.Usage + 4096
			rewrite(t, leafFiles(t, root, loc, tc.usage), strconv.FormatUint(usage, 10))
			st, err := r.Read()
			if err != nil {
				t.Fatal(err)
			}
			if st.Memory.Usage != usage {
				t.Errorf("usage after rewrite = %d, want %d on the next read", st.Memory.Usage, usage)
			}

			limit := first.Memory.Limit / 2
			rewrite(t, leafFiles(t, root, loc, tc.limit), strconv.FormatUint(limit, 10))
			seen := -1
			for i := range every {
				if st, err = r.Read(); err != nil {
					t.Fatal(err)
				}
				if st.Memory.Limit == limit {
					seen = i
					break
				}
			}
			if seen < 0 {
				t.Errorf("limit %d not seen within %d reads (still %d)", limit, every, st.Memory.Limit)
			}

			// Remove the leaf in every hierarchy (keeping a copy), then put it back.
			saved := t.TempDir()
			leafDirs := map[string]string{}
			err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
				if err == nil && d.IsDir() && d.Name() == filepath.Base(loc.Unified) {
					leafDirs[p] = filepath.Join(saved, strconv.Itoa(len(leafDirs)))
					return filepath.SkipDir
				}
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			for d, s := range leafDirs {
				if err := os.Rename(d, s); err != nil {
					t.Fatal(err)
				}
			}
			gone := false
			for range every {
				if _, err = r.Read(); errors.Is(err, fs.ErrNotExist) {
					gone = true
					break
				}
			}
			if !gone {
				t.Fatalf("removed cgroup not reported within %d reads (last error %v)", every, err)
			}
			for d, s := range leafDirs {
				if err := os.CopyFS(d, os.DirFS(s)); err != nil {
					t.Fatal(err)
				}
			}
			usage += 8192
			rewrite(t, leafFiles(t, root, loc, tc.usage), strconv.FormatUint(usage, 10))
			if st, err = r.Read(); err != nil {
				t.Fatalf("recreated cgroup: %v", err)
			}
			if st.Memory.Usage != usage {
				t.Errorf("recreated cgroup: usage %d, want %d", st.Memory.Usage, usage)
			}
		})
	}
}

// TestReaderStalePidLists: with StalePidLists a read serves the last pid
// lists until a full round; without it, the next read sees the change.
func TestReaderStalePidLists(t *testing.T) {
	for _, tc := range []struct{ tree, threads string }{
		{"v2-limit256m-quota0.5-io", "cgroup.threads"},
		{"hybrid-limit256m-quota0.5-io", "tasks"},
	} {
		for _, budget := range []*FDBudget{nil, NewFDBudget(0)} {
			t.Run(fmt.Sprintf("%s/kept=%v", tc.tree, budget == nil), func(t *testing.T) {
				root, loc, r := fixtureReader(t, tc.tree, budget, 4)
				r.n = 0 // no stagger: reads 1..3 are not full, read 4 is
				first, err := r.Read()
				if err != nil {
					t.Fatal(err)
				}
				pids := append(slices.Clone(first.Pids.Threads), 999991, 999992)
				var content []byte
				for _, p := range pids {
					content = strconv.AppendInt(content, int64(p), 10)
					content = append(content, '\n')
				}
				for _, f := range leafFiles(t, root, loc, tc.threads) {
					if err := os.WriteFile(f, content, 0o644); err != nil {
						t.Fatal(err)
					}
				}
				r.StalePidLists = true
				st, err := r.Read() // read 2: not full
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(st.Pids.Threads, first.Pids.Threads) {
					t.Errorf("stale read: threads %v, want the cached %v", st.Pids.Threads, first.Pids.Threads)
				}
				r.StalePidLists = false
				if st, err = r.Read(); err != nil { // read 3: not full, but wanted
					t.Fatal(err)
				}
				if !slices.Equal(st.Pids.Threads, pids) {
					t.Errorf("fresh read: threads %v, want %v", st.Pids.Threads, pids)
				}
				// Cached from the fresh read, and re-read on the full round.
				r.StalePidLists = true
				if st, err = r.Read(); err != nil { // read 4: full
					t.Fatal(err)
				}
				if !slices.Equal(st.Pids.Threads, pids) {
					t.Errorf("full round: threads %v, want %v", st.Pids.Threads, pids)
				}
			})
		}
	}
}

// TestFDBudget: readers keep no more descriptors than the budget allows and
// give them back when it shrinks or they close.
func TestFDBudget(t *testing.T) {
	root, loc := copyTree(t, filepath.Join(hostsDir, "v2-limit256m-quota0.5-io"))
	fsys := os.DirFS(root)
	b := NewFDBudget(3)
	r1 := NewReader(fsys, ModeV2, loc, b)
	r2 := NewReader(fsys, ModeV2, loc, b)
	for _, r := range []*Reader{r1, r2} {
		if _, err := r.Read(); err != nil {
			t.Fatal(err)
		}
	}
	if n := r1.OpenFiles() + r2.OpenFiles(); n != 3 || b.Used() != 3 {
		t.Errorf("kept %d descriptors, budget says %d, want 3", n, b.Used())
	}
	b.SetMax(1)
	if _, err := r1.Read(); err != nil {
		t.Fatal(err)
	}
	if r1.OpenFiles() != 0 && r2.OpenFiles() != 0 {
		t.Errorf("over budget and nobody released: %d+%d", r1.OpenFiles(), r2.OpenFiles())
	}
	r1.Close()
	r2.Close()
	if b.Used() != 0 {
		t.Errorf("closed readers still hold %d descriptors", b.Used())
	}
}

// TestReaderLive checks the kernel facts the Reader relies on, on this
// machine's cgroupfs: a kept descriptor follows the counter, a removed
// cgroup is noticed on the next read, a recreated one is read afresh, and
// the pid list is never stale.
func TestReaderLive(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to create cgroups")
	}
	fsys := os.DirFS(liveRoot)
	mode, err := DetectMode(fsys)
	if err != nil {
		t.Skipf("no cgroup hierarchy: %v", err)
	}
	base := liveRoot
	if mode != ModeV2 {
		dirs, err := controllerDirs(fsys)
		if err != nil || dirs["memory"] == "" {
			t.Skip("no v1 memory hierarchy")
		}
		base = filepath.Join(liveRoot, dirs["memory"])
	}
	name := fmt.Sprintf("/procview-test-reader-%d", os.Getpid())
	dir := base + name
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.Remove(dir) })
	loc := Location{V1: map[string]string{"memory": name}}
	if mode == ModeV2 {
		loc = Location{Unified: name}
	}
	r := NewReader(fsys, mode, loc, nil)
	defer r.Close()
	r.FullEvery = 1000 // only errors may force a full round

	cmd := exec.Command("sleep", "60")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	if err := os.WriteFile(dir+"/cgroup.procs", []byte(strconv.Itoa(cmd.Process.Pid)), 0); err != nil {
		t.Fatal(err)
	}
	st, err := r.Read()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(st.Pids.Procs, cmd.Process.Pid) || !st.Memory.Present {
		t.Fatalf("procs %v (want %d), memory present %v", st.Pids.Procs, cmd.Process.Pid, st.Memory.Present)
	}
	if r.OpenFiles() == 0 {
		t.Fatal("no descriptor kept")
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	if st, err = r.Read(); err != nil { // within a second of the last read
		t.Fatal(err)
	}
	if len(st.Pids.Procs) != 0 {
		t.Errorf("procs after the process exited: %v (stale pid list)", st.Pids.Procs)
	}

	if err := os.Remove(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Read(); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("removed cgroup: error %v, want fs.ErrNotExist on the next read", err)
	}
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if st, err = r.Read(); err != nil || !st.Memory.Present {
		t.Fatalf("recreated cgroup: %v, memory present %v", err, st != nil && st.Memory.Present)
	}
	if r.OpenFiles() == 0 {
		t.Error("no descriptor kept after recreation")
	}
}
