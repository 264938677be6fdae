package render

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/procview/procview/internal/config"
)

var update = flag.Bool("update", false, "rewrite golden files")

func TestGolden(t *testing.T) {
	for _, tc := range testCases(t) {
		for _, v := range Views() {
			t.Run(tc.name+"/"+v.Name, func(t *testing.T) {
				var b bytes.Buffer
				if err := v.Render(&b, tc.in); err != nil {
					t.Fatal(err)
				}
				path := filepath.Join("testdata", "golden", tc.name, filepath.FromSlash(v.Name))
				if *update {
					if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
						t.Fatal(err)
					}
					return
				}
				want, err := os.ReadFile(path)
				if err != nil {
					t.Fatalf("%v (run with -update to create)", err)
				}
				if diff := cmp.Diff(string(want), b.String()); diff != "" {
					t.Errorf("%s (-want +got):\n%s", path, diff)
				}
			})
		}
	}
}

func TestViewsOrderAndLookup(t *testing.T) {
	var names []string
	for _, v := range Views() {
		names = append(names, v.Name)
		if v.Render == nil {
			t.Errorf("%s has no renderer", v.Name)
		}
	}
	if diff := cmp.Diff(config.AllViews, names); diff != "" {
		t.Errorf("Views() order (-config.AllViews +got):\n%s", diff)
	}
	tests := []struct {
		key  string
		want string
		ok   bool
	}{
		{"meminfo", "meminfo", true},
		{"/proc/meminfo", "meminfo", true},
		{"proc/meminfo", "meminfo", true},
		{"online", "online", true},
		{"/sys/devices/system/cpu/online", "online", true},
		{"pressure/cpu", "pressure/cpu", true},
		{"/proc/pressure/cpu", "pressure/cpu", true},
		{"/proc/pressure", "", false},
		{"net/dev", "", false},
	}
	for _, tt := range tests {
		v, ok := Lookup(tt.key)
		if ok != tt.ok || v.Name != tt.want {
			t.Errorf("Lookup(%q) = %q, %v; want %q, %v", tt.key, v.Name, ok, tt.want, tt.ok)
		}
	}
	// Views returns a copy.
	vs := Views()
	vs[0].Name = "x"
	if Views()[0].Name != "meminfo" {
		t.Error("Views shares its backing array")
	}
}

// TestMeminfoKernelFormat checks every rendered line against the kernel's
// printing rule, using the host's own file as the reference: labels and
// widths must be byte-identical when nothing is overridden.
func TestMeminfoKernelFormat(t *testing.T) {
	h := loadHost(t)
	var b bytes.Buffer
	if err := Meminfo(&b, &Input{Host: h}); err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(filepath.Join("testdata", "host", "meminfo"))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(want), b.String()); diff != "" {
		t.Errorf("host passthrough differs from the host file (-host +got):\n%s", diff)
	}
	// Long labels the fixture lacks, against the kernel's format strings.
	tests := []struct {
		key  string
		v    uint64
		kB   bool
		want string
	}{
		{"HardwareCorrupted", 0, true, "HardwareCorrupted:     0 kB\n"}, // "HardwareCorrupted: %5lu kB\n"
		{"HugePages_Total", 12, false, "HugePages_Total:      12\n"},    // "HugePages_Total:   %5lu\n"
		{"VmallocTotal", 34359738367, true, "VmallocTotal:   34359738367 kB\n"},
	}
	for _, tt := range tests {
		if got := string(appendMeminfoLine(nil, tt.key, tt.v, tt.kB)); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.key, got, tt.want)
		}
	}
}

func TestSwapsHeaderMatchesHost(t *testing.T) {
	h := loadHost(t)
	var b bytes.Buffer
	if err := Swaps(&b, &Input{Host: h}); err != nil {
		t.Fatal(err)
	}
	want, _ := os.ReadFile(filepath.Join("testdata", "host", "swaps"))
	if b.String() != string(want) {
		t.Errorf("swaps without swap = %q, host file %q", b.String(), want)
	}
}

func TestPressureSources(t *testing.T) {
	cases := testCases(t)
	find := func(name string) *Input {
		for _, c := range cases {
			if c.name == name {
				return c.in
			}
		}
		t.Fatalf("no case %s", name)
		return nil
	}
	tests := []struct {
		name string
		in   *Input
		want string
	}{
		{"cgroup PSI", find("256m-half-cpu"), string(find("256m-half-cpu").Cgroup.Pressure.CPU)},
		{"pure v1: host PSI", find("no-limit"), string(find("no-limit").Host.Pressure["cpu"])},
		{"nowhere: zeros", find("no-io"), pressureZero},
	}
	for _, tt := range tests {
		var b bytes.Buffer
		if err := PressureCPU(&b, tt.in); err != nil {
			t.Fatal(err)
		}
		if b.String() != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, b.String(), tt.want)
		}
	}
}

func TestRenderErrors(t *testing.T) {
	h := loadHost(t)
	tests := []struct {
		name string
		f    Func
		in   *Input
	}{
		{"meminfo without host", Meminfo, &Input{}},
		{"cpuinfo with 0 CPUs", CPUInfo, &Input{Host: h}},
		{"stat with missing per-CPU times", Stat, &Input{CPUs: 2, PerCPU: make([]CPUTimes, 1)}},
		{"online with 0 CPUs", Online, &Input{}},
		{"vmstat without host", Vmstat, &Input{}},
		{"swaps without host", Swaps, &Input{}},
	}
	for _, tt := range tests {
		if err := tt.f(&bytes.Buffer{}, tt.in); err == nil {
			t.Errorf("%s: no error", tt.name)
		}
	}
}

func TestCPUInfoTopology(t *testing.T) {
	for _, tc := range testCases(t) {
		var b bytes.Buffer
		if err := CPUInfo(&b, tc.in); err != nil {
			t.Fatal(err)
		}
		blocks := strings.Split(strings.TrimSuffix(b.String(), "\n\n"), "\n\n")
		if len(blocks) != tc.in.CPUs {
			t.Fatalf("%s: %d blocks for %d CPUs", tc.name, len(blocks), tc.in.CPUs)
		}
		var coreIDs []string
		for i, blk := range blocks {
			f := map[string]string{}
			for _, line := range strings.Split(blk, "\n") {
				if k, v, ok := cpuinfoField(line); ok {
					f[k] = v
				}
			}
			n := strings.TrimSpace(string(rune('0' + tc.in.CPUs)))
			if f["processor"] != string(rune('0'+i)) || f["siblings"] != n || f["cpu cores"] != n || f["apicid"] != f["core id"] {
				t.Errorf("%s block %d: processor %q siblings %q cpu cores %q apicid %q core id %q",
					tc.name, i, f["processor"], f["siblings"], f["cpu cores"], f["apicid"], f["core id"])
			}
			coreIDs = append(coreIDs, f["core id"])
		}
		if len(slices.Compact(slices.Sorted(slices.Values(coreIDs)))) != len(coreIDs) {
			t.Errorf("%s: core ids not unique: %v", tc.name, coreIDs)
		}
	}
}
