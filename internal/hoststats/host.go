// Package hoststats reads the host's own /proc and /sys files that the views
// are derived from. Each Read function takes a root directory (normally "/")
// and hands bytes to a pure Parse function.
package hoststats

// Meminfo is /proc/meminfo in file order. Values are in the file's unit (kB
// for most lines, a count for HugePages_*).
type Meminfo struct {
	Lines []MeminfoLine
}

// MeminfoLine is one "Key: value [kB]" line.
type MeminfoLine struct {
	Key   string
	Value uint64
	KB    bool // the line carries the " kB" unit
}

// Get returns the value for key and whether it was present.
func (m *Meminfo) Get(key string) (uint64, bool) {
	for _, l := range m.Lines {
		if l.Key == key {
			return l.Value, true
		}
	}
	return 0, false
}

// CPUInfo is /proc/cpuinfo split into per-processor blocks, each the raw
// lines of one block without the trailing blank line.
type CPUInfo struct {
	Blocks [][]string
}

// Stat is the part of /proc/stat the views need from the host.
type Stat struct {
	BootTime uint64   // btime, seconds since the epoch
	Lines    []string // every line, for passthrough of intr/ctxt/softirq
}

// DiskStat names one block device as the host's /proc/diskstats does.
type DiskStat struct {
	Major, Minor uint32
	Name         string
}

// Host is one snapshot of the host files the renderers use.
type Host struct {
	Meminfo   Meminfo
	CPUInfo   CPUInfo
	Stat      Stat
	Disks     []DiskStat        // names from /proc/diskstats
	Vmstat    []VmstatLine      // /proc/vmstat in file order
	SwapTotal uint64            // bytes, from meminfo
	Online    []int             // /sys/devices/system/cpu/online
	Pressure  map[string][]byte // /proc/pressure/{cpu,memory,io}; missing when absent
}

// VmstatLine is one "key value" line of /proc/vmstat.
type VmstatLine struct {
	Key   string
	Value uint64
}
