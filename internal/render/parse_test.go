package render

import (
	"bytes"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/procfs"
	"github.com/prometheus/procfs/blockdevice"

	"github.com/procview/procview/internal/cgroupstats"
	"github.com/procview/procview/internal/layout"
)

// tree is a fake root with proc/ and sys/ as the views are mounted.
type tree struct{ root string }

func (tr tree) write(t testing.TB, v View, b []byte) {
	t.Helper()
	p := filepath.Join(tr.root, filepath.FromSlash(v.Target))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// layoutState renders every view and keeps one Layout per view, as the
// daemon does.
type layoutState struct {
	layouts map[string]*layout.Layout
}

func (s *layoutState) render(t testing.TB, in *Input) map[string][]byte {
	t.Helper()
	if s.layouts == nil {
		s.layouts = map[string]*layout.Layout{}
	}
	out := map[string][]byte{}
	for _, v := range Views() {
		var b bytes.Buffer
		if err := v.Render(&b, in); err != nil {
			t.Fatalf("%s: %v", v.Name, err)
		}
		l := s.layouts[v.Name]
		if l == nil {
			l = layout.New(v.Layout, b.Bytes())
			s.layouts[v.Name] = l
		}
		size := l.Size()
		padded, grew := l.Apply(b.Bytes())
		if len(padded) != size && !grew || len(padded) == size && grew {
			t.Fatalf("%s: length %d -> %d with grew=%v", v.Name, size, len(padded), grew)
		}
		if len(padded) < size && len(padded) != 0 && v.Layout.Mode != layout.Exact {
			t.Fatalf("%s shrank from %d to %d", v.Name, size, len(padded))
		}
		out[v.Name] = bytes.Clone(padded)
	}
	return out
}

// glibcOnline ports glibc's read_sysfs_file (sysdeps/unix/sysv/linux/
// getsysstats.c, 2.35+), which get_nprocs uses on /sys/devices/system/cpu/
// online: 0 means "unparsable", and glibc then falls back to /proc/stat.
func glibcOnline(b []byte) int {
	nl := bytes.IndexByte(b, '\n')
	if nl < 0 {
		nl = len(b)
	}
	s := string(b[:nl+min(1, len(b)-nl)])
	strtoul := func(s string) (uint64, string, bool) {
		i := 0
		for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n') {
			i++
		}
		j := i
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			j++
		}
		if j == i {
			return 0, s, false
		}
		v, _ := strconv.ParseUint(s[i:j], 10, 64)
		return v, s[j:], true
	}
	result := 0
	for {
		n, rest, ok := strtoul(s)
		if !ok {
			return 0
		}
		m := n
		if strings.HasPrefix(rest, "-") {
			if m, rest, ok = strtoul(rest[1:]); !ok {
				return 0
			}
		}
		if m >= n {
			result += int(m - n + 1)
		}
		s = strings.TrimPrefix(rest, ",")
		if s == "" || s[0] == '\n' {
			return result
		}
	}
}

func TestGlibcOnlineRejectsPadding(t *testing.T) {
	tests := []struct {
		in   string
		want int
	}{
		{"0\n", 1}, {"0-1\n", 2}, {"0-3,8\n", 5}, {"0-1   \n", 0}, {"0-1", 2},
	}
	for _, tt := range tests {
		if got := glibcOnline([]byte(tt.in)); got != tt.want {
			t.Errorf("glibcOnline(%q) = %d, want %d", tt.in, got, tt.want)
		}
	}
}

// expectMem recomputes the meminfo headline numbers from the Input.
func expectMem(in *Input) (total, free, swapTotal uint64) {
	hostTotal, _ := in.Host.Meminfo.Get("MemTotal")
	m := in.Cgroup.Memory
	if !m.Present {
		f, _ := in.Host.Meminfo.Get("MemFree")
		st, _ := in.Host.Meminfo.Get("SwapTotal")
		return hostTotal, f, st
	}
	total = hostTotal
	if m.Limit != cgroupstats.Unlimited && m.Limit/1024 < total {
		total = m.Limit / 1024
	}
	if m.Usage/1024 < total {
		free = total - m.Usage/1024
	}
	if m.SwapAccounting {
		hs, _ := in.Host.Meminfo.Get("SwapTotal")
		swapTotal = min(m.SwapLimit/1024, hs)
	}
	return total, free, swapTotal
}

// checkParses writes padded views into a fake root and reads them back with
// prometheus/procfs and glibc's online parser, comparing with the Input.
func checkParses(t *testing.T, in *Input, files map[string][]byte) {
	t.Helper()
	tr := tree{t.TempDir()}
	for _, v := range Views() {
		tr.write(t, v, files[v.Name])
	}
	proc := filepath.Join(tr.root, "proc")
	fs, err := procfs.NewFS(proc)
	if err != nil {
		t.Fatal(err)
	}

	mi, err := fs.Meminfo()
	if err != nil {
		t.Fatalf("meminfo: %v\n%s", err, files["meminfo"])
	}
	total, free, swapTotal := expectMem(in)
	if *mi.MemTotal != total || *mi.MemFree > free+1 || *mi.MemFree+1 < free || *mi.SwapTotal != swapTotal {
		t.Errorf("meminfo: MemTotal %d MemFree %d SwapTotal %d; want %d %d %d",
			*mi.MemTotal, *mi.MemFree, *mi.SwapTotal, total, free, swapTotal)
	}
	if *mi.MemAvailable > *mi.MemTotal || *mi.MemFree > *mi.MemAvailable {
		t.Errorf("meminfo: MemFree %d <= MemAvailable %d <= MemTotal %d violated", *mi.MemFree, *mi.MemAvailable, *mi.MemTotal)
	}

	st, err := fs.Stat()
	if err != nil {
		t.Fatalf("stat: %v", err)
	}
	const userHZ = 100
	near := func(a float64, b uint64) bool { return math.Abs(a*userHZ-float64(b)) < 0.5 }
	if !near(st.CPUTotal.User, in.Total.User) || !near(st.CPUTotal.Idle, in.Total.Idle) || !near(st.CPUTotal.System, in.Total.System) {
		t.Errorf("stat cpu: %+v, want %+v", st.CPUTotal, in.Total)
	}
	if len(st.CPU) != in.CPUs {
		t.Errorf("stat: %d cpuN lines, want %d", len(st.CPU), in.CPUs)
	}
	for i, c := range in.PerCPU {
		if !near(st.CPU[int64(i)].User, c.User) || !near(st.CPU[int64(i)].Idle, c.Idle) {
			t.Errorf("stat cpu%d: %+v, want %+v", i, st.CPU[int64(i)], c)
		}
	}
	if st.BootTime != in.BootTime || st.ProcessesRunning != uint64(in.Running) ||
		st.ProcessesBlocked != uint64(in.Blocked) || st.ContextSwitches != in.ContextSwitches || st.ProcessCreated != in.Processes {
		t.Errorf("stat counters: %+v", st)
	}

	la, err := fs.LoadAvg()
	if err != nil {
		t.Fatalf("loadavg: %v", err)
	}
	for i, got := range []float64{la.Load1, la.Load5, la.Load15} {
		if math.Abs(got-in.Load[i]) > 0.005001 {
			t.Errorf("loadavg[%d] = %v, want %v", i, got, in.Load[i])
		}
	}

	ci, err := fs.CPUInfo()
	if err != nil {
		t.Fatalf("cpuinfo: %v", err)
	}
	if len(ci) != in.CPUs {
		t.Errorf("cpuinfo: %d CPUs, want %d", len(ci), in.CPUs)
	}
	for i, c := range ci {
		if int(c.Processor) != i || int(c.Siblings) != in.CPUs || int(c.CPUCores) != in.CPUs {
			t.Errorf("cpuinfo[%d]: processor %d siblings %d cores %d", i, c.Processor, c.Siblings, c.CPUCores)
		}
	}

	for _, r := range []string{"cpu", "memory", "io"} {
		got, err := fs.PSIStatsForResource(r)
		if err != nil {
			t.Fatalf("pressure/%s: %v", r, err)
		}
		want := psiWant(t, in, r)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("pressure/%s (-want +got):\n%s", r, diff)
		}
	}

	sw, err := fs.Swaps()
	if err != nil {
		t.Fatalf("swaps: %v", err)
	}
	if swapTotal == 0 && len(sw) != 0 || swapTotal > 0 && (len(sw) != 1 || uint64(sw[0].Size) != swapTotal) {
		t.Errorf("swaps: %+v, want SwapTotal %d", sw, swapTotal)
	}

	bd, err := blockdevice.NewFS(proc, filepath.Join(tr.root, "sys"))
	if err != nil {
		t.Fatal(err)
	}
	ds, err := bd.ProcDiskstats()
	if err != nil {
		t.Fatalf("diskstats: %v", err)
	}
	var want []cgroupstats.DeviceIO
	for _, d := range in.Cgroup.IO.Devices {
		if d.ReadBytes|d.WriteBytes|d.ReadIOs|d.WriteIOs|d.DiscardBytes|d.DiscardIOs != 0 {
			want = append(want, d)
		}
	}
	if len(ds) != len(want) {
		t.Fatalf("diskstats: %d devices, want %d", len(ds), len(want))
	}
	for i, d := range want {
		g := ds[i]
		if g.MajorNumber != d.Major || g.MinorNumber != d.Minor || g.ReadIOs != d.ReadIOs || g.WriteIOs != d.WriteIOs ||
			g.ReadSectors != d.ReadBytes/512 || g.WriteSectors != d.WriteBytes/512 || g.IoStatsCount != 20 {
			t.Errorf("diskstats[%d] = %+v, want %+v", i, g, d)
		}
	}

	online, err := os.ReadFile(filepath.Join(tr.root, "sys/devices/system/cpu/online"))
	if err != nil {
		t.Fatal(err)
	}
	if n := glibcOnline(online); n != in.CPUs {
		t.Errorf("online %q: glibc counts %d, want %d", online, n, in.CPUs)
	}

	for _, name := range []string{"uptime", "vmstat"} {
		var raw bytes.Buffer
		v, _ := Lookup(name)
		if err := v.Render(&raw, in); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(strings.Fields(raw.String()), strings.Fields(string(files[name]))); diff != "" {
			t.Errorf("%s fields changed by the layout (-raw +padded):\n%s", name, diff)
		}
	}
	up := strings.Fields(string(files["uptime"]))
	if u, err := strconv.ParseFloat(up[0], 64); err != nil || math.Abs(u-in.Uptime) >= 0.01 {
		t.Errorf("uptime %q, want %v", up[0], in.Uptime)
	}
}

// psiWant parses the PSI bytes the view should carry with procfs itself.
func psiWant(t *testing.T, in *Input, r string) procfs.PSIStats {
	t.Helper()
	raw := map[string][]byte{"cpu": in.Cgroup.Pressure.CPU, "memory": in.Cgroup.Pressure.Memory, "io": in.Cgroup.Pressure.IO}[r]
	if len(raw) == 0 {
		raw = in.Host.Pressure[r]
	}
	if len(raw) == 0 {
		raw = []byte(pressureZero)
	}
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "pressure"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "pressure", r), raw, 0o644); err != nil {
		t.Fatal(err)
	}
	fs, _ := procfs.NewFS(dir)
	p, err := fs.PSIStatsForResource(r)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestParseWithProcfs(t *testing.T) {
	for _, tc := range testCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			var s layoutState
			checkParses(t, tc.in, s.render(t, tc.in))
		})
	}
}

// mutate moves an Input forward by random amounts, crossing digit
// boundaries in every direction the daemon sees.
func mutate(r *rand.Rand, in *Input) {
	big := func() uint64 { return r.Uint64N(uint64(math.Pow10(1 + r.IntN(9)))) }
	m := &in.Cgroup.Memory
	if m.Present {
		m.Usage = big()
		for k := range m.Stat {
			m.Stat[k] = big()
		}
		m.SwapUsage = r.Uint64N(m.SwapUsage + 64*mib)
	}
	for i := range in.PerCPU {
		p := &in.PerCPU[i]
		p.User += big() % 100000
		p.System += big() % 10000
		p.Idle += big() % 100000
		p.IOWait = big() % 1000
	}
	in.Total, _ = cpuTimes(in.PerCPU...)
	in.Uptime += r.Float64() * 1e5
	in.Idle = in.Uptime * float64(in.CPUs) * r.Float64()
	for i := range in.Load {
		in.Load[i] = r.Float64() * math.Pow10(r.IntN(3))
	}
	in.Running, in.Threads, in.LastPID = r.IntN(100), r.IntN(10000), r.IntN(4194304)
	in.Blocked = r.IntN(10)
	in.Processes += big()
	in.ContextSwitches += big()
	for i := range in.Cgroup.IO.Devices {
		d := &in.Cgroup.IO.Devices[i]
		d.ReadBytes += big() * 512
		d.WriteBytes += big() * 512
		d.ReadIOs += big()
		d.WriteIOs += big()
	}
	psi := func() []byte {
		return []byte("some avg10=" + strconv.FormatFloat(r.Float64()*100, 'f', 2, 64) +
			" avg60=" + strconv.FormatFloat(r.Float64()*10, 'f', 2, 64) + " avg300=0.00 total=" +
			strconv.FormatUint(big(), 10) + "\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=" +
			strconv.FormatUint(big(), 10) + "\n")
	}
	if in.Cgroup.Pressure.CPU != nil {
		in.Cgroup.Pressure = cgroupstats.Pressure{CPU: psi(), Memory: psi(), IO: psi()}
	}
}

// cloneInput deep-copies the parts mutate changes.
func cloneInput(in *Input) *Input {
	c := *in
	cg := *in.Cgroup
	cg.Memory.Stat = map[string]uint64{}
	for k, v := range in.Cgroup.Memory.Stat {
		cg.Memory.Stat[k] = v
	}
	cg.IO.Devices = append([]cgroupstats.DeviceIO(nil), in.Cgroup.IO.Devices...)
	c.Cgroup = &cg
	c.PerCPU = append([]CPUTimes(nil), in.PerCPU...)
	return &c
}

// TestPropertyConstantLength refreshes every case many times with random
// values: each view keeps its first length (online is Exact and the CPU count
// does not change; diskstats of a container without I/O stays empty) and
// always parses.
func TestPropertyConstantLength(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 11))
	iterations := 300
	if testing.Short() {
		iterations = 30
	}
	for _, tc := range testCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			in := cloneInput(tc.in)
			var s layoutState
			first := s.render(t, in)
			grown := map[string]int{}
			for i := range iterations {
				mutate(r, in)
				files := s.render(t, in)
				for name, b := range files {
					if len(b) != len(first[name]) {
						grown[name]++
						first[name] = b
					}
				}
				if i%25 == 0 {
					checkParses(t, in, files)
				}
			}
			// Random values jump up to 9 digits at once, far beyond a real
			// refresh; a view may grow a few times, never often.
			for name, n := range grown {
				if n > 3 {
					t.Errorf("%s changed length %d times in %d refreshes", name, n, iterations)
				}
			}
		})
	}
}

// TestLengthConstantOverALifetime replays a realistic lifetime: counters
// growing steadily from container start for about a day. No view but online
// may change length.
func TestLengthConstantOverALifetime(t *testing.T) {
	in := cloneInput(testCases(t)[0].in)
	in.PerCPU[0] = CPUTimes{}
	in.Total, _ = cpuTimes(in.PerCPU...)
	in.Uptime, in.Idle, in.Processes, in.ContextSwitches = 0, 0, 1, 0
	in.Cgroup.IO.Devices = nil
	var s layoutState
	first := s.render(t, in)
	for sec := 1; sec <= 86400; sec += 7 {
		in.Uptime = float64(sec) + 0.37
		in.Idle = float64(sec) * 0.5
		in.PerCPU[0].User += 30
		in.PerCPU[0].System += 5
		in.PerCPU[0].Idle += 65
		in.Total, _ = cpuTimes(in.PerCPU...)
		in.Processes += 3
		in.ContextSwitches += 900
		in.Cgroup.Memory.Usage = uint64(100*mib + (sec%1000)*mib/10)
		in.Cgroup.Memory.Stat["pgfault"] += 5000
		in.Cgroup.Memory.Stat["shmem"] = uint64(sec%7) * 100 * mib / 7
		files := s.render(t, in)
		for name, b := range files {
			if name == "diskstats" {
				continue // empty: the container never did I/O here
			}
			if len(b) != len(first[name]) {
				t.Fatalf("after %d s %s changed length from %d to %d:\n%s", sec, name, len(first[name]), len(b), b)
			}
		}
	}
}
