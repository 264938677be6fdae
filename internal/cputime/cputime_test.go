package cputime

import (
	"testing"
)

const sec = uint64(1e9)

// busyPct is the busy share between two results, as top computes it.
func busyPct(a, b Result) float64 {
	busy := float64((b.Total.User + b.Total.System) - (a.Total.User + a.Total.System))
	all := busy + float64(b.Total.Idle-a.Total.Idle)
	if all == 0 {
		return 0
	}
	return 100 * busy / all
}

func TestBusyShare(t *testing.T) {
	tests := []struct {
		name     string
		n        int
		capacity float64
		usageCPU float64 // CPUs' worth of usage per second of wall time
		lo, hi   float64
	}{
		{"half-cpu container at its quota", 1, 0.5, 0.5, 99, 100},
		{"half-cpu container idle", 1, 0.5, 0, 0, 0.5},
		{"half-cpu container at half its quota", 1, 0.5, 0.25, 49, 51},
		{"1.5 cpus at quota", 2, 1.5, 1.5, 99, 100},
		{"cpuset mode, 2 cpus, quota 0.5 saturated", 2, 0.5, 0.5, 99, 100},
		{"no quota, one of two cpus busy", 2, 2, 1, 49, 51},
		{"overshoot is clamped", 1, 0.5, 0.6, 99, 100},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var st State
			var prev Result
			for i := 0; i <= 60; i++ {
				el := uint64(i) * sec
				u := uint64(tt.usageCPU * float64(el))
				r, next := Compute(tt.n, tt.capacity, Sample{ElapsedNs: el, Usage: u, User: u}, st)
				st = next
				if i == 10 {
					prev = r
				}
				if i == 60 {
					if p := busyPct(prev, r); p < tt.lo || p > tt.hi {
						t.Errorf("busy = %.2f%%, want in [%v, %v]", p, tt.lo, tt.hi)
					}
					wantTicks := uint64(60 * HZ * tt.n)
					got := r.Total.User + r.Total.System + r.Total.Idle
					if got+2 < wantTicks || got > wantTicks+2 {
						t.Errorf("total ticks after 60 s = %d, want ~%d (n=%d × HZ × 60)", got, wantTicks, tt.n)
					}
				}
			}
		})
	}
}

func TestMonotonic(t *testing.T) {
	type step struct {
		el, usage, user, system uint64
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"steady", []step{{1, 0, 0, 0}, {2, 1, 1, 0}, {3, 2, 1, 1}, {4, 3, 2, 1}}},
		{"counter reset", []step{{1, 1, 1, 0}, {2, 2, 2, 0}, {3, 0, 0, 0}, {4, 1, 1, 0}}},
		{"user/system split shifts", []step{{1, 1, 1, 0}, {2, 2, 0, 2}, {3, 3, 3, 0}}},
		{"burst beyond capacity then idle", []step{{1, 5, 5, 0}, {2, 5, 5, 0}, {3, 5, 5, 0}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var st State
			var last Result
			for i, s := range tt.steps {
				r, next := Compute(1, 0.5, Sample{ElapsedNs: s.el * sec, Usage: s.usage * sec / 4, User: s.user, System: s.system}, st)
				st = next
				if i > 0 {
					if r.Total.User < last.Total.User || r.Total.System < last.Total.System || r.Total.Idle < last.Total.Idle {
						t.Fatalf("step %d: counters decreased: %+v after %+v", i, r.Total, last.Total)
					}
					if r.Idle < last.Idle || r.Uptime < last.Uptime {
						t.Fatalf("step %d: uptime decreased", i)
					}
				}
				last = r
			}
		})
	}
}

// A restarted daemon that lost its in-memory state recomputes the same
// values from the cgroup counters and the container start.
func TestRestartWithoutState(t *testing.T) {
	var st State
	var r1 Result
	for i := uint64(1); i <= 30; i++ {
		r1, st = Compute(1, 0.5, Sample{ElapsedNs: i * sec, Usage: i * sec / 4, User: 3, System: 1}, st)
	}
	r2, _ := Compute(1, 0.5, Sample{ElapsedNs: 31 * sec, Usage: 31 * sec / 4, User: 3, System: 1}, State{})
	if r2.Total.User < r1.Total.User || r2.Total.System < r1.Total.System || r2.Total.Idle < r1.Total.Idle {
		t.Errorf("after restart without state: %+v < %+v", r2.Total, r1.Total)
	}
	// And with the persisted state it continues exactly.
	r3, _ := Compute(1, 0.5, Sample{ElapsedNs: 31 * sec, Usage: 31 * sec / 4, User: 3, System: 1}, st)
	if r3.Total != r2.Total {
		t.Errorf("with state %+v, without %+v: derivation should agree", r3.Total, r2.Total)
	}
}

func TestSplitSumsAndMonotonic(t *testing.T) {
	for n := 1; n <= 5; n++ {
		var prev []uint64
		for v := uint64(0); v < 50; v++ {
			parts := Split(renderTimes(v), n)
			var sum uint64
			for i, p := range parts {
				sum += p.User
				if prev != nil && p.User < prev[i] {
					t.Fatalf("n=%d v=%d cpu%d decreased", n, v, i)
				}
			}
			if sum != v {
				t.Fatalf("n=%d v=%d: parts sum to %d", n, v, sum)
			}
			prev = prev[:0]
			for _, p := range parts {
				prev = append(prev, p.User)
			}
		}
	}
}
