// Package loadavg keeps the kernel's 1/5/15-minute exponentially damped
// averages of a container's runnable + uninterruptible task count.
package loadavg

import "math"

// Interval is the kernel's sampling period (LOAD_FREQ = 5 s).
const Interval = 5e9 // ns

var decay = [3]float64{
	math.Exp(-5.0 / 60),  // 1 minute  (kernel EXP_1 = 1884/2048)
	math.Exp(-5.0 / 300), // 5 minutes (EXP_5 = 2014/2048)
	math.Exp(-5.0 / 900), // 15 minutes (EXP_15 = 2037/2048)
}

// State is persisted between samples.
type State struct {
	Load [3]float64
	// Last is the boottime (ns) of the last applied sample; 0 = none yet.
	Last uint64
}

// Due reports whether a new sample should be taken at now.
func (s State) Due(now uint64) bool {
	return s.Last == 0 || now >= s.Last+Interval
}

// Update folds in active tasks observed at now. Every full interval since the
// last sample counts as one kernel tick with the same active count, so a
// daemon that was down catches up instead of freezing the averages.
func Update(s State, now uint64, active int) State {
	if s.Last == 0 {
		// A new container starts from zero load, like a booting kernel.
		s.Last = now
		return s
	}
	if now < s.Last+Interval {
		return s
	}
	k := float64((now - s.Last) / Interval)
	for i := range s.Load {
		e := math.Pow(decay[i], k)
		s.Load[i] = s.Load[i]*e + float64(active)*(1-e)
	}
	s.Last += uint64(k) * Interval
	return s
}
