package views

import (
	"testing"

	"github.com/procview/procview/internal/cpuview"
	"github.com/procview/procview/internal/state"
	"github.com/procview/procview/internal/tasks"
)

// TestHostUptime: in host mode /proc/uptime is the host's boottime clock and
// btime the host's, so a process started at host boottime s (as the kernel
// reports it without a time namespace) is never in the future; /proc/stat's
// CPU ticks stay the container's.
func TestHostUptime(t *testing.T) {
	host, st, loc := sample(t, fixtures(t)[0])
	const start, now = uint64(5000e9), uint64(5600e9)
	scan := func(procs, threads []int) tasks.Summary { return tasks.Summary{Threads: 1} }
	derive := func(hostUp bool) (uptime, idle float64, btime uint64, ticks uint64) {
		tgt := Target{Location: loc, StartNs: start, CPUView: cpuview.Quota, HostUptime: hostUp}
		in, err := Derive(host, st, tgt, &state.Acct{}, now, scan)
		if err != nil {
			t.Fatal(err)
		}
		tt := in.Total
		return in.Uptime, in.Idle, in.BootTime, tt.User + tt.System + tt.Idle
	}
	cu, ci, cb, cticks := derive(false)
	hu, hi, hb, hticks := derive(true)
	if cu != 600 || cb != host.Stat.BootTime+5000 {
		t.Errorf("container mode: uptime %v btime %d, want 600 and btime+5000", cu, cb)
	}
	if hu != 5600 || hb != host.Stat.BootTime {
		t.Errorf("host mode: uptime %v btime %d, want 5600 and the host's %d", hu, hb, host.Stat.BootTime)
	}
	if hticks != cticks {
		t.Errorf("host mode changed /proc/stat ticks: %d, container mode %d", hticks, cticks)
	}
	n := float64(cpuview.Compute(st.CPU, host.Online, cpuview.Quota).N)
	if hi < ci || hi > n*hu {
		t.Errorf("host mode idle %v: want between container idle %v and n*uptime %v", hi, ci, n*hu)
	}
}
