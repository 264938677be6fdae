package tasks

import (
	"fmt"
	"io/fs"
	"sync/atomic"
	"testing"
	"testing/fstest"
	"time"
)

// countingFS counts the files opened through it.
type countingFS struct {
	fs.FS
	opens atomic.Int64
}

func (c *countingFS) Open(name string) (fs.File, error) {
	c.opens.Add(1)
	return c.FS.Open(name)
}

// fakeProc has n threads (tids 1000..), every other one running.
func fakeProc(n int) (*countingFS, []int) {
	m := fstest.MapFS{}
	tids := make([]int, n)
	for i := range n {
		tid := 1000 + i
		tids[i] = tid
		st := "S (sleeping)"
		if i%2 == 0 {
			st = "R (running)"
		}
		m[fmt.Sprintf("%d/status", tid)] = &fstest.MapFile{Data: []byte(fmt.Sprintf(
			"State:\t%s\nNSpid:\t%d\t%d\nvoluntary_ctxt_switches:\t3\nnonvoluntary_ctxt_switches:\t1\n", st, tid, i+1))}
	}
	return &countingFS{FS: m}, tids
}

func TestScanBounded(t *testing.T) {
	const n = 20000
	procFS, tids := fakeProc(n)
	full := Scan(procFS, tids, tids)
	procFS.opens.Store(0)

	b := &Budget{PerScan: 500}
	b.StartRound(time.Hour)
	got := ScanBounded(procFS, tids, tids, b)
	// 500 threads and 500 processes, one status file each.
	if opens := procFS.opens.Load(); opens > 2*500 {
		t.Errorf("bounded scan opened %d files, want at most %d", opens, 2*500)
	}
	if got.Threads != n {
		t.Errorf("Threads = %d, want %d", got.Threads, n)
	}
	// Binomial: 500 samples give a standard deviation of ~450 here.
	if d := got.Running - full.Running; d < -n/10 || d > n/10 {
		t.Errorf("Running = %d, full scan %d", got.Running, full.Running)
	}
	if got.CtxtSwitches < full.CtxtSwitches*9/10 || got.CtxtSwitches > full.CtxtSwitches*11/10 {
		t.Errorf("CtxtSwitches = %d, full scan %d", got.CtxtSwitches, full.CtxtSwitches)
	}
	if got.LastPID != full.LastPID {
		t.Errorf("LastPID = %d, full scan %d (the newest processes are read)", got.LastPID, full.LastPID)
	}

	// Past the round's deadline a scan reads only MinPerScan tasks.
	b.StartRound(-time.Second)
	procFS.opens.Store(0)
	ScanBounded(procFS, tids, tids, b)
	if opens := procFS.opens.Load(); opens > 2*MinPerScan {
		t.Errorf("scan after the deadline opened %d files, want at most %d", opens, 2*MinPerScan)
	}

	// Small containers and a nil budget read everything.
	b.StartRound(time.Hour)
	procFS.opens.Store(0)
	if s := ScanBounded(procFS, tids[:100], tids[:100], b); s.Threads != 100 || procFS.opens.Load() != 200 {
		t.Errorf("small scan: %+v after %d opens", s, procFS.opens.Load())
	}
	if s := ScanBounded(procFS, tids, tids, nil); s != full {
		t.Errorf("unbounded scan = %+v, want %+v", s, full)
	}
}
