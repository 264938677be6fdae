package cgroupstats

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// hostsDir holds the fixture trees made by hack/capture-fixture.sh.
const hostsDir = "../../testdata/hosts"

// expectation is a tree's expect.json: what the capture script set, not what
// Read returned. -1 means "not set" (unlimited, no quota).
type expectation struct {
	Mode           string `json:"mode"`
	Cgroup         string `json:"cgroup"`
	MemoryLimit    int64  `json:"memory_limit"`
	SwapLimit      int64  `json:"swap_limit"`
	CPUQuota       int64  `json:"cpu_quota"`
	CPUPeriod      int64  `json:"cpu_period"`
	Cpuset         string `json:"cpuset"`
	PidsMax        int64  `json:"pids_max"`
	AllocBytes     uint64 `json:"alloc_bytes"`
	IOBytes        uint64 `json:"io_bytes"`
	SwapAccounting bool   `json:"swap_accounting"`
	Pressure       bool   `json:"pressure"`
	PID            int    `json:"pid"`
	Usage          uint64 `json:"usage"` // set only by derived trees that edit the usage file
}

func limit(v int64) uint64 {
	if v < 0 {
		return Unlimited
	}
	return uint64(v)
}

func fixtureTrees(t *testing.T) []string {
	t.Helper()
	trees, err := filepath.Glob(filepath.Join(hostsDir, "*", "expect.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(trees) == 0 {
		t.Fatalf("no fixture trees under %s", hostsDir)
	}
	for i := range trees {
		trees[i] = filepath.Dir(trees[i])
	}
	return trees
}

func TestFixtureTrees(t *testing.T) {
	for _, tree := range fixtureTrees(t) {
		t.Run(filepath.Base(tree), func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join(tree, "expect.json"))
			if err != nil {
				t.Fatal(err)
			}
			var want expectation
			if err := json.Unmarshal(raw, &want); err != nil {
				t.Fatalf("expect.json: %v", err)
			}
			fsys := os.DirFS(filepath.Join(tree, "sys/fs/cgroup"))
			mode, err := DetectMode(fsys)
			if err != nil {
				t.Fatal(err)
			}
			if mode.String() != want.Mode {
				t.Fatalf("DetectMode = %v, want %s", mode, want.Mode)
			}
			procCgroup, err := os.ReadFile(filepath.Join(tree, "proc/self/cgroup"))
			if err != nil {
				t.Fatal(err)
			}
			loc, err := ParseProcCgroup(procCgroup)
			if err != nil {
				t.Fatal(err)
			}
			if mode != ModeV1 && loc.Unified != want.Cgroup {
				t.Errorf("unified path %q, want %q", loc.Unified, want.Cgroup)
			}
			if mode != ModeV2 && loc.V1["memory"] != want.Cgroup {
				t.Errorf("memory path %q, want %q", loc.V1["memory"], want.Cgroup)
			}

			st, err := Read(fsys, mode, loc)
			if err != nil {
				t.Fatal(err)
			}
			// The operator-path form must see the same cgroup.
			st2, err := Read(fsys, mode, LocationFromPath(want.Cgroup))
			if err != nil {
				t.Fatalf("Read(LocationFromPath): %v", err)
			}
			if st2.Memory.Limit != st.Memory.Limit || st2.CPU.Quota != st.CPU.Quota {
				t.Errorf("LocationFromPath reads a different cgroup: %+v vs %+v", st2, st)
			}

			m := st.Memory
			if !m.Present {
				t.Fatal("memory controller not found")
			}
			if m.Limit != limit(want.MemoryLimit) {
				t.Errorf("Memory.Limit = %d, want %d", m.Limit, limit(want.MemoryLimit))
			}
			if m.SwapAccounting != want.SwapAccounting {
				t.Errorf("SwapAccounting = %v, want %v", m.SwapAccounting, want.SwapAccounting)
			}
			if want.SwapAccounting && m.SwapLimit != limit(want.SwapLimit) {
				t.Errorf("SwapLimit = %d, want %d", m.SwapLimit, limit(want.SwapLimit))
			}
			// The workload's tmpfs file is charged to the cgroup as shmem.
			if m.Usage < want.AllocBytes {
				t.Errorf("Memory.Usage = %d, want >= %d allocated", m.Usage, want.AllocBytes)
			}
			if m.Stat["shmem"] < want.AllocBytes {
				t.Errorf("Stat[shmem] = %d, want >= %d allocated", m.Stat["shmem"], want.AllocBytes)
			}
			if _, ok := m.Stat["file"]; !ok {
				t.Errorf("Stat has no v2 key \"file\": %v", m.Stat)
			}
			if want.Usage != 0 {
				if m.Usage != want.Usage {
					t.Errorf("Memory.Usage = %d, want the edited %d", m.Usage, want.Usage)
				}
				if m.Usage <= m.Limit {
					t.Errorf("derived over-limit tree: usage %d <= limit %d", m.Usage, m.Limit)
				}
			}

			c := st.CPU
			if c.Quota != want.CPUQuota {
				t.Errorf("CPU.Quota = %d, want %d", c.Quota, want.CPUQuota)
			}
			if want.CPUQuota >= 0 && int64(c.Period) != want.CPUPeriod {
				t.Errorf("CPU.Period = %d, want %d", c.Period, want.CPUPeriod)
			}
			if want.Cpuset != "" {
				wantCPUs, err := parseCPUList([]byte(want.Cpuset))
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(c.Cpuset, wantCPUs) {
					t.Errorf("Cpuset = %v, want %v", c.Cpuset, wantCPUs)
				}
			} else if len(c.Cpuset) == 0 {
				t.Errorf("Cpuset empty; the host's cpuset should be inherited")
			}
			// The workload ran a busy loop for a second; even at a 0.5 CPU
			// quota that is far more than 100 ms.
			if !c.UsagePresent || c.Usage < 100_000_000 {
				t.Errorf("CPU usage = %d ns (present %v), want >= 100ms", c.Usage, c.UsagePresent)
			}
			if c.User+c.System == 0 || c.User+c.System > c.Usage+c.Usage/10+20_000_000 {
				t.Errorf("user %d + system %d inconsistent with usage %d", c.User, c.System, c.Usage)
			}

			var wrote, read uint64
			for _, d := range st.IO.Devices {
				wrote, read = wrote+d.WriteBytes, read+d.ReadBytes
			}
			if want.IOBytes > 0 && (wrote < want.IOBytes || read < want.IOBytes) {
				t.Errorf("I/O wrote %d read %d, want >= %d each: %+v", wrote, read, want.IOBytes, st.IO.Devices)
			}
			if want.IOBytes == 0 && wrote != 0 {
				t.Errorf("I/O wrote %d, want 0 (no I/O in this scenario)", wrote)
			}

			p := st.Pids
			if p.Limit != limit(want.PidsMax) {
				t.Errorf("Pids.Limit = %d, want %d", p.Limit, limit(want.PidsMax))
			}
			if !slices.Contains(p.Procs, want.PID) || !slices.Contains(p.Threads, want.PID) {
				t.Errorf("workload pid %d not in procs %v / threads %v", want.PID, p.Procs, p.Threads)
			}
			if p.Current < 1 {
				t.Errorf("Pids.Current = %d, want >= 1", p.Current)
			}

			if got := st.Pressure.CPU != nil && st.Pressure.Memory != nil && st.Pressure.IO != nil; got != want.Pressure {
				t.Errorf("pressure files present = %v, want %v", got, want.Pressure)
			}
		})
	}
}
