package cgroupstats

import (
	"errors"
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
)

func file(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s)} }
func dir() *fstest.MapFile          { return &fstest.MapFile{Mode: fs.ModeDir | 0o755} }

func TestDetectMode(t *testing.T) {
	tests := []struct {
		name    string
		fsys    fstest.MapFS
		want    Mode
		wantErr bool
	}{
		{name: "v2", fsys: fstest.MapFS{"cgroup.controllers": file("cpu memory\n")}, want: ModeV2},
		{name: "hybrid", fsys: fstest.MapFS{"memory": dir(), "unified/cgroup.controllers": file("")}, want: ModeHybrid},
		{name: "v1 separate", fsys: fstest.MapFS{"memory": dir(), "cpu": dir()}, want: ModeV1},
		{name: "v1 combined", fsys: fstest.MapFS{"cpu,cpuacct": dir()}, want: ModeV1},
		{name: "nothing", fsys: fstest.MapFS{"systemd": dir()}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DetectMode(tt.fsys)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("DetectMode = %v, %v; want %v, err %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

// v1Tree is a small v1 host with combined cpu,cpuacct hierarchies and a
// container at /pod/c nested under a limited /pod.
func v1Tree() fstest.MapFS {
	return fstest.MapFS{
		"cpu,cpuacct":                                 dir(),
		"cpu":                                         &fstest.MapFile{Data: []byte("cpu,cpuacct"), Mode: fs.ModeSymlink},
		"cpuacct":                                     &fstest.MapFile{Data: []byte("cpu,cpuacct"), Mode: fs.ModeSymlink},
		"cpu,cpuacct/cpu.cfs_quota_us":                file("-1\n"),
		"cpu,cpuacct/cpu.cfs_period_us":               file("100000\n"),
		"cpu,cpuacct/pod/cpu.cfs_quota_us":            file("150000\n"),
		"cpu,cpuacct/pod/cpu.cfs_period_us":           file("100000\n"),
		"cpu,cpuacct/pod/c/cpu.cfs_quota_us":          file("20000\n"),
		"cpu,cpuacct/pod/c/cpu.cfs_period_us":         file("10000\n"),
		"cpu,cpuacct/pod/c/cpuacct.usage":             file("3000\n"),
		"cpu,cpuacct/pod/c/cpuacct.usage_user":        file("2000\n"),
		"cpu,cpuacct/pod/c/cpuacct.usage_sys":         file("1000\n"),
		"memory/memory.limit_in_bytes":                file("9223372036854771712\n"),
		"memory/pod/memory.limit_in_bytes":            file("134217728\n"),
		"memory/pod/memory.memsw.limit_in_bytes":      file("201326592\n"),
		"memory/pod/c/memory.limit_in_bytes":          file("536870912\n"),
		"memory/pod/c/memory.memsw.limit_in_bytes":    file("9223372036854771712\n"),
		"memory/pod/c/memory.usage_in_bytes":          file("1000\n"),
		"memory/pod/c/memory.memsw.usage_in_bytes":    file("1500\n"),
		"memory/pod/c/memory.stat":                    file("cache 1\ntotal_cache 10\ntotal_rss 20\n"),
		"memory/pod/c/memory.oom_control":             file("oom_kill_disable 0\nunder_oom 0\noom_kill 3\n"),
		"memory/pod/c/memory.kmem.slabinfo":           file(""),
		"cpuset/cpuset.cpus":                          file("0-3\n"),
		"cpuset/pod/cpuset.cpus":                      file("2-3\n"),
		"cpuset/pod/c/cpuset.cpus":                    file("\n"),
		"blkio/pod/c/blkio.throttle.io_service_bytes": file("8:0 Read 4096\n8:0 Write 8192\nTotal 12288\n"),
		"blkio/pod/c/blkio.throttle.io_serviced":      file("8:0 Read 1\n8:0 Write 2\nTotal 3\n"),
		"pids/pids.max":                               file("max\n"),
		"pids/pod/pids.max":                           file("50\n"),
		"pids/pod/c/pids.max":                         file("max\n"),
		"pids/pod/c/pids.current":                     file("2\n"),
		"pids/pod/c/cgroup.procs":                     file("7\n5\n"),
		"pids/pod/c/tasks":                            file("5\n7\n8\n"),
	}
}

func TestReadV1(t *testing.T) {
	got, err := Read(v1Tree(), ModeV1, LocationFromPath("/pod/c"))
	if err != nil {
		t.Fatal(err)
	}
	want := &Stats{
		Mode: ModeV1,
		Memory: Memory{
			Present: true, Limit: 134217728, Usage: 1000,
			// min memsw over the chain (192 MiB) minus the 128 MiB limit.
			SwapAccounting: true, SwapLimit: 64 << 20, SwapUsage: 500,
			Stat:   map[string]uint64{"file": 10, "anon": 20},
			Events: map[string]uint64{"oom_kill": 3},
		},
		CPU: CPU{
			// 20000/10000 = 2 CPUs at the leaf loses to 1.5 CPUs on /pod.
			Quota: 150000, Period: 100000,
			Cpuset: []int{2, 3},
			Usage:  3000, User: 2000, System: 1000, UsagePresent: true,
		},
		IO:   IO{Devices: []DeviceIO{{Major: 8, Minor: 0, ReadBytes: 4096, WriteBytes: 8192, ReadIOs: 1, WriteIOs: 2}}},
		Pids: Pids{Procs: []int{5, 7}, Threads: []int{5, 7, 8}, Current: 2, Limit: 50},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Read (-want +got):\n%s", diff)
	}
}

func TestReadV1MissingControllers(t *testing.T) {
	fsys := fstest.MapFS{
		"memory/c/memory.usage_in_bytes": file("5\n"),
		// cpu is mounted but the runtime did not create /c there.
		"cpu/cpu.cfs_quota_us":  file("-1\n"),
		"cpu/cpu.cfs_period_us": file("100000\n"),
	}
	got, err := Read(fsys, ModeV1, LocationFromPath("/c"))
	if err != nil {
		t.Fatal(err)
	}
	if !got.Memory.Present || got.Memory.Limit != Unlimited || got.Memory.Usage != 5 || got.Memory.SwapAccounting {
		t.Errorf("memory = %+v", got.Memory)
	}
	if got.CPU.Quota != -1 || got.CPU.UsagePresent || got.CPU.Cpuset != nil || got.Pids.Limit != Unlimited || got.IO.Devices != nil {
		t.Errorf("absent controllers not reported as absent: %+v", got)
	}
}

func TestReadV1CpuacctStatFallback(t *testing.T) {
	fsys := fstest.MapFS{
		"cpuacct/c/cpuacct.stat": file("user 52\nsystem 2\n"),
	}
	got, err := Read(fsys, ModeV1, LocationFromPath("/c"))
	if err != nil {
		t.Fatal(err)
	}
	if got.CPU.User != 52*nsPerTick || got.CPU.System != 2*nsPerTick || got.CPU.Usage != 54*nsPerTick || !got.CPU.UsagePresent {
		t.Errorf("cpu = %+v", got.CPU)
	}
}

func v2Tree() fstest.MapFS {
	return fstest.MapFS{
		"cgroup.controllers":        file("cpuset cpu io memory pids\n"),
		"cpuset.cpus.effective":     file("0-7\n"),
		"k8s/cpu.max":               file("50000 100000\n"),
		"k8s/memory.max":            file("max\n"),
		"k8s/memory.swap.max":       file("0\n"),
		"k8s/pids.max":              file("max\n"),
		"k8s/cpuset.cpus":           file("\n"),
		"k8s/cpuset.cpus.effective": file("1,3\n"),
		"k8s/c/cpu.max":             file("max 100000\n"),
		"k8s/c/memory.max":          file("268435456\n"),
		"k8s/c/memory.current":      file("1000\n"),
		"k8s/c/memory.swap.max":     file("max\n"),
		"k8s/c/memory.swap.current": file("7\n"),
		"k8s/c/memory.stat":         file("anon 5\nfile 6\n"),
		"k8s/c/memory.events":       file("low 0\nhigh 0\nmax 1\noom 0\noom_kill 2\n"),
		"k8s/c/cpu.stat":            file("usage_usec 3\nuser_usec 2\nsystem_usec 1\n"),
		"k8s/c/io.stat":             file("8:0 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=5 dios=6\n"),
		"k8s/c/pids.current":        file("1\n"),
		"k8s/c/pids.max":            file("10\n"),
		"k8s/c/cgroup.procs":        file("9\n"),
		"k8s/c/cgroup.threads":      file("9\n10\n"),
		"k8s/c/cpu.pressure":        file("some avg10=0.00 avg60=0.00 avg300=0.00 total=1\n"),
		"k8s/c/memory.pressure":     file("some avg10=0.00 avg60=0.00 avg300=0.00 total=2\n"),
	}
}

func TestReadV2(t *testing.T) {
	got, err := Read(v2Tree(), ModeV2, Location{Unified: "/k8s/c"})
	if err != nil {
		t.Fatal(err)
	}
	want := &Stats{
		Mode: ModeV2,
		Memory: Memory{
			Present: true, Limit: 268435456, Usage: 1000,
			SwapAccounting: true, SwapLimit: 0, SwapUsage: 7,
			Stat:   map[string]uint64{"anon": 5, "file": 6},
			Events: map[string]uint64{"low": 0, "high": 0, "max": 1, "oom": 0, "oom_kill": 2},
		},
		CPU: CPU{
			Quota: 50000, Period: 100000,
			// The leaf has no cpuset files: nearest ancestor's effective list.
			Cpuset: []int{1, 3},
			Usage:  3000, User: 2000, System: 1000, UsagePresent: true,
		},
		IO:   IO{Devices: []DeviceIO{{Major: 8, Minor: 0, ReadBytes: 1, WriteBytes: 2, ReadIOs: 3, WriteIOs: 4, DiscardBytes: 5, DiscardIOs: 6}}},
		Pids: Pids{Procs: []int{9}, Threads: []int{9, 10}, Current: 1, Limit: 10},
		Pressure: Pressure{
			CPU:    []byte("some avg10=0.00 avg60=0.00 avg300=0.00 total=1\n"),
			Memory: []byte("some avg10=0.00 avg60=0.00 avg300=0.00 total=2\n"),
		},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Read (-want +got):\n%s", diff)
	}
}

func TestReadHybridMergesUnified(t *testing.T) {
	fsys := fstest.MapFS{
		"memory/c/memory.usage_in_bytes": file("5\n"),
		"unified/cgroup.controllers":     file("pids\n"),
		"unified/c/cpu.stat":             file("usage_usec 4\nuser_usec 3\nsystem_usec 1\n"),
		"unified/c/pids.max":             file("20\n"),
		"unified/c/pids.current":         file("2\n"),
		"unified/c/cgroup.procs":         file("1\n"),
		"unified/c/io.pressure":          file("some avg10=0.00 avg60=0.00 avg300=0.00 total=3\n"),
	}
	got, err := Read(fsys, ModeHybrid, LocationFromPath("/c"))
	if err != nil {
		t.Fatal(err)
	}
	if got.Memory.Usage != 5 || got.CPU.Usage != 4000 || got.Pids.Limit != 20 || got.Pids.Current != 2 || string(got.Pressure.IO) == "" || got.Pressure.CPU != nil {
		t.Errorf("hybrid merge: %+v", got)
	}
}

func TestReadErrors(t *testing.T) {
	tests := []struct {
		name     string
		mode     Mode
		fsys     fstest.MapFS
		wantPath string // must appear in the error
		notExist bool
	}{
		{name: "garbage v1 limit", mode: ModeV1, fsys: fstest.MapFS{
			"memory/c/memory.usage_in_bytes": file("1\n"),
			"memory/memory.limit_in_bytes":   file("lots\n"),
		}, wantPath: "memory/memory.limit_in_bytes"},
		{name: "garbage memory.stat", mode: ModeV1, fsys: fstest.MapFS{
			"memory/c/memory.stat": file("total_cache x\n"),
		}, wantPath: "memory/c/memory.stat"},
		{name: "garbage cpu.max", mode: ModeV2, fsys: fstest.MapFS{
			"c/cpu.max": file("half 100000\n"),
		}, wantPath: "c/cpu.max"},
		{name: "garbage io.stat", mode: ModeV2, fsys: fstest.MapFS{
			"c/io.stat": file("8:0 rbytes=x\n"),
		}, wantPath: "c/io.stat"},
		{name: "garbage cpuset", mode: ModeV2, fsys: fstest.MapFS{
			"c/cpuset.cpus.effective": file("0-\n"),
		}, wantPath: "c/cpuset.cpus.effective"},
		{name: "v2 cgroup gone", mode: ModeV2, fsys: fstest.MapFS{
			"other/cpu.max": file("max 100000\n"),
		}, wantPath: "c", notExist: true},
		{name: "v1 cgroup gone", mode: ModeV1, fsys: fstest.MapFS{
			"memory/other/memory.usage_in_bytes": file("1\n"),
		}, wantPath: "memory/c", notExist: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Read(tt.fsys, tt.mode, LocationFromPath("/c"))
			if err == nil {
				t.Fatal("Read succeeded")
			}
			if !strings.Contains(err.Error(), tt.wantPath) {
				t.Errorf("error %q does not name %s", err, tt.wantPath)
			}
			if got := errors.Is(err, fs.ErrNotExist); got != tt.notExist {
				t.Errorf("errors.Is(err, fs.ErrNotExist) = %v, want %v (err %v)", got, tt.notExist, err)
			}
			if !tt.notExist && !errors.Is(err, ErrParse) {
				t.Errorf("error %v does not wrap ErrParse", err)
			}
		})
	}
}

func TestReadRejectsEscapingPath(t *testing.T) {
	_, err := Read(v2Tree(), ModeV2, Location{Unified: "/../k8s"})
	if err == nil {
		t.Fatal("Read accepted a path with ..")
	}
}
