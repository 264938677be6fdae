package tasks

import (
	"io/fs"
	"math/rand/v2"
	"slices"
	"sync"
	"time"
)

// Default sizes of a bounded scan.
const (
	// DefaultPerScan is how many threads (and processes) one container's
	// scan reads at most: one /proc/<tid>/status each, 40-200 µs; a
	// sample of 512 puts the running count within a few % of the truth.
	DefaultPerScan = 512
	// MinPerScan is what a scan still reads once the round is over budget,
	// so every container keeps an estimate.
	MinPerScan = 64
)

// Budget bounds the task scans of one daemon round, so a container with
// tens of thousands of threads cannot delay every other container's
// refresh: each scan reads at most PerScan threads and processes (a
// sample spread over all of them, its counts scaled to the whole), and
// scans that start after the round's deadline read at most MinPerScan. A
// nil Budget means no bound.
type Budget struct {
	// PerScan caps the tasks read per container scan; 0 means
	// DefaultPerScan.
	PerScan int

	mu       sync.Mutex
	deadline time.Time
}

// StartRound gives the scans from now on until d from now at full size.
func (b *Budget) StartRound(d time.Duration) {
	if b == nil {
		return
	}
	b.mu.Lock()
	b.deadline = time.Now().Add(d)
	b.mu.Unlock()
}

// limit is the number of tasks the next scan may read.
func (b *Budget) limit() int {
	if b == nil {
		return 0
	}
	n := b.PerScan
	if n <= 0 {
		n = DefaultPerScan
	}
	b.mu.Lock()
	late := !b.deadline.IsZero() && time.Now().After(b.deadline)
	b.mu.Unlock()
	if late {
		n = min(n, MinPerScan)
	}
	return n
}

// ScanBounded is Scan within b: when a container has more threads than b
// allows, an stratified random sample is read and the running,
// blocked and context-switch counts are scaled to the cgroup's thread
// count; of more processes than allowed, those with the highest PIDs (the
// newest, where the namespace's last PID is) are read.
func ScanBounded(procFS fs.FS, procs, threads []int, b *Budget) Summary {
	n := b.limit()
	if n <= 0 || (len(threads) <= n && len(procs) <= n) {
		return Scan(procFS, procs, threads)
	}
	if len(procs) > n {
		procs = slices.Clone(procs)
		slices.Sort(procs)
		procs = procs[len(procs)-n:]
	}
	if len(threads) <= n {
		return Scan(procFS, procs, threads)
	}
	// One random thread from each of n equal stretches of the list: spread
	// over the whole list, and no aliasing with regular patterns in it.
	sample := make([]int, 0, n)
	step := float64(len(threads)) / float64(n)
	for i := range n {
		sample = append(sample, threads[min(int((float64(i)+rand.Float64())*step), len(threads)-1)])
	}
	s := Scan(procFS, procs, sample)
	// Each sampled thread stands for len(threads)/n of the cgroup's.
	f := float64(len(threads)) / float64(n)
	scale := func(v int) int { return int(float64(v)*f + 0.5) }
	s.Running = scale(s.Running)
	s.Blocked = scale(s.Blocked)
	s.Threads = scale(s.Threads)
	s.CtxtSwitches = uint64(float64(s.CtxtSwitches) * f)
	return s
}
