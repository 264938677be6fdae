// Package metrics serves the node's containers to Prometheus with
// cAdvisor's metric names and the kubelet's labels, built at scrape time
// from procviewd's last snapshot: a scrape never reads a cgroup.
package metrics

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"

	"github.com/procview/procview/internal/snapshot"
)

// Labels of every per-container series.
var labels = []string{"container_id", "name", "image", "pod", "namespace", "container", "runtime"}

type metric struct {
	desc  *prometheus.Desc
	typ   prometheus.ValueType
	value func(c *snapshot.Container) (float64, bool)
}

func counter(name, help string, v func(c *snapshot.Container) float64) metric {
	return metric{prometheus.NewDesc(name, help, labels, nil), prometheus.CounterValue,
		func(c *snapshot.Container) (float64, bool) { return v(c), true }}
}

func gauge(name, help string, v func(c *snapshot.Container) float64) metric {
	return metric{prometheus.NewDesc(name, help, labels, nil), prometheus.GaugeValue,
		func(c *snapshot.Container) (float64, bool) { return v(c), true }}
}

// when restricts a metric to the containers cond holds for.
func (m metric) when(cond func(c *snapshot.Container) bool) metric {
	v := m.value
	m.value = func(c *snapshot.Container) (float64, bool) {
		if !cond(c) {
			return 0, false
		}
		return v(c)
	}
	return m
}

func hasPSI(c *snapshot.Container) bool { return c.Pressure.Present }

var perContainer = []metric{
	counter("container_cpu_usage_seconds_total", "Cumulative CPU time consumed, in seconds.", func(c *snapshot.Container) float64 { return c.CPUUsageSeconds }),
	counter("container_cpu_user_seconds_total", "Cumulative user CPU time consumed, in seconds.", func(c *snapshot.Container) float64 { return c.CPUUserSeconds }),
	counter("container_cpu_system_seconds_total", "Cumulative system CPU time consumed, in seconds.", func(c *snapshot.Container) float64 { return c.CPUSystemSeconds }),
	counter("container_cpu_cfs_periods_total", "Number of elapsed enforcement period intervals.", func(c *snapshot.Container) float64 { return float64(c.CPUPeriods) }),
	counter("container_cpu_cfs_throttled_periods_total", "Number of throttled period intervals.", func(c *snapshot.Container) float64 { return float64(c.CPUThrottledPeriods) }),
	counter("container_cpu_cfs_throttled_seconds_total", "Total time duration the container has been throttled, in seconds.", func(c *snapshot.Container) float64 { return c.CPUThrottledSeconds }),
	gauge("container_spec_cpu_quota", "CPU quota of the container, in microseconds per period.", func(c *snapshot.Container) float64 { return float64(c.CPUQuotaMicros) }).
		when(func(c *snapshot.Container) bool { return c.CPUQuotaMicros > 0 }),
	gauge("container_spec_cpu_period", "CPU period of the container, in microseconds.", func(c *snapshot.Container) float64 { return float64(c.CPUPeriodMicros) }).
		when(func(c *snapshot.Container) bool { return c.CPUPeriodMicros > 0 }),
	gauge("container_memory_usage_bytes", "Current memory usage in bytes, including all memory regardless of when it was accessed.", func(c *snapshot.Container) float64 { return float64(c.MemoryUsageBytes) }),
	gauge("container_memory_working_set_bytes", "Current working set in bytes: usage minus inactive_file, floored at 0.", func(c *snapshot.Container) float64 { return float64(c.MemoryWorkingSetBytes) }),
	gauge("container_memory_rss", "Size of RSS (anonymous memory) in bytes.", func(c *snapshot.Container) float64 { return float64(c.MemoryRSSBytes) }),
	gauge("container_memory_cache", "Number of bytes of page cache memory.", func(c *snapshot.Container) float64 { return float64(c.MemoryCacheBytes) }),
	gauge("container_memory_swap", "Container swap usage in bytes.", func(c *snapshot.Container) float64 { return float64(c.MemorySwapBytes) }),
	gauge("container_spec_memory_limit_bytes", "Memory limit of the container in bytes (0: none).", func(c *snapshot.Container) float64 { return float64(c.MemoryLimitBytes) }),
	counter("container_oom_events_total", "Count of out-of-memory kills, kept across recreation of the same pod/container.", func(c *snapshot.Container) float64 { return float64(c.OOMEvents) }),
	counter("container_fs_reads_bytes_total", "Cumulative bytes read (block I/O, all devices).", func(c *snapshot.Container) float64 { return float64(c.FSReadBytes) }),
	counter("container_fs_writes_bytes_total", "Cumulative bytes written (block I/O, all devices).", func(c *snapshot.Container) float64 { return float64(c.FSWriteBytes) }),
	gauge("container_processes", "Number of processes running inside the container.", func(c *snapshot.Container) float64 { return float64(c.Processes) }),
	gauge("container_threads", "Number of threads running inside the container.", func(c *snapshot.Container) float64 { return float64(c.Threads) }),
	counter("container_pressure_cpu_waiting_seconds_total", "Total time some tasks were waiting for CPU, in seconds.", func(c *snapshot.Container) float64 { return c.Pressure.CPUWaiting }).when(hasPSI),
	counter("container_pressure_cpu_stalled_seconds_total", "Total time all tasks were stalled on CPU, in seconds.", func(c *snapshot.Container) float64 { return c.Pressure.CPUStalled }).when(hasPSI),
	counter("container_pressure_memory_waiting_seconds_total", "Total time some tasks were waiting for memory, in seconds.", func(c *snapshot.Container) float64 { return c.Pressure.MemoryWaiting }).when(hasPSI),
	counter("container_pressure_memory_stalled_seconds_total", "Total time all tasks were stalled on memory, in seconds.", func(c *snapshot.Container) float64 { return c.Pressure.MemoryStalled }).when(hasPSI),
	counter("container_pressure_io_waiting_seconds_total", "Total time some tasks were waiting for I/O, in seconds.", func(c *snapshot.Container) float64 { return c.Pressure.IOWaiting }).when(hasPSI),
	counter("container_pressure_io_stalled_seconds_total", "Total time all tasks were stalled on I/O, in seconds.", func(c *snapshot.Container) float64 { return c.Pressure.IOStalled }).when(hasPSI),
	gauge("container_start_time_seconds", "Start time of the container since unix epoch in seconds.", func(c *snapshot.Container) float64 { return float64(c.Started.UnixNano()) / 1e9 }).
		when(func(c *snapshot.Container) bool { return !c.Started.IsZero() }),
	gauge("procview_view_memtotal_bytes", "MemTotal procview shows the container in /proc/meminfo, in bytes.", func(c *snapshot.Container) float64 { return float64(c.ViewMemTotalBytes) }).
		when(func(c *snapshot.Container) bool { return c.Managed && c.ViewMemTotalBytes > 0 }),
	gauge("procview_view_cpus", "Number of CPUs procview shows the container.", func(c *snapshot.Container) float64 { return float64(c.ViewCPUs) }).
		when(func(c *snapshot.Container) bool { return c.Managed && c.ViewCPUs > 0 }),
}

var (
	infoDesc = prometheus.NewDesc("procview_container_info", "A container procview knows of (1), with its metadata.",
		append(append([]string{}, labels...), "managed", "kind", "cgroup", "pid"), nil)
	containersDesc = prometheus.NewDesc("procview_containers", "Containers in the last snapshot.", []string{"managed"}, nil)
	roundDesc      = prometheus.NewDesc("procview_refresh_round_duration_seconds", "Duration of procviewd's last refresh round.", nil, nil)
	discoveryDesc  = prometheus.NewDesc("procview_discovery_duration_seconds", "Duration of the last cgroup walk for unmanaged containers.", nil, nil)
	roundsDesc     = prometheus.NewDesc("procview_refresh_rounds_total", "Refresh rounds since procviewd started.", nil, nil)
	writtenDesc    = prometheus.NewDesc("procview_views_written_total", "View files rewritten since procviewd started.", nil, nil)
	errorsDesc     = prometheus.NewDesc("procview_refresh_errors_total", "Container refreshes that failed since procviewd started.", nil, nil)
	ageDesc        = prometheus.NewDesc("procview_snapshot_age_seconds", "Age of the snapshot this scrape was built from.", nil, nil)
)

// Collector builds every series from the snapshot Load returns.
type Collector struct {
	Load func() *snapshot.Snapshot
}

// Describe sends every descriptor.
func (c Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, m := range perContainer {
		ch <- m.desc
	}
	for _, d := range []*prometheus.Desc{infoDesc, containersDesc, roundDesc, discoveryDesc, roundsDesc, writtenDesc, errorsDesc, ageDesc} {
		ch <- d
	}
}

// Collect sends the snapshot's series; none when there is no snapshot yet.
func (c Collector) Collect(ch chan<- prometheus.Metric) {
	s := c.Load()
	if s == nil {
		return
	}
	var managed, other int
	for i := range s.Containers {
		ct := &s.Containers[i]
		if ct.Managed {
			managed++
		} else {
			other++
		}
		lv := []string{ct.ID, ct.Name, ct.Image, ct.Pod, ct.Namespace, ct.Container, ct.Runtime}
		pairs := prometheus.MakeLabelPairs(perContainer[0].desc, lv)
		for _, m := range perContainer {
			if v, ok := m.value(ct); ok {
				ch <- &sharedMetric{desc: m.desc, typ: m.typ, val: v, labels: pairs}
			}
		}
		ch <- prometheus.MustNewConstMetric(infoDesc, prometheus.GaugeValue, 1,
			append(lv, strconv.FormatBool(ct.Managed), ct.Kind, ct.Cgroup, strconv.Itoa(ct.Pid))...)
	}
	ch <- prometheus.MustNewConstMetric(containersDesc, prometheus.GaugeValue, float64(managed), "true")
	ch <- prometheus.MustNewConstMetric(containersDesc, prometheus.GaugeValue, float64(other), "false")
	ch <- prometheus.MustNewConstMetric(roundDesc, prometheus.GaugeValue, s.Self.RoundSeconds)
	ch <- prometheus.MustNewConstMetric(discoveryDesc, prometheus.GaugeValue, s.Self.DiscoverySeconds)
	ch <- prometheus.MustNewConstMetric(roundsDesc, prometheus.CounterValue, float64(s.Self.Rounds))
	ch <- prometheus.MustNewConstMetric(writtenDesc, prometheus.CounterValue, float64(s.Self.ViewsWritten))
	ch <- prometheus.MustNewConstMetric(errorsDesc, prometheus.CounterValue, float64(s.Self.RefreshErrors))
	ch <- prometheus.MustNewConstMetric(ageDesc, prometheus.GaugeValue, time.Since(s.Time).Seconds())
}

// sharedMetric is a const metric whose label pairs are made once per
// container and shared by its ~30 series: MustNewConstMetric validates,
// sorts and allocates them per series, 30 000 times a scrape at 1000
// containers. Every per-container Desc has the same label names.
type sharedMetric struct {
	desc   *prometheus.Desc
	typ    prometheus.ValueType
	val    float64
	labels []*dto.LabelPair
}

func (m *sharedMetric) Desc() *prometheus.Desc { return m.desc }

func (m *sharedMetric) Write(out *dto.Metric) error {
	out.Label = m.labels
	v := m.val
	if m.typ == prometheus.CounterValue {
		out.Counter = &dto.Counter{Value: &v}
	} else {
		out.Gauge = &dto.Gauge{Value: &v}
	}
	return nil
}

// Handler serves /metrics from load's snapshots, plus the Go runtime's and
// the process's own collectors.
func Handler(load func() *snapshot.Snapshot) http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(Collector{Load: load}, prometheus.NewGoCollector(), prometheus.NewProcessCollector(prometheus.ProcessCollectorOpts{}))
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError}))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write([]byte("procviewd: see /metrics\n"))
	})
	return mux
}

// Serve listens on addr and serves Handler until ctx ends. The listener is
// made before it returns, so a taken port is reported at once.
func Serve(ctx context.Context, addr string, load func() *snapshot.Snapshot) (<-chan error, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	srv := &http.Server{Handler: Handler(load), ReadHeaderTimeout: 10 * time.Second}
	done := make(chan error, 1)
	go func() {
		err := srv.Serve(ln)
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		done <- err
	}()
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	return done, nil
}
