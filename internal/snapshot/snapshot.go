// Package snapshot holds what procviewd knows of every container of the node
// after its last round: identity from the registry, figures from the same
// cgroup sample the views were rendered from. The metrics collector, the ps
// socket and `procview ps` all read one Snapshot; none re-reads cgroups.
package snapshot

import (
	"bytes"
	"strconv"
	"time"

	"github.com/procview/procview/internal/cgroupstats"
)

// Kinds of entries.
const (
	KindContainer = "container"
	KindPod       = "pod" // a pod sandbox, shown as the pod it stands for
)

// Container is one entry. Counters are cumulative; rates and percentages
// come from the difference with the previous sample of the same entry.
type Container struct {
	ID        string            `json:"id"`
	Name      string            `json:"name"`
	Kind      string            `json:"kind"`
	Managed   bool              `json:"managed"`
	Runtime   string            `json:"runtime,omitempty"`
	Image     string            `json:"image,omitempty"`
	Pod       string            `json:"pod,omitempty"`
	Namespace string            `json:"namespace,omitempty"`
	Container string            `json:"container,omitempty"` // the Kubernetes container name
	Labels    map[string]string `json:"labels,omitempty"`
	Pid       int               `json:"pid"`
	Cgroup    string            `json:"cgroup"`
	Started   time.Time         `json:"started"`

	MemoryLimitBytes      uint64 `json:"memory_limit_bytes"` // 0 = none
	MemoryUsageBytes      uint64 `json:"memory_usage_bytes"`
	MemoryWorkingSetBytes uint64 `json:"memory_working_set_bytes"`
	MemoryRSSBytes        uint64 `json:"memory_rss_bytes"`
	MemoryCacheBytes      uint64 `json:"memory_cache_bytes"`
	MemorySwapBytes       uint64 `json:"memory_swap_bytes"`
	OOMEvents             uint64 `json:"oom_events"` // kept across recreation of the same pod/container

	CPUQuotaMicros        int64   `json:"cpu_quota_us"` // -1 = none
	CPUPeriodMicros       uint64  `json:"cpu_period_us"`
	CPULimitCores         float64 `json:"cpu_limit_cores"` // quota/period, 0 = none
	CPUs                  float64 `json:"cpus"`            // what cpu_percent is relative to: the quota, else the cpuset, else the host
	CPUUsageSeconds       float64 `json:"cpu_usage_seconds"`
	CPUUserSeconds        float64 `json:"cpu_user_seconds"`
	CPUSystemSeconds      float64 `json:"cpu_system_seconds"`
	CPUPeriods            uint64  `json:"cpu_periods"`
	CPUThrottledPeriods   uint64  `json:"cpu_throttled_periods"`
	CPUThrottledSeconds   float64 `json:"cpu_throttled_seconds"`
	CPUPercent            float64 `json:"cpu_percent"` // of CPUs, over the last interval
	FSReadBytes           uint64  `json:"fs_read_bytes"`
	FSWriteBytes          uint64  `json:"fs_write_bytes"`
	FSReadBytesPerSecond  float64 `json:"fs_read_bytes_per_second"`
	FSWriteBytesPerSecond float64 `json:"fs_write_bytes_per_second"`
	Processes             int     `json:"processes"`
	Threads               int     `json:"threads"`
	Pressure              PSI     `json:"pressure"`

	// What procview shows the container (managed ones only).
	ViewMemTotalBytes uint64 `json:"view_memtotal_bytes,omitempty"`
	ViewCPUs          int    `json:"view_cpus,omitempty"`
}

// PSI is the cgroup's pressure: some ("waiting") and full ("stalled")
// totals in seconds, and the some avg10 of each resource.
type PSI struct {
	CPUWaiting, CPUStalled, MemoryWaiting, MemoryStalled, IOWaiting, IOStalled float64
	CPUAvg10, MemoryAvg10, IOAvg10                                             float64
	Present                                                                    bool
}

// Snapshot is the node after one round.
type Snapshot struct {
	Time       time.Time   `json:"time"`
	Containers []Container `json:"containers"`
	Self       Self        `json:"self"`
}

// Self is procviewd's own figures.
type Self struct {
	RoundSeconds     float64 `json:"round_seconds"`
	DiscoverySeconds float64 `json:"discovery_seconds"`
	Rounds           uint64  `json:"rounds"`
	ViewsWritten     uint64  `json:"views_written"`
	RefreshErrors    uint64  `json:"refresh_errors"`
}

// Fill sets c's figures from one cgroup sample. prev (may be nil) is the
// previous entry of the same container, for rates; hostCPUs the host's
// online CPUs.
func (c *Container) Fill(st *cgroupstats.Stats, prev *Container, now time.Time, prevTime time.Time, hostCPUs int) {
	m := &st.Memory
	if m.Present {
		if m.Limit != cgroupstats.Unlimited {
			c.MemoryLimitBytes = m.Limit
		}
		c.MemoryUsageBytes = m.Usage
		c.MemoryWorkingSetBytes = WorkingSet(m)
		c.MemoryRSSBytes = m.Stat["anon"]
		c.MemoryCacheBytes = m.Stat["file"]
		if m.SwapAccounting {
			c.MemorySwapBytes = m.SwapUsage
		}
		c.OOMEvents = m.Events["oom_kill"]
	}
	cpu := &st.CPU
	c.CPUQuotaMicros, c.CPUPeriodMicros = cpu.Quota, cpu.Period
	if cpu.Quota > 0 && cpu.Period > 0 {
		c.CPULimitCores = float64(cpu.Quota) / float64(cpu.Period)
	}
	c.CPUs = float64(hostCPUs)
	if n := len(cpu.Cpuset); n > 0 && n < hostCPUs {
		c.CPUs = float64(n)
	}
	if c.CPULimitCores > 0 && c.CPULimitCores < c.CPUs {
		c.CPUs = c.CPULimitCores
	}
	c.CPUUsageSeconds = float64(cpu.Usage) / 1e9
	c.CPUUserSeconds = float64(cpu.User) / 1e9
	c.CPUSystemSeconds = float64(cpu.System) / 1e9
	c.CPUPeriods, c.CPUThrottledPeriods = cpu.Periods, cpu.ThrottledPeriods
	c.CPUThrottledSeconds = float64(cpu.ThrottledNs) / 1e9
	for _, d := range st.IO.Devices {
		c.FSReadBytes += d.ReadBytes
		c.FSWriteBytes += d.WriteBytes
	}
	c.Processes, c.Threads = len(st.Pids.Procs), len(st.Pids.Threads)
	if st.Pids.Current > 0 && len(st.Pids.Threads) == 0 {
		c.Threads = int(st.Pids.Current)
	}
	c.Pressure = parsePSI(st.Pressure)
	if prev != nil {
		if dt := now.Sub(prevTime).Seconds(); dt > 0 {
			if c.CPUs > 0 && c.CPUUsageSeconds >= prev.CPUUsageSeconds {
				c.CPUPercent = (c.CPUUsageSeconds - prev.CPUUsageSeconds) / dt / c.CPUs * 100
			}
			if c.FSReadBytes >= prev.FSReadBytes {
				c.FSReadBytesPerSecond = float64(c.FSReadBytes-prev.FSReadBytes) / dt
			}
			if c.FSWriteBytes >= prev.FSWriteBytes {
				c.FSWriteBytesPerSecond = float64(c.FSWriteBytes-prev.FSWriteBytes) / dt
			}
		}
	}
}

// WorkingSet is usage - inactive_file floored at 0: the kubelet's, cAdvisor's
// and `docker stats`' memory figure.
func WorkingSet(m *cgroupstats.Memory) uint64 {
	inactive := m.Stat["inactive_file"]
	if inactive >= m.Usage {
		return 0
	}
	return m.Usage - inactive
}

// parsePSI reads the raw pressure files ("some avg10=… total=µs").
func parsePSI(p cgroupstats.Pressure) PSI {
	var out PSI
	for _, r := range []struct {
		data                  []byte
		waiting, stall, avg10 *float64
	}{
		{p.CPU, &out.CPUWaiting, &out.CPUStalled, &out.CPUAvg10},
		{p.Memory, &out.MemoryWaiting, &out.MemoryStalled, &out.MemoryAvg10},
		{p.IO, &out.IOWaiting, &out.IOStalled, &out.IOAvg10},
	} {
		if r.data == nil {
			continue
		}
		out.Present = true
		for line := range bytes.Lines(r.data) {
			f := bytes.Fields(line)
			if len(f) == 0 {
				continue
			}
			for _, kv := range f[1:] {
				k, v, ok := bytes.Cut(kv, []byte("="))
				if !ok {
					continue
				}
				x, err := strconv.ParseFloat(string(v), 64)
				if err != nil {
					continue
				}
				switch {
				case string(k) == "total" && string(f[0]) == "some":
					*r.waiting = x / 1e6
				case string(k) == "total" && string(f[0]) == "full":
					*r.stall = x / 1e6
				case string(k) == "avg10" && string(f[0]) == "some":
					*r.avg10 = x
				}
			}
		}
	}
	return out
}
