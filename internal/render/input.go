// Package render turns one container's sampled statistics into the bytes of
// the synthesized /proc and /sys files, in the kernel's format. Renderers are
// pure: no file reads, no clock, no logging.
package render

import (
	"io"

	"github.com/procview/procview/internal/cgroupstats"
	"github.com/procview/procview/internal/hoststats"
)

// CPUTimes are /proc/stat CPU columns in USER_HZ ticks.
type CPUTimes struct {
	User, Nice, System, Idle, IOWait, IRQ, SoftIRQ, Steal, Guest, GuestNice uint64
}

// Input is everything a renderer may use. The caller (internal/views)
// samples the host and the cgroup and derives the time-dependent values.
type Input struct {
	Host   *hoststats.Host
	Cgroup *cgroupstats.Stats

	// CPUs is the number of CPUs the container sees (n); they are numbered
	// 0..n-1 in cpuinfo, stat and online.
	CPUs int
	// HostCPUs are the host CPU numbers backing the visible CPUs, in order
	// (len >= CPUs); cpuinfo copies model data from these host blocks.
	HostCPUs []int

	// Total is the aggregate "cpu" line; PerCPU has CPUs entries that sum to it.
	Total  CPUTimes
	PerCPU []CPUTimes

	// Uptime and Idle are /proc/uptime's two columns, in seconds.
	Uptime, Idle float64
	// BootTime is btime: the container's start, seconds since the epoch.
	BootTime uint64

	// Load averages and the task counts for /proc/loadavg and /proc/stat.
	Load            [3]float64
	Running         int // runnable tasks (loadavg 4th field numerator, procs_running)
	Blocked         int // uninterruptible tasks (procs_blocked)
	Threads         int // all tasks (loadavg 4th field denominator)
	LastPID         int // highest PID in the container's PID namespace
	Processes       uint64
	ContextSwitches uint64 // ctxt: sum of the tasks' switches, when known

	// PageSize is the host's page size in bytes (os.Getpagesize), used to
	// turn memory.stat bytes into /proc/vmstat page counts; 0 means 4096.
	PageSize int
}

func (in *Input) pageSize() int {
	if in.PageSize > 0 {
		return in.PageSize
	}
	return 4096
}

// Func renders one view.
type Func func(w io.Writer, in *Input) error
