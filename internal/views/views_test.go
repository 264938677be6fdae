package views

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/procview/procview/internal/cgroupstats"
	"github.com/procview/procview/internal/cpuview"
	"github.com/procview/procview/internal/hoststats"
	"github.com/procview/procview/internal/render"
	"github.com/procview/procview/internal/state"
	"github.com/procview/procview/internal/tasks"
)

var update = flag.Bool("update", false, "rewrite golden files")

const hostsDir = "../../testdata/hosts"

// expect is what the capture script set up (testdata/hosts/*/expect.json),
// independent of procview's output.
type expect struct {
	Mode        string `json:"mode"`
	MemoryLimit int64  `json:"memory_limit"`
	CPUQuota    int64  `json:"cpu_quota"`
	CPUPeriod   int64  `json:"cpu_period"`
	Cpuset      string `json:"cpuset"`
}

type fixture struct {
	name string
	dir  string
	exp  expect
}

func fixtures(t *testing.T) []fixture {
	t.Helper()
	ents, err := os.ReadDir(hostsDir)
	if err != nil {
		t.Fatal(err)
	}
	var out []fixture
	for _, e := range ents {
		if !e.IsDir() {
			continue
		}
		f := fixture{name: e.Name(), dir: filepath.Join(hostsDir, e.Name())}
		if b, err := os.ReadFile(filepath.Join(f.dir, "expect.json")); err == nil {
			if err := json.Unmarshal(b, &f.exp); err != nil {
				t.Fatalf("%s/expect.json: %v", f.name, err)
			}
		}
		out = append(out, f)
	}
	if len(out) == 0 {
		t.Fatal("no fixture trees")
	}
	return out
}

// sample reads a fixture's host snapshot and its container's cgroup stats.
func sample(t *testing.T, f fixture) (*hoststats.Host, *cgroupstats.Stats, cgroupstats.Location) {
	t.Helper()
	cgFS := os.DirFS(filepath.Join(f.dir, "sys/fs/cgroup"))
	mode, err := cgroupstats.DetectMode(cgFS)
	if err != nil {
		t.Fatalf("DetectMode: %v", err)
	}
	b, err := os.ReadFile(filepath.Join(f.dir, "proc/self/cgroup"))
	if err != nil {
		t.Fatal(err)
	}
	loc, err := cgroupstats.ParseProcCgroup(b)
	if err != nil {
		t.Fatalf("ParseProcCgroup: %v", err)
	}
	smp := &Sampler{CgroupFS: cgFS, Mode: mode, ProcFS: os.DirFS(filepath.Join(f.dir, "proc")), SysFS: os.DirFS(filepath.Join(f.dir, "sys"))}
	host, err := smp.Host()
	if err != nil {
		t.Fatal(err)
	}
	st, err := cgroupstats.Read(cgFS, mode, loc)
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	return host, st, loc
}

// input samples a fixture as the daemon would, one hour after the container
// started, with no task scan (fixtures hold no live tasks).
func input(t *testing.T, f fixture) *render.Input {
	t.Helper()
	host, st, loc := sample(t, f)
	const start = uint64(1000e9)
	in, err := Derive(host, st, Target{Location: loc, StartNs: start, CPUView: cpuview.Quota}, &state.Acct{}, start+3600e9,
		func(procs, threads []int) tasks.Summary {
			return tasks.Summary{Running: 1, Threads: len(threads), LastPID: 1}
		})
	if err != nil {
		t.Fatal(err)
	}
	return in
}

// TestGolden renders every view of every fixture tree and compares it with
// testdata/golden/<fixture>/<view>.
func TestGolden(t *testing.T) {
	var names []string
	for _, v := range render.Views() {
		names = append(names, v.Name)
	}
	for _, f := range fixtures(t) {
		t.Run(f.name, func(t *testing.T) {
			out, err := Render(input(t, f), names)
			if err != nil {
				t.Fatal(err)
			}
			for _, n := range names {
				golden := filepath.Join("testdata", "golden", f.name, filepath.FromSlash(n))
				if *update {
					if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(golden, out[n], 0o644); err != nil {
						t.Fatal(err)
					}
					continue
				}
				want, err := os.ReadFile(golden)
				if err != nil {
					t.Fatalf("%v (run go test -update)", err)
				}
				if d := cmp.Diff(string(want), string(out[n])); d != "" {
					t.Errorf("%s (-want +got):\n%s", golden, d)
				}
			}
		})
	}
}

// TestLimitsFromCapture checks the rendered limits against what the capture
// script configured (expect.json), not against procview's own output.
func TestLimitsFromCapture(t *testing.T) {
	for _, f := range fixtures(t) {
		if f.exp.Mode == "" {
			continue
		}
		t.Run(f.name, func(t *testing.T) {
			in := input(t, f)
			out, err := Render(in, []string{"meminfo", "online", "cpuinfo"})
			if err != nil {
				t.Fatal(err)
			}
			hostTotal, _ := in.Host.Meminfo.Get("MemTotal")
			wantKB := hostTotal
			if f.exp.MemoryLimit > 0 && uint64(f.exp.MemoryLimit/1024) < hostTotal {
				wantKB = uint64(f.exp.MemoryLimit / 1024)
			}
			if strings.Contains(f.name, "nested") {
				wantKB = 128 * 1024 // the ancestor's limit wins over the leaf's 512 MiB
			}
			if got := field(t, out["meminfo"], "MemTotal:"); got != wantKB {
				t.Errorf("MemTotal = %d kB, want %d", got, wantKB)
			}
			wantCPUs := len(in.Host.Online)
			if f.exp.Cpuset != "" {
				wantCPUs = strings.Count(f.exp.Cpuset, ",") + 1 // fixtures use single CPUs or lists
			}
			if f.exp.CPUQuota > 0 && f.exp.CPUPeriod > 0 {
				q := int((f.exp.CPUQuota + f.exp.CPUPeriod - 1) / f.exp.CPUPeriod)
				if q < wantCPUs {
					wantCPUs = q
				}
			}
			if got := strings.Count(string(out["cpuinfo"]), "processor\t:"); got != wantCPUs {
				t.Errorf("cpuinfo has %d processors, want %d", got, wantCPUs)
			}
			wantOnline := "0\n"
			if wantCPUs > 1 {
				wantOnline = "0-" + strconv.Itoa(wantCPUs-1) + "\n"
			}
			if got := strings.TrimRight(string(out["online"]), " "); got != wantOnline {
				t.Errorf("online = %q, want %q", got, wantOnline)
			}
		})
	}
}

func field(t *testing.T, b []byte, key string) uint64 {
	t.Helper()
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) >= 2 && f[0] == key {
			v, err := strconv.ParseUint(f[1], 10, 64)
			if err != nil {
				t.Fatalf("%s: %v", key, err)
			}
			return v
		}
	}
	t.Fatalf("no %s line", key)
	return 0
}
