package snapshot

import (
	"math"
	"testing"
	"time"

	"github.com/procview/procview/internal/cgroupstats"
)

func TestFill(t *testing.T) {
	st := &cgroupstats.Stats{
		Memory: cgroupstats.Memory{Present: true, Limit: 1 << 28, Usage: 100 << 20,
			Stat: map[string]uint64{"anon": 30 << 20, "file": 60 << 20, "inactive_file": 40 << 20}, Events: map[string]uint64{"oom_kill": 2}},
		CPU:      cgroupstats.CPU{Quota: 50000, Period: 100000, Usage: 3e9, User: 2e9, System: 1e9, Cpuset: []int{0, 1}},
		IO:       cgroupstats.IO{Devices: []cgroupstats.DeviceIO{{ReadBytes: 100, WriteBytes: 10}, {ReadBytes: 50}}},
		Pressure: cgroupstats.Pressure{CPU: []byte("some avg10=1.50 avg60=0.00 avg300=0.00 total=2500000\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=1000000\n")},
	}
	t0 := time.Now()
	prev := &Container{CPUUsageSeconds: 2.5, FSReadBytes: 50}
	var c Container
	c.Fill(st, prev, t0.Add(2*time.Second), t0, 4)
	if c.MemoryWorkingSetBytes != 60<<20 || c.MemoryRSSBytes != 30<<20 || c.MemoryCacheBytes != 60<<20 || c.OOMEvents != 2 || c.MemoryLimitBytes != 1<<28 {
		t.Errorf("memory: %+v", c)
	}
	// 0.5 s of CPU in 2 s = 0.25 cores = 50 % of a half-CPU quota.
	if c.CPULimitCores != 0.5 || c.CPUs != 0.5 || math.Abs(c.CPUPercent-50) > 1e-9 {
		t.Errorf("cpu: limit %v, cpus %v, percent %v", c.CPULimitCores, c.CPUs, c.CPUPercent)
	}
	if c.FSReadBytes != 150 || c.FSReadBytesPerSecond != 50 || c.FSWriteBytes != 10 {
		t.Errorf("io: %+v", c)
	}
	if !c.Pressure.Present || c.Pressure.CPUWaiting != 2.5 || c.Pressure.CPUStalled != 1 || c.Pressure.CPUAvg10 != 1.5 {
		t.Errorf("psi: %+v", c.Pressure)
	}
	// Working set floors at 0; no limit shows as 0; no quota: the cpuset.
	st.Memory.Stat["inactive_file"] = 200 << 20
	st.Memory.Limit = cgroupstats.Unlimited
	st.CPU.Quota = -1
	var d Container
	d.Fill(st, nil, t0, t0, 4)
	if d.MemoryWorkingSetBytes != 0 || d.MemoryLimitBytes != 0 || d.CPULimitCores != 0 || d.CPUs != 2 || d.CPUPercent != 0 {
		t.Errorf("unlimited: %+v", d)
	}
}
