// Package cputime derives a container's /proc/stat CPU counters and
// /proc/uptime from its cgroup CPU usage and its age.
//
// Every visible CPU advances USER_HZ ticks per second of wall time. Busy time
// is the cgroup's usage scaled by N/capacity, so a container running at its
// full quota shows ~100 % busy and an idle one ~0 %. Values are derived from
// cgroup counters and the container's start, so a restarted daemon computes
// the same numbers; a persisted floor (State) keeps them monotonic across
// counter resets and rounding.
package cputime

import (
	"github.com/procview/procview/internal/render"
)

// HZ is USER_HZ, the unit of /proc/stat (100 on every Linux ABI).
const HZ = 100

// State is what must survive between samples (persisted by the caller).
type State struct {
	LastUsage uint64 // cgroup usage (ns) at the previous sample
	// Offsets carry the totals across a cgroup counter reset.
	OffUser, OffSystem uint64
	// Floors: the last emitted aggregate values.
	User, System, Idle uint64
}

// Sample is one observation.
type Sample struct {
	ElapsedNs uint64 // wall time since the container started
	Usage     uint64 // cumulative CPU time, ns
	User      uint64 // user part, ns (any unit works if System uses the same)
	System    uint64
}

// Result is the derived counters.
type Result struct {
	Total  render.CPUTimes
	PerCPU []render.CPUTimes
	Uptime float64 // seconds
	Idle   float64 // seconds, summed over visible CPUs
}

// Compute derives the counters for n visible CPUs with the given capacity
// (CPUs' worth of time the container may use) and returns the next state.
func Compute(n int, capacity float64, s Sample, prev State) (Result, State) {
	if n < 1 {
		n = 1
	}
	if capacity <= 0 || capacity > float64(n) {
		capacity = float64(n)
	}
	next := prev
	if s.Usage < prev.LastUsage {
		// The counter was reset (cpuacct.usage written, cgroup recreated):
		// continue from what was already shown.
		next.OffUser, next.OffSystem = prev.User, prev.System
	}
	next.LastUsage = s.Usage

	capTicks := float64(s.ElapsedNs) / 1e9 * HZ * float64(n)
	busy := float64(s.Usage) / 1e9 * HZ * float64(n) / capacity
	userShare := 1.0
	if t := s.User + s.System; t > 0 {
		userShare = float64(s.User) / float64(t)
	}
	user := float64(next.OffUser) + busy*userShare
	system := float64(next.OffSystem) + busy*(1-userShare)
	if b := user + system; b > capTicks && b > 0 {
		// Bursts and accounting skew can exceed wall-clock capacity; the
		// view never shows more than 100 %.
		user, system = user*capTicks/b, system*capTicks/b
	}
	idle := capTicks - user - system
	if idle < 0 {
		idle = 0
	}
	tot := render.CPUTimes{
		User:   maxU(uint64(user), prev.User),
		System: maxU(uint64(system), prev.System),
		Idle:   maxU(uint64(idle), prev.Idle),
	}
	next.User, next.System, next.Idle = tot.User, tot.System, tot.Idle

	r := Result{Total: tot, PerCPU: Split(tot, n)}
	r.Uptime = float64(s.ElapsedNs) / 1e9
	r.Idle = float64(tot.Idle) / HZ
	return r, next
}

// Split divides aggregate counters over n CPUs so that the lines sum to the
// aggregate and each line is monotonic in the aggregate.
func Split(t render.CPUTimes, n int) []render.CPUTimes {
	out := make([]render.CPUTimes, n)
	for i := range out {
		out[i] = render.CPUTimes{
			User:   share(t.User, n, i),
			Nice:   share(t.Nice, n, i),
			System: share(t.System, n, i),
			Idle:   share(t.Idle, n, i),
			IOWait: share(t.IOWait, n, i),
		}
	}
	return out
}

// share is the i-th of n parts of v: floor((v + n-1-i) / n).
func share(v uint64, n, i int) uint64 {
	return (v + uint64(n-1-i)) / uint64(n)
}

func maxU(a, b uint64) uint64 {
	if a > b {
		return a
	}
	return b
}
