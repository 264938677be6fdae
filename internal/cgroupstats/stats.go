// Package cgroupstats reads a container's resource accounting from cgroup v1,
// cgroup v2 and hybrid hierarchies. Everything is read through a root
// directory (normally /sys/fs/cgroup) so fixture trees can stand in for it.
package cgroupstats

import "math"

// Unlimited is the value of a limit that is "max", -1 or absent along the
// whole ancestor chain.
const Unlimited uint64 = math.MaxUint64

// Mode is the layout of the cgroup hierarchies on a host.
type Mode int

const (
	// ModeV1 has only v1 controller hierarchies.
	ModeV1 Mode = 1
	// ModeV2 has one unified hierarchy at the root.
	ModeV2 Mode = 2
	// ModeHybrid has v1 controllers plus a v2 tree at <root>/unified.
	ModeHybrid Mode = 3
)

func (m Mode) String() string {
	switch m {
	case ModeV1:
		return "v1"
	case ModeV2:
		return "v2"
	case ModeHybrid:
		return "hybrid"
	}
	return "unknown"
}

// Location says where one container's cgroup is: one path per v1 controller
// (as listed in /proc/PID/cgroup) and the path in the unified tree.
// Paths are absolute within their hierarchy ("/docker/abc").
type Location struct {
	V1      map[string]string // controller name ("memory", "cpu", "cpuacct", ...) -> path
	Unified string            // path in the v2 hierarchy; "" when the process has none
}

// Stats is one sample of a container's cgroup accounting. Limits are already
// the minimum over the cgroup and every ancestor.
type Stats struct {
	Mode     Mode
	Memory   Memory
	CPU      CPU
	IO       IO
	Pids     Pids
	Pressure Pressure
}

// Memory holds memory controller data in bytes.
type Memory struct {
	Present bool   // the memory controller was found for this cgroup
	Limit   uint64 // min(memory.limit_in_bytes | memory.max) over the chain; Unlimited if none
	Usage   uint64 // memory.usage_in_bytes | memory.current

	// SwapLimit is the swap the cgroup may use, in bytes: v2 min(memory.swap.max)
	// over the chain; v1 min(memsw limit) - Limit, clamped at 0. Unlimited if none.
	// SwapAccounting is false when the kernel exposes no swap accounting files.
	SwapAccounting bool
	SwapLimit      uint64
	SwapUsage      uint64 // v2 memory.swap.current; v1 memsw usage - usage, clamped at 0

	// Stat is memory.stat with cgroup v2 key names on both versions: v1's
	// hierarchical total_* keys are renamed (total_cache -> file,
	// total_rss -> anon, total_mapped_file -> file_mapped, total_dirty ->
	// file_dirty, total_writeback -> file_writeback, total_rss_huge ->
	// anon_thp, total_swap -> swap, ...). Keys without a v2 name keep their
	// v1 name without "total_" (pgpgin, pgpgout). On v1, slab, slab_reclaimable
	// and slab_unreclaimable are derived from memory.kmem.slabinfo when it exists.
	Stat map[string]uint64

	// Events is memory.events (v2: low, high, max, oom, oom_kill, ...); on v1
	// oom_kill comes from memory.oom_control.
	Events map[string]uint64
}

// CPU holds cpu, cpuacct and cpuset data.
type CPU struct {
	// Quota and Period in microseconds; Quota < 0 means no quota. When
	// several ancestors have quotas, the one with the smallest Quota/Period wins.
	Quota  int64
	Period uint64

	// Cpuset is the effective CPU list (host CPU numbers, sorted). Empty means
	// no cpuset information: the host's online CPUs apply.
	Cpuset []int

	// Usage, User and System are cumulative CPU time in nanoseconds
	// (v1 cpuacct.usage / usage_all, v2 cpu.stat usage_usec/user_usec/system_usec).
	Usage  uint64
	User   uint64
	System uint64
	// UsagePresent is false when no CPU accounting was found.
	UsagePresent bool

	// CFS bandwidth counters of the cgroup itself (cpu.stat nr_periods,
	// nr_throttled, v1 throttled_time / v2 throttled_usec in ns), for metrics.
	Periods, ThrottledPeriods, ThrottledNs uint64
}

// IO holds block I/O counters per device.
type IO struct {
	Devices []DeviceIO // sorted by Major, Minor
}

// DeviceIO is the cumulative I/O of the cgroup on one block device.
type DeviceIO struct {
	Major, Minor uint32
	ReadBytes    uint64
	WriteBytes   uint64
	DiscardBytes uint64
	ReadIOs      uint64
	WriteIOs     uint64
	DiscardIOs   uint64
}

// Pids lists the cgroup's processes and threads (host PIDs).
type Pids struct {
	Procs   []int // cgroup.procs
	Threads []int // tasks (v1) or cgroup.threads (v2)
	Current uint64
	Limit   uint64 // pids.max over the chain; Unlimited if none
}

// Pressure holds the raw PSI files of the cgroup (v2 or the unified tree of a
// hybrid host). A nil slice means the file does not exist.
type Pressure struct {
	CPU    []byte
	Memory []byte
	IO     []byte
}
