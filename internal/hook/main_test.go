package hook

import (
	"errors"
	"testing"
	"time"
)

func TestRunWithin(t *testing.T) {
	errF := errors.New("f failed")
	block := make(chan struct{})
	defer close(block)
	tests := []struct {
		name    string
		limit   time.Duration
		f       func() error
		want    error
		maxWait time.Duration
	}{
		{"done in time", time.Second, func() error { return nil }, nil, time.Second},
		{"error in time", time.Second, func() error { return errF }, errF, time.Second},
		{"stuck: gives up", 50 * time.Millisecond, func() error { <-block; return nil }, ErrTimeout, time.Second},
		{"no limit", 0, func() error { time.Sleep(20 * time.Millisecond); return errF }, errF, time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			err := runWithin(tt.limit, tt.f)
			if !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
				t.Errorf("runWithin() = %v, want %v", err, tt.want)
			}
			if d := time.Since(start); d > tt.maxWait {
				t.Errorf("took %v", d)
			}
		})
	}
}

func TestBudget(t *testing.T) {
	for _, tt := range []struct {
		timeout int
		want    time.Duration
	}{{10, 8 * time.Second}, {3, 2400 * time.Millisecond}, {0, 0}} {
		if got := budget(tt.timeout); got != tt.want {
			t.Errorf("budget(%d) = %v, want %v", tt.timeout, got, tt.want)
		}
	}
}
