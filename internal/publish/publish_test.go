package publish

import (
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/procview/procview/internal/cgroupstats"
	"github.com/procview/procview/internal/render"
	"github.com/procview/procview/internal/state"
	"github.com/procview/procview/internal/views"
)

const fixture = "../../testdata/hosts/v2-limit256m-quota0.5-io"

// tree copies the fixture so the test can change cgroup files under it.
func tree(t *testing.T) string {
	t.Helper()
	dst := t.TempDir()
	if out, err := exec.Command("cp", "-a", fixture+"/.", dst).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v %s", err, out)
	}
	return dst
}

func setup(t *testing.T) (dir string, root state.Root, smp *views.Sampler, cg string, now *uint64) {
	dir = tree(t)
	cgFS := os.DirFS(filepath.Join(dir, "sys/fs/cgroup"))
	mode, err := cgroupstats.DetectMode(cgFS)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "proc/self/cgroup"))
	loc, err := cgroupstats.ParseProcCgroup(b)
	if err != nil {
		t.Fatal(err)
	}
	n := uint64(5000e9)
	now = &n
	smp = &views.Sampler{CgroupFS: cgFS, Mode: mode, ProcFS: os.DirFS(filepath.Join(dir, "proc")),
		SysFS: os.DirFS(filepath.Join(dir, "sys")), Now: func() uint64 { return *now }}
	root = state.Root(filepath.Join(t.TempDir(), "state"))
	cg = filepath.Join(dir, "sys/fs/cgroup", loc.Unified)
	var names []string
	for _, v := range render.Views() {
		names = append(names, v.Name)
	}
	host, err := smp.Host()
	if err != nil {
		t.Fatal(err)
	}
	meta := &state.Meta{ID: "c1", Location: loc, StartNs: 4000e9, CPUView: "quota", Views: names}
	s, err := Create(root, "c1", meta, smp, host)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	return dir, root, smp, cg, now
}

type snap struct {
	size  int64
	inode uint64
	data  string
}

func snapshot(t *testing.T, root state.Root) map[string]snap {
	t.Helper()
	out := map[string]snap{}
	for _, v := range render.Views() {
		p := filepath.Join(root.ViewsDir("c1"), filepath.FromSlash(v.Name))
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := os.ReadFile(p)
		out[v.Name] = snap{fi.Size(), fi.Sys().(*syscall.Stat_t).Ino, string(b)}
	}
	return out
}

// Refreshes rewrite every file in place: same inode, same length, new
// values; and a daemon restart (Adopt) continues with the same layout.
func TestRefreshInPlaceAndAdopt(t *testing.T) {
	_, root, smp, cg, now := setup(t)
	before := snapshot(t, root)

	s, err := Adopt(root, "c1")
	if err != nil {
		t.Fatal(err)
	}
	host, _ := smp.Host()
	// Memory use crosses digit boundaries both ways; CPU time grows.
	for i, cur := range []uint64{5 << 20, 150 << 20, 9 << 10, 200 << 20} {
		if err := os.WriteFile(filepath.Join(cg, "memory.current"), []byte(strconv.FormatUint(cur, 10)+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		stat := "usage_usec " + strconv.Itoa(5e6+i*1e6) + "\nuser_usec " + strconv.Itoa(4e6+i*1e6) + "\nsystem_usec 1000000\n"
		if err := os.WriteFile(filepath.Join(cg, "cpu.stat"), []byte(stat), 0o644); err != nil {
			t.Fatal(err)
		}
		*now += 1e9
		if i == 2 {
			// Simulated daemon restart: drop every open file and re-adopt.
			s.Close()
			if s, err = Adopt(root, "c1"); err != nil {
				t.Fatal(err)
			}
		}
		grew, err := s.Refresh(smp, host)
		if err != nil {
			t.Fatal(err)
		}
		if len(grew) > 0 {
			t.Errorf("step %d: views grew: %v", i, grew)
		}
		after := snapshot(t, root)
		for name, b := range before {
			a := after[name]
			if a.inode != b.inode {
				t.Errorf("step %d: %s was replaced (inode %d -> %d)", i, name, b.inode, a.inode)
			}
			if a.size != b.size {
				t.Errorf("step %d: %s length changed %d -> %d", i, name, b.size, a.size)
			}
		}
		wantFree := (256<<20 - cur) >> 10
		if got := memFree(t, after["meminfo"].data); got != wantFree {
			t.Errorf("step %d: MemFree %d kB, want %d", i, got, wantFree)
		}
		if after["stat"].data == before["stat"].data {
			t.Errorf("step %d: stat did not change", i)
		}
	}
	s.Close()
}

func memFree(t *testing.T, meminfo string) uint64 {
	for _, l := range strings.Split(meminfo, "\n") {
		f := strings.Fields(l)
		if len(f) >= 2 && f[0] == "MemFree:" {
			v, _ := strconv.ParseUint(f[1], 10, 64)
			return v
		}
	}
	t.Fatal("no MemFree")
	return 0
}

// A failed Create leaves nothing behind.
func TestCreateFailureCleansUp(t *testing.T) {
	root := state.Root(filepath.Join(t.TempDir(), "state"))
	smp := &views.Sampler{CgroupFS: os.DirFS("/nonexistent"), Mode: cgroupstats.ModeV2, Now: func() uint64 { return uint64(time.Second) }}
	meta := &state.Meta{ID: "x", Location: cgroupstats.LocationFromPath("/gone"), Views: []string{"meminfo"}}
	if _, err := Create(root, "x", meta, smp, nil); err == nil {
		t.Fatal("Create succeeded on a missing cgroup")
	}
	if _, err := os.Stat(root.Dir("x")); !os.IsNotExist(err) {
		t.Errorf("state left behind: %v", err)
	}
}

// acct.json is rewritten in place after the first refresh, always decodes
// to the latest floors (shorter content is padded), and Adopt reads them back.
func TestAcctInPlace(t *testing.T) {
	_, root, smp, _, now := setup(t)
	s, err := Adopt(root, "c1")
	if err != nil {
		t.Fatal(err)
	}
	host, _ := smp.Host()
	p := filepath.Join(root.Dir("c1"), "acct.json")
	var inode uint64
	for i := range 3 {
		*now += 1e9
		if i == 2 {
			// Shrink the encoding: the file must still decode to it.
			s.Acct.CPU.OffUser, s.Acct.CPU.OffSystem = 0, 0
		} else {
			s.Acct.CPU.OffUser, s.Acct.CPU.OffSystem = 1<<60, 1<<60
		}
		if _, err := s.Refresh(smp, host); err != nil {
			t.Fatal(err)
		}
		got, err := state.ReadAcct(root.Dir("c1"))
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		if !reflect.DeepEqual(got, s.Acct) {
			t.Errorf("step %d: acct.json holds %+v, want %+v", i, got, s.Acct)
		}
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		ino := fi.Sys().(*syscall.Stat_t).Ino
		if i > 0 && ino != inode {
			t.Errorf("step %d: acct.json replaced (inode %d -> %d), want in place", i, inode, ino)
		}
		inode = ino
	}
	want := *s.Acct
	s.Close()
	s, err = Adopt(root, "c1")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if !reflect.DeepEqual(*s.Acct, want) {
		t.Errorf("adopted floors %+v, want %+v", *s.Acct, want)
	}
}
