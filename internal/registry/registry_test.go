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

// v2Cgroup adds a v2 cgroup at p holding pid.
func v2Cgroup(t *testing.T, fsys fstest.MapFS, procRoot, p string, pid int, max string) {
	t.Helper()
	d := strings.TrimPrefix(p, "/") + "/"
	fsys[d+"cgroup.procs"] = &fstest.MapFile{Data: []byte(itoa(pid) + "\n")}
	fsys[d+"cgroup.threads"] = fsys[d+"cgroup.procs"]
	fsys[d+"memory.max"] = &fstest.MapFile{Data: []byte(max + "\n")}
	fsys[d+"memory.current"] = &fstest.MapFile{Data: []byte("1000000\n")}
	fsys[d+"memory.stat"] = &fstest.MapFile{Data: []byte("anon 600000\nfile 300000\ninactive_file 100000\n")}
	fsys[d+"memory.events"] = &fstest.MapFile{Data: []byte("low 0\nhigh 0\nmax 0\noom 1\noom_kill 1\n")}
	fsys[d+"cpu.max"] = &fstest.MapFile{Data: []byte("25000 100000\n")}
	fsys[d+"cpu.stat"] = &fstest.MapFile{Data: []byte("usage_usec 1000\nuser_usec 600\nsystem_usec 400\nnr_periods 7\nnr_throttled 2\nthrottled_usec 5000\n")}
	fsys[d+"cpu.pressure"] = &fstest.MapFile{Data: []byte("some avg10=0.00 avg60=0.00 avg300=0.00 total=3000000\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n")}
	dir := filepath.Join(procRoot, itoa(pid))
	write(t, filepath.Join(dir, "cgroup"), "0::"+p+"\n")
	write(t, filepath.Join(dir, "stat"), itoa(pid)+" (sleep) S 1 "+strings.Repeat("0 ", 17)+"100 0 0\n")
}

// A v2 host: docker's systemd scope, rootless podman's payload in the
// scope's "container" child, and a CRI sandbox shown as its pod (sampled at
// the pod's cgroup) next to its container, named from the bundle's
// annotations (found through the shim's cwd).
func TestRegistryV2(t *testing.T) {
	procRoot, podmanRoot := t.TempDir(), t.TempDir()
	fsys := fstest.MapFS{"cgroup.controllers": &fstest.MapFile{Data: []byte("cpu memory pids\n")}}
	v2Cgroup(t, fsys, procRoot, "/system.slice/docker-"+id1+".scope", 201, "max")
	rootless := "/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" + id2 + ".scope"
	fsys[strings.TrimPrefix(rootless, "/")+"/cgroup.procs"] = &fstest.MapFile{Data: []byte("")}
	v2Cgroup(t, fsys, procRoot, rootless+"/container", 202, "67108864")
	write(t, filepath.Join(podmanRoot, "overlay-containers", "containers.json"), `[{"id":"`+id2+`","names":["rootless-web"],"metadata":"{\"image-name\":\"docker.io/library/nginx:latest\"}"}]`)
	pod := "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod5d8d3e4a_1b2c_4d5e_8f90_0a1b2c3d4e5f.slice"
	sb := "1111111111111111111111111111111111111111111111111111111111111111"
	v2Cgroup(t, fsys, procRoot, pod, 299, "max")
	v2Cgroup(t, fsys, procRoot, pod+"/cri-containerd-"+sb+".scope", 203, "max")
	// The shim (pid 300, cwd = the bundle) is the sandbox's parent.
	bundle := filepath.Join(t.TempDir(), "k8s.io", sb)
	write(t, filepath.Join(bundle, "config.json"), `{"annotations":{"io.kubernetes.cri.container-type":"sandbox","io.kubernetes.cri.sandbox-name":"web-0","io.kubernetes.cri.sandbox-namespace":"prod"}}`)
	write(t, filepath.Join(procRoot, "203", "stat"), "203 (pause) S 300 "+strings.Repeat("0 ", 17)+"100 0 0\n")
	write(t, filepath.Join(procRoot, "300", "stat"), "300 (containerd-shim) S 1 "+strings.Repeat("0 ", 17)+"50 0 0\n")
	if err := os.Symlink(bundle, filepath.Join(procRoot, "300", "cwd")); err != nil {
		t.Fatal(err)
	}
	r := New(Options{CgroupFS: fsys, Mode: cgroupstats.ModeV2, ProcRoot: procRoot, PodmanRoot: podmanRoot})
	defer r.Close()
	s := r.Round(nil, 8, snapshot.Self{})
	if len(s.Containers) != 3 {
		t.Fatalf("containers: %+v", s.Containers)
	}
	d := find(s, id1)
	if d == nil || d.Runtime != RuntimeDocker || d.MemoryLimitBytes != 0 || d.CPULimitCores != 0.25 || d.MemoryWorkingSetBytes != 900000 ||
		d.CPUThrottledPeriods != 2 || d.OOMEvents != 1 || !d.Pressure.Present || d.Pressure.CPUWaiting != 3 {
		t.Errorf("docker on v2: %+v", d)
	}
	p := find(s, id2)
	if p == nil || p.Name != "rootless-web" || p.Image != "docker.io/library/nginx:latest" || p.Cgroup != rootless+"/container" || p.MemoryLimitBytes != 67108864 {
		t.Errorf("rootless podman: %+v", p)
	}
	q := find(s, sb)
	if q == nil || q.Kind != snapshot.KindPod || q.Pod != "web-0" || q.Namespace != "prod" || q.Cgroup != pod || q.Runtime != RuntimeContainerd {
		t.Errorf("sandbox as its pod: %+v", q)
	}
}
