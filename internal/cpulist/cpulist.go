// Package cpulist parses the kernel's CPU list format ("0-3,8,10-11"), used
// by cpuset.cpus, cpuset.cpus.effective and /sys/devices/system/cpu/online.
package cpulist

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Max bounds CPU numbers so a garbage range cannot allocate without limit
// (the kernel's NR_CPUS is at most 8192).
const Max = 1 << 16

// Parse returns the sorted, de-duplicated CPUs of s (surrounding space is
// ignored). An empty list gives an empty, non-nil slice.
func Parse(s string) ([]int, error) {
	s = strings.TrimSpace(s)
	cpus := []int{}
	if s == "" {
		return cpus, nil
	}
	for part := range strings.SplitSeq(s, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.Atoi(lo)
		if err != nil || a < 0 || a > Max {
			return nil, fmt.Errorf("bad CPU list %q", s)
		}
		b := a
		if isRange {
			b, err = strconv.Atoi(hi)
			if err != nil || b < a || b > Max {
				return nil, fmt.Errorf("bad CPU list %q", s)
			}
		}
		for c := a; c <= b; c++ {
			cpus = append(cpus, c)
		}
	}
	slices.Sort(cpus)
	return slices.Compact(cpus), nil
}
