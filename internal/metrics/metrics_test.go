package metrics

import (
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/client_golang/prometheus/testutil/promlint"

	"github.com/procview/procview/internal/snapshot"
)

func testSnapshot() *snapshot.Snapshot {
	return &snapshot.Snapshot{Time: time.Now(), Containers: []snapshot.Container{
		{ID: "c1", Name: "web", Kind: snapshot.KindContainer, Managed: true, Runtime: "containerd", Image: "nginx:1",
			Pod: "web-0", Namespace: "prod", Container: "nginx", Pid: 42, Cgroup: "/kubepods/pod1/c1", Started: time.Unix(1700000000, 0),
			MemoryLimitBytes: 268435456, MemoryUsageBytes: 1000, MemoryWorkingSetBytes: 800, CPUQuotaMicros: 50000, CPUPeriodMicros: 100000,
			CPUUsageSeconds: 1.5, OOMEvents: 2, Pressure: snapshot.PSI{Present: true, CPUWaiting: 0.25},
			ViewMemTotalBytes: 268435456, ViewCPUs: 1},
		{ID: "d2", Name: "db", Kind: snapshot.KindContainer, Runtime: "docker", CPUQuotaMicros: -1, CPUPeriodMicros: 100000},
	}, Self: snapshot.Self{Rounds: 3}}
}

// The series carry cAdvisor's names and the kubelet's labels, only the
// metrics that apply appear, and the output passes promtool's linter.
func TestCollector(t *testing.T) {
	c := Collector{Load: testSnapshot}
	want := `
# HELP container_spec_memory_limit_bytes Memory limit of the container in bytes (0: none).
# TYPE container_spec_memory_limit_bytes gauge
container_spec_memory_limit_bytes{container="",container_id="d2",image="",name="db",namespace="",pod="",runtime="docker"} 0
container_spec_memory_limit_bytes{container="nginx",container_id="c1",image="nginx:1",name="web",namespace="prod",pod="web-0",runtime="containerd"} 2.68435456e+08
# HELP container_spec_cpu_quota CPU quota of the container, in microseconds per period.
# TYPE container_spec_cpu_quota gauge
container_spec_cpu_quota{container="nginx",container_id="c1",image="nginx:1",name="web",namespace="prod",pod="web-0",runtime="containerd"} 50000
# HELP container_oom_events_total Count of out-of-memory kills, kept across recreation of the same pod/container.
# TYPE container_oom_events_total counter
container_oom_events_total{container="",container_id="d2",image="",name="db",namespace="",pod="",runtime="docker"} 0
container_oom_events_total{container="nginx",container_id="c1",image="nginx:1",name="web",namespace="prod",pod="web-0",runtime="containerd"} 2
# HELP procview_view_cpus Number of CPUs procview shows the container.
# TYPE procview_view_cpus gauge
procview_view_cpus{container="nginx",container_id="c1",image="nginx:1",name="web",namespace="prod",pod="web-0",runtime="containerd"} 1
# HELP container_pressure_cpu_waiting_seconds_total Total time some tasks were waiting for CPU, in seconds.
# TYPE container_pressure_cpu_waiting_seconds_total counter
container_pressure_cpu_waiting_seconds_total{container="nginx",container_id="c1",image="nginx:1",name="web",namespace="prod",pod="web-0",runtime="containerd"} 0.25
`
	if err := testutil.CollectAndCompare(c, strings.NewReader(want), "container_spec_memory_limit_bytes", "container_spec_cpu_quota",
		"container_oom_events_total", "procview_view_cpus", "container_pressure_cpu_waiting_seconds_total"); err != nil {
		t.Error(err)
	}
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	problems, err := promlint.NewWithMetricFamilies(mfs).Lint()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("lint (as promtool check metrics): %s: %s", p.Metric, p.Text)
	}
	if n := testutil.CollectAndCount(c, "procview_container_info"); n != 2 {
		t.Errorf("%d procview_container_info series, want 2", n)
	}
	if n := testutil.CollectAndCount(Collector{Load: func() *snapshot.Snapshot { return nil }}); n != 0 {
		t.Errorf("no snapshot yet: %d series, want none", n)
	}
}

// One scrape's formatting at 1000 containers (part 6 of make bench measures
// it end to end with curl).
func BenchmarkScrape1000(b *testing.B) {
	s := testSnapshot()
	one := s.Containers[0]
	s.Containers = s.Containers[:0]
	for i := range 1000 {
		c := one
		c.ID = strconv.Itoa(i)
		s.Containers = append(s.Containers, c)
	}
	h := Handler(func() *snapshot.Snapshot { return s })
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
		if rec.Code != 200 {
			b.Fatal(rec.Code)
		}
	}
}
