// Package cpuview decides how many CPUs a container sees and which host CPUs
// back them.
package cpuview

import (
	"math"

	"github.com/procview/procview/internal/cgroupstats"
)

// Mode selects how the CPU count is derived.
type Mode string

const (
	// Quota: n = min(|cpuset|, ceil(quota/period)). The default: a container
	// limited to half a CPU sees one.
	Quota Mode = "quota"
	// Cpuset: n = |cpuset|; the quota only scales busy time.
	Cpuset Mode = "cpuset"
)

// View is the container's CPU view.
type View struct {
	N        int     // visible CPUs, numbered 0..N-1
	HostCPUs []int   // host CPUs backing them (the first N of the cpuset)
	Capacity float64 // CPUs' worth of time the container may use: min(quota, N) or N
}

// Compute derives the view from the cgroup's CPU data and the host's online
// CPUs. An empty cpuset means every online host CPU.
func Compute(c cgroupstats.CPU, hostOnline []int, mode Mode) View {
	set := c.Cpuset
	if len(set) == 0 {
		set = hostOnline
	}
	if len(set) == 0 {
		set = []int{0}
	}
	n := len(set)
	capacity := float64(n)
	if q := QuotaCPUs(c); q > 0 {
		if mode != Cpuset {
			if k := int(math.Ceil(q - 1e-9)); k < n {
				n = k
			}
			if n < 1 {
				n = 1
			}
		}
		capacity = math.Min(q, float64(len(set)))
		if capacity > float64(n) {
			capacity = float64(n)
		}
	} else {
		capacity = float64(n)
	}
	return View{N: n, HostCPUs: append([]int(nil), set[:n]...), Capacity: capacity}
}

// QuotaCPUs is quota/period in CPUs, or 0 when there is no quota.
func QuotaCPUs(c cgroupstats.CPU) float64 {
	if c.Quota <= 0 || c.Period == 0 {
		return 0
	}
	return float64(c.Quota) / float64(c.Period)
}
