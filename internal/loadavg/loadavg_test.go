package loadavg

import (
	"math"
	"testing"
)

// Two always-busy tasks: the kernel's 1-minute load after 60 s is 2*(1-e^-1)=1.26.
func TestConvergesLikeKernel(t *testing.T) {
	tests := []struct {
		name   string
		active int
		secs   int
		want   [3]float64
	}{
		{"two busy tasks for a minute", 2, 60, [3]float64{2 * (1 - math.Exp(-1)), 2 * (1 - math.Exp(-0.2)), 2 * (1 - math.Exp(-1.0/15))}},
		{"idle", 0, 60, [3]float64{0, 0, 0}},
		{"one task for ten minutes", 1, 600, [3]float64{1 - math.Exp(-10), 1 - math.Exp(-2), 1 - math.Exp(-10.0/15)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s State
			start := uint64(1e12)
			for ns := start; ns <= start+uint64(tt.secs)*1e9; ns += 1e9 {
				if s.Due(ns) {
					s = Update(s, ns, tt.active)
				}
			}
			for i := range tt.want {
				if math.Abs(s.Load[i]-tt.want[i]) > 0.02 {
					t.Errorf("load[%d] = %.3f, want %.3f", i, s.Load[i], tt.want[i])
				}
			}
		})
	}
}

func TestCatchUpAfterGap(t *testing.T) {
	a := State{}
	a = Update(a, 5e9, 2)
	a = Update(a, 10e9, 2)
	step := a
	for ns := uint64(15e9); ns <= 60e9; ns += 5e9 {
		step = Update(step, ns, 2)
	}
	gap := Update(a, 60e9+3e9, 2) // one update after 58 s
	for i := range gap.Load {
		if math.Abs(gap.Load[i]-step.Load[i]) > 1e-9 {
			t.Errorf("load[%d] after gap %.4f, stepwise %.4f", i, gap.Load[i], step.Load[i])
		}
	}
	if gap.Last != step.Last {
		t.Errorf("Last %d, want %d", gap.Last, step.Last)
	}
}
