package cgroupstats

import (
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseLimit(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    uint64
		wantErr bool
	}{
		{name: "bytes", in: "268435456\n", want: 268435456},
		{name: "zero", in: "0", want: 0},
		{name: "v2 max", in: "max\n", want: Unlimited},
		{name: "minus one", in: "-1\n", want: Unlimited},
		{name: "other negative", in: "-4096", want: Unlimited},
		{name: "huge negative", in: "-99999999999999999999999", want: Unlimited},
		{name: "v1 unlimited 4k pages", in: "9223372036854771712\n", want: Unlimited},
		{name: "v1 unlimited 64k pages", in: "9223372036854710272", want: Unlimited},
		{name: "just below 1<<62", in: "4611686018427387903", want: 4611686018427387903},
		{name: "overflows uint64", in: "99999999999999999999999", want: Unlimited},
		{name: "garbage", in: "lots", wantErr: true},
		{name: "empty", in: "", wantErr: true},
		{name: "two numbers", in: "1 2", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseLimit([]byte(tt.in))
			if (err != nil) != tt.wantErr {
				t.Fatalf("parseLimit(%q) error = %v, wantErr %v", tt.in, err, tt.wantErr)
			}
			if err != nil && !errors.Is(err, ErrParse) {
				t.Errorf("error %v does not wrap ErrParse", err)
			}
			if got != tt.want {
				t.Errorf("parseLimit(%q) = %d, want %d", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseUintAndInt(t *testing.T) {
	if v, err := parseUint([]byte("42\n")); err != nil || v != 42 {
		t.Errorf("parseUint(42) = %d, %v", v, err)
	}
	for _, bad := range []string{"", "-1", "x", "1.5", "99999999999999999999999"} {
		if _, err := parseUint([]byte(bad)); err == nil {
			t.Errorf("parseUint(%q) succeeded", bad)
		}
	}
	if v, err := parseInt([]byte("-1\n")); err != nil || v != -1 {
		t.Errorf("parseInt(-1) = %d, %v", v, err)
	}
	for _, bad := range []string{"", "max", "99999999999999999999999"} {
		if _, err := parseInt([]byte(bad)); err == nil {
			t.Errorf("parseInt(%q) succeeded", bad)
		}
	}
}

func TestParseFlatKeyed(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    map[string]uint64
		wantErr bool
	}{
		{name: "cpu.stat", in: "usage_usec 547257\nuser_usec 520279\nsystem_usec 26977\n",
			want: map[string]uint64{"usage_usec": 547257, "user_usec": 520279, "system_usec": 26977}},
		{name: "blank lines", in: "\na 1\n\n b 2 \n", want: map[string]uint64{"a": 1, "b": 2}},
		{name: "empty", in: "", want: map[string]uint64{}},
		{name: "negative", in: "a -1\n", wantErr: true},
		{name: "three fields", in: "a 1 2\n", wantErr: true},
		{name: "no value", in: "a\n", wantErr: true},
		{name: "not a number", in: "a b\n", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseFlatKeyed([]byte(tt.in))
			if (err != nil) != tt.wantErr {
				t.Fatalf("error = %v, wantErr %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); !tt.wantErr && diff != "" {
				t.Errorf("parseFlatKeyed(%q) (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

func TestParseCPUList(t *testing.T) {
	tests := []struct {
		in      string
		want    []int
		wantErr bool
	}{
		{in: "0-3,8\n", want: []int{0, 1, 2, 3, 8}},
		{in: "1", want: []int{1}},
		{in: "8,0-1", want: []int{0, 1, 8}},
		{in: "0-1,1-2", want: []int{0, 1, 2}},
		{in: "\n", want: []int{}},
		{in: "3-1", wantErr: true},
		{in: "-1", wantErr: true},
		{in: "a", wantErr: true},
		{in: "0-", wantErr: true},
		{in: "0,,1", wantErr: true},
		{in: "0-999999999", wantErr: true},
	}
	for _, tt := range tests {
		got, err := parseCPUList([]byte(tt.in))
		if (err != nil) != tt.wantErr {
			t.Errorf("parseCPUList(%q) error = %v, wantErr %v", tt.in, err, tt.wantErr)
			continue
		}
		if diff := cmp.Diff(tt.want, got); !tt.wantErr && diff != "" {
			t.Errorf("parseCPUList(%q) (-want +got):\n%s", tt.in, diff)
		}
	}
}

func TestParseCPUMax(t *testing.T) {
	tests := []struct {
		in         string
		wantQuota  int64
		wantPeriod uint64
		wantErr    bool
	}{
		{in: "50000 100000\n", wantQuota: 50000, wantPeriod: 100000},
		{in: "max 100000\n", wantQuota: -1, wantPeriod: 100000},
		{in: "max", wantQuota: -1},
		{in: "", wantErr: true},
		{in: "-5 100000", wantErr: true},
		{in: "50000 x", wantErr: true},
		{in: "1 2 3", wantErr: true},
		{in: "99999999999999999999 100000", wantErr: true},
	}
	for _, tt := range tests {
		q, p, err := parseCPUMax([]byte(tt.in))
		if (err != nil) != tt.wantErr {
			t.Errorf("parseCPUMax(%q) error = %v, wantErr %v", tt.in, err, tt.wantErr)
			continue
		}
		if !tt.wantErr && (q != tt.wantQuota || p != tt.wantPeriod) {
			t.Errorf("parseCPUMax(%q) = %d %d, want %d %d", tt.in, q, p, tt.wantQuota, tt.wantPeriod)
		}
	}
}

func TestParseIOStat(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []DeviceIO
		wantErr bool
	}{
		{name: "two devices unsorted", in: "254:0 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=5 dios=6\n8:0 rbytes=7 wbytes=8 rios=9 wios=10 dbytes=0 dios=0\n",
			want: []DeviceIO{
				{Major: 8, Minor: 0, ReadBytes: 7, WriteBytes: 8, ReadIOs: 9, WriteIOs: 10},
				{Major: 254, Minor: 0, ReadBytes: 1, WriteBytes: 2, ReadIOs: 3, WriteIOs: 4, DiscardBytes: 5, DiscardIOs: 6},
			}},
		{name: "iocost keys ignored", in: "8:16 rbytes=1 wbytes=0 rios=1 wios=0 dbytes=0 dios=0 cost.vrate=100.00 cost.usage=5\n",
			want: []DeviceIO{{Major: 8, Minor: 16, ReadBytes: 1, ReadIOs: 1}}},
		{name: "empty", in: "", want: []DeviceIO{}},
		{name: "bad device", in: "sda rbytes=1\n", wantErr: true},
		{name: "bad value", in: "8:0 rbytes=-1\n", wantErr: true},
		{name: "no equals", in: "8:0 rbytes\n", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseIOStat([]byte(tt.in))
			if (err != nil) != tt.wantErr {
				t.Fatalf("error = %v, wantErr %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); !tt.wantErr && diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseBlkio(t *testing.T) {
	bytesFile := "254:0 Read 8663040\n254:0 Write 8388608\n254:0 Sync 17051648\n254:0 Async 0\n254:0 Discard 4096\n254:0 Total 17055744\n8:0 Read 512\nTotal 17056256\n"
	countFile := "254:0 Read 55\n254:0 Write 8\n254:0 Discard 1\nTotal 64\n"
	b, err := parseBlkioRecursive([]byte(bytesFile))
	if err != nil {
		t.Fatal(err)
	}
	n, err := parseBlkioRecursive([]byte(countFile))
	if err != nil {
		t.Fatal(err)
	}
	want := []DeviceIO{
		{Major: 8, Minor: 0, ReadBytes: 512},
		{Major: 254, Minor: 0, ReadBytes: 8663040, WriteBytes: 8388608, DiscardBytes: 4096, ReadIOs: 55, WriteIOs: 8, DiscardIOs: 1},
	}
	if diff := cmp.Diff(want, mergeBlkio(b, n)); diff != "" {
		t.Errorf("mergeBlkio (-want +got):\n%s", diff)
	}
	if got, err := parseBlkioRecursive([]byte("Total 0\n")); err != nil || len(got) != 0 {
		t.Errorf("root-style file: got %v, %v", got, err)
	}
	for _, bad := range []string{"254:0 Read\n", "254:0 Read x\n", "sda Read 1\n", "Total x\n", "254:0 Read 1 2\n"} {
		if _, err := parseBlkioRecursive([]byte(bad)); !errors.Is(err, ErrParse) {
			t.Errorf("parseBlkioRecursive(%q) error = %v, want ErrParse", bad, err)
		}
	}
}

func TestParseUsageAll(t *testing.T) {
	u, s, err := parseUsageAll([]byte("cpu user system\n0 524000000 0\n1 16000000 28000000\n"))
	if err != nil || u != 540000000 || s != 28000000 {
		t.Errorf("parseUsageAll = %d %d %v, want 540000000 28000000", u, s, err)
	}
	for _, bad := range []string{"", "0 1 2\n", "cpu user system\n0 1\n", "cpu user system\nx 1 2\n", "cpu user system\n0 -1 2\n"} {
		if _, _, err := parseUsageAll([]byte(bad)); err == nil {
			t.Errorf("parseUsageAll(%q) succeeded", bad)
		}
	}
}

func TestParseSlabinfo(t *testing.T) {
	in := `slabinfo - version: 2.1
# name            <active_objs> <num_objs> <objsize> <objperslab> <pagesperslab> : tunables <limit> <batchcount> <sharedfactor> : slabdata <active_slabs> <num_slabs> <sharedavail>
dentry               420    420    192   21    1 : tunables    0    0    0 : slabdata     20     20      0
ext4_inode_cache      60     60   1080   30    8 : tunables    0    0    0 : slabdata      2      2      0
kmalloc-64           128    128     64   64    1 : tunables    0    0    0 : slabdata      2      2      0
`
	total, recl, ok, err := parseSlabinfo([]byte(in), 4096)
	if err != nil || !ok {
		t.Fatalf("parseSlabinfo: ok=%v err=%v", ok, err)
	}
	// dentry 20 slabs*1 page, ext4_inode_cache 2*8 pages, kmalloc-64 2*1 page.
	if wantTotal, wantRecl := uint64((20+16+2)*4096), uint64((20+16)*4096); total != wantTotal || recl != wantRecl {
		t.Errorf("parseSlabinfo = %d %d, want %d %d", total, recl, wantTotal, wantRecl)
	}
	if _, _, ok, err := parseSlabinfo(nil, 4096); ok || err != nil {
		t.Errorf("empty slabinfo (kernel >= 5.9): ok=%v err=%v, want absent", ok, err)
	}
	for _, bad := range []string{"dentry 1 2 3\n", "dentry 420 420 192 21 x : tunables 0 0 0 : slabdata 20 20 0\n"} {
		if _, _, _, err := parseSlabinfo([]byte(bad), 4096); err == nil {
			t.Errorf("parseSlabinfo(%q) succeeded", bad)
		}
	}
}

func TestRenameV1Stat(t *testing.T) {
	in := map[string]uint64{
		"cache": 1, "rss": 2, // local keys are dropped
		"total_cache": 10, "total_rss": 20, "total_rss_huge": 30, "total_mapped_file": 40,
		"total_dirty": 50, "total_writeback": 60, "total_shmem": 70, "total_swap": 80,
		"total_pgpgin": 90, "total_inactive_file": 100, "hierarchical_memory_limit": 5,
	}
	want := map[string]uint64{
		"file": 10, "anon": 20, "anon_thp": 30, "file_mapped": 40, "file_dirty": 50,
		"file_writeback": 60, "shmem": 70, "swap": 80, "pgpgin": 90, "inactive_file": 100,
	}
	if diff := cmp.Diff(want, renameV1Stat(in)); diff != "" {
		t.Errorf("renameV1Stat (-want +got):\n%s", diff)
	}
}

func TestParsePIDList(t *testing.T) {
	got, err := parsePIDList([]byte("30\n4\n100\n"))
	if diff := cmp.Diff([]int{4, 30, 100}, got); err != nil || diff != "" {
		t.Errorf("parsePIDList: %v (-want +got):\n%s", err, diff)
	}
	if got, err := parsePIDList(nil); err != nil || len(got) != 0 {
		t.Errorf("empty: %v %v", got, err)
	}
	for _, bad := range []string{"x", "-1", "0"} {
		if _, err := parsePIDList([]byte(bad)); err == nil {
			t.Errorf("parsePIDList(%q) succeeded", bad)
		}
	}
}

func TestParseProcCgroup(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    Location
		wantErr bool
	}{
		{name: "hybrid", in: "9:name=systemd:/\n8:pids:/a\n2:cpu,cpuacct:/b\n4:memory:/c\n0::/u\n",
			want: Location{V1: map[string]string{"pids": "/a", "cpu": "/b", "cpuacct": "/b", "memory": "/c"}, Unified: "/u"}},
		{name: "v2", in: "0::/system.slice/docker-abc.scope\n",
			want: Location{V1: map[string]string{}, Unified: "/system.slice/docker-abc.scope"}},
		{name: "v1 only", in: "3:memory:/docker/x\n1:name=systemd:/docker/x\n",
			want: Location{V1: map[string]string{"memory": "/docker/x"}}},
		{name: "colon in path", in: "0::/a:b\n", want: Location{V1: map[string]string{}, Unified: "/a:b"}},
		{name: "empty", in: "", want: Location{V1: map[string]string{}}},
		{name: "two fields", in: "0:/x\n", wantErr: true},
		{name: "relative path", in: "4:memory:x\n", wantErr: true},
		{name: "bad id", in: "a:memory:/x\n", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseProcCgroup([]byte(tt.in))
			if (err != nil) != tt.wantErr {
				t.Fatalf("error = %v, wantErr %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); !tt.wantErr && diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestLocationFromPath(t *testing.T) {
	loc := LocationFromPath("docker/abc/")
	if loc.Unified != "/docker/abc" {
		t.Errorf("Unified = %q", loc.Unified)
	}
	for _, c := range V1Controllers {
		if loc.V1[c] != "/docker/abc" {
			t.Errorf("V1[%s] = %q", c, loc.V1[c])
		}
	}
}

func TestRelDir(t *testing.T) {
	tests := []struct {
		base, p, want string
		wantErr       bool
	}{
		{base: "memory", p: "/", want: "memory"},
		{base: "memory", p: "/a/b", want: "memory/a/b"},
		{base: ".", p: "/", want: "."},
		{base: ".", p: "/a/", want: "a"},
		{base: "unified", p: "", want: "unified"},
		{base: "memory", p: "/../etc", wantErr: true},
		{base: "memory", p: "/a/../../x", wantErr: true},
	}
	for _, tt := range tests {
		got, err := relDir(tt.base, tt.p)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("relDir(%q, %q) = %q, %v; want %q, err %v", tt.base, tt.p, got, err, tt.want, tt.wantErr)
		}
		if err != nil && !strings.Contains(err.Error(), tt.p) {
			t.Errorf("error %q does not name the path", err)
		}
	}
}

// FuzzParsers checks that no parser panics on arbitrary input (garbage,
// negative or huge numbers); the seeds run with every go test.
func FuzzParsers(f *testing.F) {
	for _, s := range []string{"", "max", "-1", "9223372036854771712", "99999999999999999999999",
		"0-3,8", "4294967295-4294967296", "50000 100000", "8:0 rbytes=1 wbytes=-2",
		"254:0 Read 1\nTotal 1", "cpu user system\n0 1 2", "a 1\nb 2", "0::/x\n1:cpu:/y",
		"dentry 1 2 3 4 5 : tunables 0 0 0 : slabdata 1 18446744073709551615 0"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _ = parseUint(data)
		_, _ = parseLimit(data)
		_, _ = parseInt(data)
		_, _ = parseFlatKeyed(data)
		_, _ = parseCPUList(data)
		_, _, _ = parseCPUMax(data)
		_, _ = parseIOStat(data)
		b, _ := parseBlkioRecursive(data)
		_ = mergeBlkio(b, b)
		_, _, _ = parseUsageAll(data)
		_, _, _, _ = parseSlabinfo(data, 65536)
		_, _ = parsePIDList(data)
		_, _ = ParseProcCgroup(data)
	})
}

// TestAtou: atou agrees with strconv.ParseUint(s, 10, 64) on edge cases.
func TestAtou(t *testing.T) {
	for _, s := range []string{"0", "7", "007", "18446744073709551615", "18446744073709551616",
		"99999999999999999999", "123456789012345678901", "", "-1", "+1", "1_000", "1 ", "0x10", "١"} {
		want, err := strconv.ParseUint(s, 10, 64)
		got, ok := atou([]byte(s))
		if ok != (err == nil) || (ok && got != want) {
			t.Errorf("atou(%q) = %d, %v; strconv gives %d, %v", s, got, ok, want, err)
		}
	}
}
