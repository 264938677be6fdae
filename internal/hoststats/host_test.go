package hoststats

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/procfs"
)

func TestParseMeminfo(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []MeminfoLine
		wantErr bool
	}{
		{name: "kB and counts", in: "MemTotal:       24684084 kB\nHugePages_Total:       0\nHugepagesize:       2048 kB\n",
			want: []MeminfoLine{{"MemTotal", 24684084, true}, {"HugePages_Total", 0, false}, {"Hugepagesize", 2048, true}}},
		{name: "order kept", in: "B: 2 kB\nA: 1 kB\n", want: []MeminfoLine{{"B", 2, true}, {"A", 1, true}}},
		{name: "key with parens", in: "Active(anon):    1 kB\n", want: []MeminfoLine{{"Active(anon)", 1, true}}},
		{name: "empty", in: "", wantErr: true},
		{name: "no colon", in: "MemTotal 1 kB\n", wantErr: true},
		{name: "bad unit", in: "MemTotal: 1 MB\n", wantErr: true},
		{name: "negative", in: "MemTotal: -1 kB\n", wantErr: true},
		{name: "no value", in: "MemTotal:\n", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseMeminfo([]byte(tt.in))
			if (err != nil) != tt.wantErr {
				t.Fatalf("error = %v, wantErr %v", err, tt.wantErr)
			}
			if err != nil && !errors.Is(err, ErrParse) {
				t.Errorf("error %v does not wrap ErrParse", err)
			}
			if diff := cmp.Diff(tt.want, got.Lines); !tt.wantErr && diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	m, _ := ParseMeminfo([]byte("A: 1 kB\n"))
	if v, ok := m.Get("A"); !ok || v != 1 {
		t.Errorf("Get(A) = %d, %v", v, ok)
	}
	if _, ok := m.Get("B"); ok {
		t.Error("Get(B) found a missing key")
	}
}

func TestParseCPUInfo(t *testing.T) {
	in := "processor\t: 0\nmodel name\t: X\n\nprocessor\t: 1\nmodel name\t: X\n\n"
	got, err := ParseCPUInfo([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{{"processor\t: 0", "model name\t: X"}, {"processor\t: 1", "model name\t: X"}}
	if diff := cmp.Diff(want, got.Blocks); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	// No trailing blank line (some architectures) still closes the block.
	if got, err := ParseCPUInfo([]byte("processor : 0")); err != nil || len(got.Blocks) != 1 {
		t.Errorf("unterminated block: %v %v", got, err)
	}
	if _, err := ParseCPUInfo([]byte("\n\n")); err == nil {
		t.Error("empty cpuinfo accepted")
	}
}

func TestParseStat(t *testing.T) {
	in := "cpu  1 2 3 4 5 6 7 8 9 10\nintr 1 2 3\nctxt 99\nbtime 1763791200\nprocesses 5\n"
	got, err := ParseStat([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if got.BootTime != 1763791200 || len(got.Lines) != 5 || got.Lines[1] != "intr 1 2 3" {
		t.Errorf("ParseStat = %+v", got)
	}
	for _, bad := range []string{"cpu 1\n", "btime x\n", "btime 1 2\n", "btime -5\n"} {
		if _, err := ParseStat([]byte(bad)); !errors.Is(err, ErrParse) {
			t.Errorf("ParseStat(%q) error = %v, want ErrParse", bad, err)
		}
	}
}

func TestParseDiskstats(t *testing.T) {
	in := "   7       0 loop0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n 254       0 vda 60954 12759 2403778 11604 27708 11600 3062000 8149 0 9588 20583 6544 72 771328 529 5401 299\n"
	got, err := ParseDiskstats([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []DiskStat{{7, 0, "loop0"}, {254, 0, "vda"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	for _, bad := range []string{"7 0\n", "x 0 loop0 1\n", "7 -1 loop0\n"} {
		if _, err := ParseDiskstats([]byte(bad)); err == nil {
			t.Errorf("ParseDiskstats(%q) succeeded", bad)
		}
	}
}

func TestParseVmstat(t *testing.T) {
	got, err := ParseVmstat([]byte("nr_free_pages 5\noom_kill 0\n"))
	if diff := cmp.Diff([]VmstatLine{{"nr_free_pages", 5}, {"oom_kill", 0}}, got); err != nil || diff != "" {
		t.Errorf("ParseVmstat: %v (-want +got):\n%s", err, diff)
	}
	for _, bad := range []string{"a\n", "a b\n", "a 1 2\n", "a -1\n"} {
		if _, err := ParseVmstat([]byte(bad)); err == nil {
			t.Errorf("ParseVmstat(%q) succeeded", bad)
		}
	}
}

func TestParseCPUList(t *testing.T) {
	tests := []struct {
		in      string
		want    []int
		wantErr bool
	}{
		{in: "0-1\n", want: []int{0, 1}},
		{in: "0,2-3", want: []int{0, 2, 3}},
		{in: "", want: []int{}},
		{in: "2-1", wantErr: true},
		{in: "x", wantErr: true},
		{in: "0-70000", wantErr: true},
	}
	for _, tt := range tests {
		got, err := ParseCPUList([]byte(tt.in))
		if (err != nil) != tt.wantErr {
			t.Errorf("ParseCPUList(%q) error = %v", tt.in, err)
			continue
		}
		if diff := cmp.Diff(tt.want, got); !tt.wantErr && diff != "" {
			t.Errorf("ParseCPUList(%q) (-want +got):\n%s", tt.in, diff)
		}
	}
}

func TestReadMissing(t *testing.T) {
	proc := fstest.MapFS{
		"meminfo": {Data: []byte("MemTotal: 100 kB\nSwapTotal: 2 kB\n")},
		"cpuinfo": {Data: []byte("processor : 0\n")},
		"stat":    {Data: []byte("btime 7\n")},
	}
	h, err := Read(proc, fstest.MapFS{})
	if err != nil {
		t.Fatal(err)
	}
	if h.SwapTotal != 2048 || h.Disks != nil || h.Vmstat != nil || h.Online != nil || len(h.Pressure) != 0 {
		t.Errorf("optional files not absent: %+v", h)
	}
	delete(proc, "stat")
	if _, err := Read(proc, fstest.MapFS{}); !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "/proc/stat") {
		t.Errorf("missing stat: error = %v, want a not-exist error naming /proc/stat", err)
	}
	proc["stat"] = &fstest.MapFile{Data: []byte("btime 7\n")}
	proc["vmstat"] = &fstest.MapFile{Data: []byte("garbage\n")}
	if _, err := Read(proc, fstest.MapFS{}); !errors.Is(err, ErrParse) || !strings.Contains(err.Error(), "/proc/vmstat") {
		t.Errorf("garbage vmstat: error = %v, want ErrParse naming /proc/vmstat", err)
	}
}

// checkAgainstProcfs reads a /proc + /sys root with Read and compares it with
// prometheus/procfs, an independent parser of the same files.
func checkAgainstProcfs(t *testing.T, procDir, sysDir string) {
	t.Helper()
	h, err := Read(os.DirFS(procDir), os.DirFS(sysDir))
	if err != nil {
		t.Fatal(err)
	}
	pfs, err := procfs.NewFS(procDir)
	if err != nil {
		t.Fatal(err)
	}
	mi, err := pfs.Meminfo()
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := h.Meminfo.Get("MemTotal"); !ok || mi.MemTotal == nil || got != *mi.MemTotal {
		t.Errorf("MemTotal = %d, procfs says %v", got, mi.MemTotal)
	}
	if mi.SwapTotal != nil && h.SwapTotal != *mi.SwapTotal*1024 {
		t.Errorf("SwapTotal = %d bytes, procfs says %d kB", h.SwapTotal, *mi.SwapTotal)
	}
	if got, ok := h.Meminfo.Get("HugePages_Total"); ok {
		if mi.HugePagesTotal == nil || got != *mi.HugePagesTotal {
			t.Errorf("HugePages_Total = %d, procfs says %v", got, mi.HugePagesTotal)
		}
	}
	st, err := pfs.Stat()
	if err != nil {
		t.Fatal(err)
	}
	if h.Stat.BootTime != st.BootTime {
		t.Errorf("BootTime = %d, procfs says %d", h.Stat.BootTime, st.BootTime)
	}
	ci, err := pfs.CPUInfo()
	if err != nil {
		t.Fatal(err)
	}
	if len(h.CPUInfo.Blocks) != len(ci) {
		t.Errorf("%d cpuinfo blocks, procfs says %d", len(h.CPUInfo.Blocks), len(ci))
	}
	if len(h.Online) != len(st.CPU) {
		t.Errorf("online CPUs %v, /proc/stat has %d cpuN lines", h.Online, len(st.CPU))
	}
	diskstats, err := os.ReadFile(filepath.Join(procDir, "diskstats"))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(strings.TrimSpace(string(diskstats)), "\n") + 1; len(h.Disks) != n {
		t.Errorf("%d disks, diskstats has %d lines", len(h.Disks), n)
	}
	if len(h.Vmstat) == 0 {
		t.Error("vmstat empty")
	}
	if _, err := os.Stat(filepath.Join(procDir, "pressure/cpu")); err == nil && h.Pressure["cpu"] == nil {
		t.Error("pressure/cpu exists but was not read")
	}
}

func TestFixtureTrees(t *testing.T) {
	trees, err := filepath.Glob("../../testdata/hosts/*/proc/meminfo")
	if err != nil {
		t.Fatal(err)
	}
	if len(trees) == 0 {
		t.Fatal("no fixture trees")
	}
	for _, mi := range trees {
		tree := filepath.Dir(filepath.Dir(mi))
		t.Run(filepath.Base(tree), func(t *testing.T) {
			checkAgainstProcfs(t, filepath.Join(tree, "proc"), filepath.Join(tree, "sys"))
		})
	}
}

func TestLiveHost(t *testing.T) {
	if _, err := os.Stat("/proc/meminfo"); err != nil {
		t.Skip("no /proc")
	}
	checkAgainstProcfs(t, "/proc", "/sys")
}

// FuzzParsers checks that no parser panics on arbitrary input.
func FuzzParsers(f *testing.F) {
	for _, s := range []string{"", "MemTotal: 1 kB", "HugePages_Total: 18446744073709551616", "btime -1",
		"7 0 loop0", "a 1", "0-65536", "0-1,"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _ = ParseMeminfo(data)
		_, _ = ParseCPUInfo(data)
		_, _ = ParseStat(data)
		_, _ = ParseDiskstats(data)
		_, _ = ParseVmstat(data)
		_, _ = ParseCPUList(data)
	})
}
