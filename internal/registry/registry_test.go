package registry

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/procview/procview/internal/cgroupstats"
	"github.com/procview/procview/internal/snapshot"
)

const id2 = "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"

// v1Cgroup adds a v1 memory+cpu cgroup at p holding pid, to fs and procRoot.
func v1Cgroup(t *testing.T, fsys fstest.MapFS, procRoot, p string, pid int, limit, oom string) {
	t.Helper()
	m := "memory" + p + "/"
	fsys[m+"cgroup.procs"] = &fstest.MapFile{Data: []byte(itoa(pid) + "\n")}
	fsys[m+"tasks"] = &fstest.MapFile{Data: []byte(itoa(pid) + "\n")}
	fsys[m+"memory.limit_in_bytes"] = &fstest.MapFile{Data: []byte(limit + "\n")}
	fsys[m+"memory.usage_in_bytes"] = &fstest.MapFile{Data: []byte("5000000\n")}
	fsys[m+"memory.stat"] = &fstest.MapFile{Data: []byte("total_cache 3000000\ntotal_rss 1000000\ntotal_inactive_file 2000000\n")}
	fsys[m+"memory.oom_control"] = &fstest.MapFile{Data: []byte("oom_kill_disable 0\nunder_oom 0\noom_kill " + oom + "\n")}
	c := "cpu,cpuacct" + p + "/"
	fsys[c+"cpu.cfs_quota_us"] = &fstest.MapFile{Data: []byte("50000\n")}
	fsys[c+"cpu.cfs_period_us"] = &fstest.MapFile{Data: []byte("100000\n")}
	fsys[c+"cpuacct.usage"] = &fstest.MapFile{Data: []byte("2500000000\n")}
	fsys[c+"cpu.stat"] = &fstest.MapFile{Data: []byte("nr_periods 10\nnr_throttled 4\nthrottled_time 300000000\n")}
	fsys[c+"cgroup.procs"] = fsys[m+"cgroup.procs"]
	dir := filepath.Join(procRoot, itoa(pid))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(dir, "cgroup"), "5:memory:"+p+"\n4:cpu,cpuacct:"+p+"\n1:name=systemd:"+p+"\n")
	write(t, filepath.Join(dir, "stat"), itoa(pid)+" (sleep) S 1 "+strings.Repeat("0 ", 17)+"100 0 0\n")
}

func itoa(n int) string { return strconv.Itoa(n) }

func write(t *testing.T, p, s string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

func find(s *snapshot.Snapshot, id string) *snapshot.Container {
	for i := range s.Containers {
		if s.Containers[i].ID == id {
			return &s.Containers[i]
		}
	}
	return nil
}

// Discovery on a v1 tree: a docker container named from config.v2.json, a
// conmon cgroup skipped; figures from its cgroup files; gone the round its
// cgroup goes; OOM kills kept when a container of the same name replaces it.
func TestRegistryRounds(t *testing.T) {
	procRoot, dockerRoot := t.TempDir(), t.TempDir()
	fsys := fstest.MapFS{}
	v1Cgroup(t, fsys, procRoot, "/docker/"+id1, 101, "268435456", "3")
	v1Cgroup(t, fsys, procRoot, "/machine.slice/libpod-conmon-"+id2+".scope", 102, "9223372036854771712", "0")
	write(t, filepath.Join(dockerRoot, "containers", id1, "config.v2.json"),
		`{"ID":"`+id1+`","Name":"/web","Created":"2026-12-01T10:00:00Z","Config":{"Image":"nginx:1","Labels":{"com.docker.compose.service":"web"}}}`)
	r := New(Options{CgroupFS: fsys, Mode: cgroupstats.ModeV1, ProcRoot: procRoot, DockerRoot: dockerRoot})
	defer r.Close()

	s := r.Round(nil, 4, snapshot.Self{})
	if len(s.Containers) != 1 {
		t.Fatalf("containers: %+v", s.Containers)
	}
	c := s.Containers[0]
	if c.ID != id1 || c.Name != "web" || c.Image != "nginx:1" || c.Runtime != RuntimeDocker || c.Managed || c.Pid != 101 || c.Cgroup != "/docker/"+id1 {
		t.Errorf("identity: %+v", c)
	}
	if c.MemoryLimitBytes != 268435456 || c.MemoryWorkingSetBytes != 3000000 || c.MemoryRSSBytes != 1000000 || c.MemoryCacheBytes != 3000000 ||
		c.CPULimitCores != 0.5 || c.CPUUsageSeconds != 2.5 || c.CPUThrottledPeriods != 4 || c.CPUThrottledSeconds != 0.3 || c.OOMEvents != 3 {
		t.Errorf("figures: %+v", c)
	}

	// The container is removed and another "web" takes its place.
	for k := range fsys {
		if strings.Contains(k, id1) {
			delete(fsys, k)
		}
	}
	if s := r.Round(nil, 4, snapshot.Self{}); len(s.Containers) != 0 {
		t.Fatalf("removed container still there: %+v", s.Containers)
	}
	v1Cgroup(t, fsys, procRoot, "/docker/"+id2, 103, "268435456", "1")
	write(t, filepath.Join(dockerRoot, "containers", id2, "config.v2.json"), `{"ID":"`+id2+`","Name":"/web","Config":{"Image":"nginx:1"}}`)
	for range DefaultDiscoverEvery {
		s = r.Round(nil, 4, snapshot.Self{})
	}
	c2 := find(s, id2)
	if c2 == nil || c2.OOMEvents != 4 {
		t.Errorf("recreated web: OOM kills %+v, want 3 + 1", c2)
	}
}
