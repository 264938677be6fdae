package render

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/procview/procview/internal/cgroupstats"
	"github.com/procview/procview/internal/hoststats"
)

const (
	kib = 1024
	mib = 1024 * kib
	gib = 1024 * mib
)

// loadHost builds a hoststats.Host from the captured files in
// testdata/host. The parsing here is deliberately minimal: it only has to
// understand these fixtures (hoststats has the real parsers).
func loadHost(t testing.TB) *hoststats.Host {
	t.Helper()
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join("testdata", "host", name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	h := &hoststats.Host{Pressure: map[string][]byte{}}
	for _, line := range lines(read("meminfo")) {
		f := strings.Fields(line)
		v, err := strconv.ParseUint(f[1], 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		h.Meminfo.Lines = append(h.Meminfo.Lines, hoststats.MeminfoLine{
			Key: strings.TrimSuffix(f[0], ":"), Value: v, KB: len(f) == 3,
		})
	}
	if v, ok := h.Meminfo.Get("SwapTotal"); ok {
		h.SwapTotal = v * 1024
	}
	var blk []string
	for _, line := range strings.Split(string(read("cpuinfo")), "\n") {
		if line == "" {
			if blk != nil {
				h.CPUInfo.Blocks = append(h.CPUInfo.Blocks, blk)
			}
			blk = nil
			continue
		}
		blk = append(blk, line)
	}
	for _, line := range lines(read("stat")) {
		h.Stat.Lines = append(h.Stat.Lines, line)
		if v, ok := strings.CutPrefix(line, "btime "); ok {
			h.Stat.BootTime, _ = strconv.ParseUint(v, 10, 64)
		}
	}
	for _, line := range lines(read("diskstats")) {
		f := strings.Fields(line)
		ma, _ := strconv.ParseUint(f[0], 10, 32)
		mi, _ := strconv.ParseUint(f[1], 10, 32)
		h.Disks = append(h.Disks, hoststats.DiskStat{Major: uint32(ma), Minor: uint32(mi), Name: f[2]})
	}
	for _, line := range lines(read("vmstat")) {
		f := strings.Fields(line)
		v, _ := strconv.ParseUint(f[1], 10, 64)
		h.Vmstat = append(h.Vmstat, hoststats.VmstatLine{Key: f[0], Value: v})
	}
	h.Online = []int{0, 1}
	for _, r := range []string{"cpu", "memory", "io"} {
		h.Pressure[r] = read("pressure/" + r)
	}
	return h
}

func lines(b []byte) []string {
	var out []string
	s := bufio.NewScanner(bytes.NewReader(b))
	for s.Scan() {
		out = append(out, s.Text())
	}
	return out
}

// setMeminfo returns a copy of h with meminfo key set to v.
func setMeminfo(h *hoststats.Host, key string, v uint64) *hoststats.Host {
	c := *h
	c.Meminfo.Lines = slices.Clone(h.Meminfo.Lines)
	for i := range c.Meminfo.Lines {
		if c.Meminfo.Lines[i].Key == key {
			c.Meminfo.Lines[i].Value = v
		}
	}
	return &c
}

// memStat is a memory.stat of a container with anon and page cache.
func memStat(anon, file, shmem uint64) map[string]uint64 {
	return map[string]uint64{
		"anon": anon, "file": file, "shmem": shmem,
		"active_anon": anon / 4, "inactive_anon": anon - anon/4 + shmem,
		"active_file": (file - shmem) / 2, "inactive_file": (file - shmem) - (file-shmem)/2,
		"unevictable": 0, "file_mapped": file / 3, "file_dirty": 8 * kib, "file_writeback": 0,
		"anon_thp": 0, "slab_reclaimable": 3 * mib, "slab_unreclaimable": 1 * mib, "slab": 4 * mib,
		"kernel_stack": 144 * kib, "pagetables": 600 * kib, "swapcached": 0,
		"pgfault": 123456, "pgmajfault": 12, "workingset_refault_file": 7, "pgactivate": 99,
	}
}

// cpuTimes splits per-CPU busy and idle ticks and returns them with their sum.
func cpuTimes(per ...CPUTimes) (CPUTimes, []CPUTimes) {
	var t CPUTimes
	for _, p := range per {
		t.User += p.User
		t.Nice += p.Nice
		t.System += p.System
		t.Idle += p.Idle
		t.IOWait += p.IOWait
		t.IRQ += p.IRQ
		t.SoftIRQ += p.SoftIRQ
		t.Steal += p.Steal
		t.Guest += p.Guest
		t.GuestNice += p.GuestNice
	}
	return t, per
}

type testCase struct {
	name string
	in   *Input
}

// testCases are hand-constructed containers covering the view semantics.
func testCases(t testing.TB) []testCase {
	h := loadHost(t)
	psi := cgroupstats.Pressure{
		CPU:    []byte("some avg10=1.50 avg60=0.75 avg300=0.20 total=1234567\nfull avg10=0.50 avg60=0.25 avg300=0.05 total=345678\n"),
		Memory: []byte("some avg10=0.00 avg60=0.00 avg300=0.00 total=42\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=40\n"),
		IO:     []byte("some avg10=0.10 avg60=0.02 avg300=0.00 total=9876\nfull avg10=0.10 avg60=0.02 avg300=0.00 total=9000\n"),
	}
	base := func(h *hoststats.Host, cg cgroupstats.Stats, cpus int, hostCPUs []int) *Input {
		per := make([]CPUTimes, cpus)
		for i := range per {
			per[i] = CPUTimes{User: 1500 + uint64(i)*10, System: 300 + uint64(i), Idle: 98000 - uint64(i)*11}
		}
		total, per := cpuTimes(per...)
		return &Input{
			Host: h, Cgroup: &cg, CPUs: cpus, HostCPUs: hostCPUs,
			Total: total, PerCPU: per,
			Uptime: 1000.259, Idle: float64(cpus)*1000.259 - 18.0,
			BootTime: h.Stat.BootTime + 4000,
			Load:     [3]float64{0.5, 0.255, 0.004}, Running: 1, Blocked: 0, Threads: 7, LastPID: 42,
			Processes: 45, ContextSwitches: 9999, PageSize: 4096,
		}
	}
	vda := cgroupstats.DeviceIO{Major: 254, Minor: 0, ReadBytes: 10 * mib, WriteBytes: 4*mib + 512, ReadIOs: 320, WriteIOs: 77}
	unnamed := cgroupstats.DeviceIO{Major: 259, Minor: 3, WriteBytes: 4096, WriteIOs: 1}
	idle := cgroupstats.DeviceIO{Major: 7, Minor: 0} // all-zero: not listed
	mem := func(limit, usage uint64, stat map[string]uint64) cgroupstats.Memory {
		return cgroupstats.Memory{Present: true, Limit: limit, Usage: usage, SwapLimit: cgroupstats.Unlimited,
			Stat: stat, Events: map[string]uint64{"oom_kill": 0}}
	}
	swapHost := setMeminfo(setMeminfo(h, "SwapTotal", 2*1024*1024), "SwapFree", 2*1024*1024)
	swapHost.SwapTotal = 2 * gib

	cases := []testCase{
		{"256m-half-cpu", base(h, cgroupstats.Stats{
			Mode: cgroupstats.ModeHybrid, Memory: mem(256*mib, 100*mib, memStat(60*mib, 36*mib, 4*mib)),
			CPU:      cgroupstats.CPU{Quota: 50000, Period: 100000, UsagePresent: true},
			IO:       cgroupstats.IO{Devices: []cgroupstats.DeviceIO{idle, vda}},
			Pressure: psi,
		}, 1, []int{0})},
		{"nested-limit", base(h, cgroupstats.Stats{
			// The parent's 512 MiB is below the child's 1 GiB: cgroupstats
			// already hands over the minimum.
			Mode: cgroupstats.ModeV2, Memory: mem(512*mib, 300*mib, memStat(200*mib, 90*mib, 10*mib)),
			CPU:      cgroupstats.CPU{Quota: 100000, Period: 100000, UsagePresent: true},
			IO:       cgroupstats.IO{Devices: []cgroupstats.DeviceIO{vda, unnamed}},
			Pressure: psi,
		}, 1, []int{0})},
		{"no-limit", base(h, cgroupstats.Stats{
			Mode: cgroupstats.ModeV1, Memory: mem(cgroupstats.Unlimited, 50*mib, memStat(30*mib, 20*mib, 0)),
			CPU: cgroupstats.CPU{Quota: -1, UsagePresent: true},
			IO:  cgroupstats.IO{Devices: []cgroupstats.DeviceIO{vda}},
		}, 2, []int{0, 1})},
		{"swap", func() *Input {
			m := mem(256*mib, 200*mib, memStat(150*mib, 40*mib, 2*mib))
			m.SwapAccounting, m.SwapLimit, m.SwapUsage = true, 512*mib, 30*mib
			m.Stat["swapcached"] = 1 * mib
			m.Events["oom_kill"] = 3
			return base(swapHost, cgroupstats.Stats{
				Mode: cgroupstats.ModeV1, Memory: m,
				CPU: cgroupstats.CPU{Quota: 200000, Period: 100000, UsagePresent: true},
				IO:  cgroupstats.IO{Devices: []cgroupstats.DeviceIO{vda}},
			}, 2, []int{0, 1})
		}()},
		{"usage-above-limit", base(h, cgroupstats.Stats{
			Mode: cgroupstats.ModeHybrid, Memory: mem(64*mib, 64*mib+300*kib, memStat(40*mib, 24*mib, 1*mib)),
			CPU:      cgroupstats.CPU{Quota: 50000, Period: 100000, UsagePresent: true},
			Pressure: psi,
		}, 1, []int{0})},
		{"cpuset-1-of-2", base(h, cgroupstats.Stats{
			Mode: cgroupstats.ModeHybrid, Memory: mem(1*gib, 10*mib, memStat(6*mib, 4*mib, 0)),
			CPU:      cgroupstats.CPU{Quota: -1, Cpuset: []int{1}, UsagePresent: true},
			IO:       cgroupstats.IO{Devices: []cgroupstats.DeviceIO{vda}},
			Pressure: psi,
		}, 1, []int{1})},
		{"quota-1.5", base(h, cgroupstats.Stats{
			Mode: cgroupstats.ModeHybrid, Memory: mem(2*gib, 500*mib, memStat(400*mib, 90*mib, 30*mib)),
			CPU:      cgroupstats.CPU{Quota: 150000, Period: 100000, UsagePresent: true},
			IO:       cgroupstats.IO{Devices: []cgroupstats.DeviceIO{vda}},
			Pressure: psi,
		}, 2, []int{0, 1})},
		{"no-io", base(h, cgroupstats.Stats{
			Mode: cgroupstats.ModeV1, Memory: mem(128*mib, 20*mib, memStat(15*mib, 5*mib, 0)),
			CPU: cgroupstats.CPU{Quota: 100000, Period: 100000, UsagePresent: true},
		}, 1, []int{0})},
		{"no-memory-controller", base(h, cgroupstats.Stats{
			Mode: cgroupstats.ModeV1,
			CPU:  cgroupstats.CPU{Quota: -1, UsagePresent: true},
		}, 2, []int{0, 1})},
	}
	// No PSI anywhere: zeros.
	noPSI := *h
	noPSI.Pressure = nil
	cases[7].in.Host = &noPSI
	return cases
}
