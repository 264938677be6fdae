// Package views samples one container (its cgroup, its tasks, the host) and
// produces the render input and the rendered bytes of each view. It is the
// one place where reading meets rendering; the hook, the daemon and the CLI
// all go through it so they show the same numbers.
package views

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"time"

	"github.com/procview/procview/internal/cgroupstats"
	"github.com/procview/procview/internal/cputime"
	"github.com/procview/procview/internal/cpuview"
	"github.com/procview/procview/internal/hoststats"
	"github.com/procview/procview/internal/loadavg"
	"github.com/procview/procview/internal/render"
	"github.com/procview/procview/internal/state"
	"github.com/procview/procview/internal/tasks"
	"golang.org/x/sys/unix"
)

// Clock gives the current CLOCK_BOOTTIME in nanoseconds.
type Clock func() uint64

// BootClock reads CLOCK_BOOTTIME, the clock process start times use.
func BootClock() uint64 {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_BOOTTIME, &ts); err != nil {
		return uint64(time.Now().UnixNano())
	}
	return uint64(ts.Nano())
}

// Sampler reads through roots so fixture trees can replace the live system.
type Sampler struct {
	CgroupFS fs.FS // rooted at the cgroup root (/sys/fs/cgroup)
	Mode     cgroupstats.Mode
	ProcFS   fs.FS // rooted at /proc
	SysFS    fs.FS // rooted at /sys
	Now      Clock
	// FDBudget caps the cgroup files Readers made by NewReader keep open;
	// nil means no cap.
	FDBudget *cgroupstats.FDBudget
	// Ancestors, when set, is shared by the Readers made by NewReader; the
	// caller starts each round with Ancestors.NextRound.
	Ancestors *cgroupstats.AncestorCache
	// FreezeCPUInfo keeps the first host cpuinfo (until the online CPUs
	// change): its only moving part is "cpu MHz", and freezing it spares
	// every container's cpuinfo view a layout and a write each round.
	FreezeCPUInfo bool
	// TaskBudget bounds the task scans (the daemon's rounds); nil means
	// every thread is read.
	TaskBudget *tasks.Budget

	cpuinfo       *hoststats.CPUInfo
	cpuinfoOnline []int
}

// NewReader returns a Reader of the cgroup at loc, for samplers that
// refresh the same container again and again (the daemon).
func (s *Sampler) NewReader(loc cgroupstats.Location) *cgroupstats.Reader {
	r := cgroupstats.NewReader(s.CgroupFS, s.Mode, loc, s.FDBudget)
	r.Ancestors = s.Ancestors
	return r
}

// Target is one container to sample.
type Target struct {
	Location cgroupstats.Location
	StartNs  uint64 // container start, CLOCK_BOOTTIME ns
	CPUView  cpuview.Mode
	// HostUptime shows the host's uptime and btime: without a time
	// namespace the kernel's process start times count from the host's
	// boot, and only these keep ps and psutil ages right. /proc/stat's CPU
	// ticks stay the container's either way.
	HostUptime bool
}

// Host reads the host snapshot shared by every container in a round.
func (s *Sampler) Host() (*hoststats.Host, error) {
	h, err := hoststats.Read(s.ProcFS, s.SysFS)
	if err != nil {
		return nil, fmt.Errorf("read host: %w", err)
	}
	if s.FreezeCPUInfo {
		if s.cpuinfo != nil && slices.Equal(s.cpuinfoOnline, h.Online) && len(s.cpuinfo.Blocks) == len(h.CPUInfo.Blocks) {
			h.CPUInfo = *s.cpuinfo
		} else {
			ci := h.CPUInfo
			s.cpuinfo, s.cpuinfoOnline = &ci, slices.Clone(h.Online)
		}
	}
	return h, nil
}

// Input samples the container and derives the render input; acct carries the
// monotonic floors and load history and is updated in place.
func (s *Sampler) Input(host *hoststats.Host, t Target, acct *state.Acct) (*render.Input, error) {
	st, err := cgroupstats.Read(s.CgroupFS, s.Mode, t.Location)
	if err != nil {
		return nil, fmt.Errorf("read cgroup: %w", err)
	}
	return s.InputFrom(host, st, t, acct)
}

// InputFrom is Input for stats already read (by a cgroupstats.Reader).
func (s *Sampler) InputFrom(host *hoststats.Host, st *cgroupstats.Stats, t Target, acct *state.Acct) (*render.Input, error) {
	return Derive(host, st, t, acct, s.now(), s.scan)
}

func (s *Sampler) now() uint64 {
	if s.Now != nil {
		return s.Now()
	}
	return BootClock()
}

// ScanDue reports whether the next Derive for acct scans task states (a
// load sample is due), i.e. whether it needs the cgroup's current pid lists.
func (s *Sampler) ScanDue(acct *state.Acct) bool {
	return acct.Load.Due(s.now()) || acct.Tasks.Threads == 0
}

func (s *Sampler) scan(procs, threads []int) tasks.Summary {
	if s.ProcFS == nil {
		return tasks.Summary{}
	}
	return tasks.ScanBounded(s.ProcFS, procs, threads, s.TaskBudget)
}

// Derive computes the render input from already-read stats. It is pure
// except for scan, which reads task states when a load sample is due.
func Derive(host *hoststats.Host, st *cgroupstats.Stats, t Target, acct *state.Acct, now uint64, scan func(procs, threads []int) tasks.Summary) (*render.Input, error) {
	v := cpuview.Compute(st.CPU, host.Online, t.CPUView)
	elapsed := uint64(0)
	if now > t.StartNs {
		elapsed = now - t.StartNs
	}
	r, next := cputime.Compute(v.N, v.Capacity, cputime.Sample{
		ElapsedNs: elapsed,
		Usage:     st.CPU.Usage,
		User:      st.CPU.User,
		System:    st.CPU.System,
	}, acct.CPU)
	acct.CPU = next

	if acct.Load.Due(now) {
		acct.Tasks = scan(st.Pids.Procs, st.Pids.Threads)
		acct.Load = loadavg.Update(acct.Load, now, acct.Tasks.Running+acct.Tasks.Blocked)
	}
	sum := acct.Tasks
	if sum.Threads == 0 {
		// Before the first scan, count what the cgroup lists.
		sum.Threads = len(st.Pids.Threads)
	}

	in := &render.Input{
		Host:            host,
		Cgroup:          st,
		CPUs:            v.N,
		HostCPUs:        v.HostCPUs,
		Total:           r.Total,
		PerCPU:          r.PerCPU,
		Uptime:          r.Uptime,
		Idle:            r.Idle,
		BootTime:        host.Stat.BootTime + t.StartNs/1e9,
		Load:            acct.Load.Load,
		Running:         sum.Running,
		Blocked:         sum.Blocked,
		Threads:         sum.Threads,
		LastPID:         sum.LastPID,
		Processes:       uint64(sum.LastPID),
		ContextSwitches: sum.CtxtSwitches,
		PageSize:        os.Getpagesize(),
	}
	if t.HostUptime {
		hostUptime(in, now, t.StartNs)
	}
	return in, nil
}

// hostUptime makes in's uptime and btime the host's. The visible CPUs count
// as idle before the container started, so /proc/uptime's idle column stays
// at most n times its uptime.
func hostUptime(in *render.Input, now, startNs uint64) {
	in.Uptime = float64(now) / 1e9
	in.Idle += float64(in.CPUs) * float64(min(startNs, now)) / 1e9
	in.BootTime = in.Host.Stat.BootTime
}

// Render renders the named views.
func Render(in *render.Input, names []string) (map[string][]byte, error) {
	out := make(map[string][]byte, len(names))
	var buf bytes.Buffer
	for _, name := range names {
		v, ok := render.Lookup(name)
		if !ok {
			return nil, fmt.Errorf("unknown view %q", name)
		}
		buf.Reset()
		if err := v.Render(&buf, in); err != nil {
			return nil, fmt.Errorf("render %s: %w", name, err)
		}
		out[v.Name] = bytes.Clone(buf.Bytes())
	}
	return out, nil
}
