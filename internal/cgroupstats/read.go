package cgroupstats

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"strings"
	"syscall"
)

// Read samples the cgroup at loc from the tree fsys is rooted at (normally
// os.DirFS("/sys/fs/cgroup")). Missing controllers and files are reported as
// absent or Unlimited; malformed or unreadable files are errors naming the
// path. A cgroup directory that no longer exists (the container is gone) is
// an error that wraps fs.ErrNotExist.
func Read(fsys fs.FS, mode Mode, loc Location) (*Stats, error) {
	return reader{fsys: fsys}.read(mode, loc)
}

func (r reader) read(mode Mode, loc Location) (*Stats, error) {
	st := &Stats{Mode: mode}
	st.CPU.Quota = -1
	st.Memory.Limit = Unlimited
	st.Memory.SwapLimit = Unlimited
	st.Pids.Limit = Unlimited
	switch mode {
	case ModeV2:
		if err := r.readV2(st, ".", loc.Unified); err != nil {
			return nil, err
		}
	case ModeV1, ModeHybrid:
		if err := r.readV1(st, loc); err != nil {
			return nil, err
		}
		if mode == ModeHybrid && loc.Unified != "" {
			// The unified tree only adds data (pressure); a cgroup missing
			// there is not an error when the v1 side was found.
			if err := r.mergeUnified(st, loc.Unified); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return nil, err
			}
		}
	default:
		return nil, fmt.Errorf("read cgroup stats: unknown mode %d", int(mode))
	}
	return st, nil
}

// reader walks one cgroup's files. With c set, files come through c's
// cache of open descriptors and last contents; otherwise every file is
// opened and read afresh.
type reader struct {
	fsys fs.FS
	c    *Reader
	// slow marks files that rarely change (limits, cpuset, ancestors' files);
	// a Reader re-reads them only on its full rounds.
	slow bool
	// pidList marks cgroup.procs and tasks/cgroup.threads, whose last
	// content a Reader keeps for StalePidLists.
	pidList bool
	// haveUsage and havePids: the v1 side of a hybrid host already has CPU
	// usage / the pid lists, so the unified tree's copies would be ignored.
	haveUsage, havePids bool
	// probe marks the usage counters a Reader's Probe re-reads.
	probe bool
	// ancestor marks a file of an ancestor cgroup, which a Reader may
	// take from (and give to) its Ancestors cache.
	ancestor bool
}

// absent reports errors that mean "this file is not there": a missing file,
// or a kernel that exposes the file but does not support it (PSI disabled
// with psi=0 gives EOPNOTSUPP).
func absent(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.EOPNOTSUPP) || errors.Is(err, syscall.ENODEV)
}

// file reads name; ok is false when it does not exist.
func (r reader) file(name string) (data []byte, ok bool, err error) {
	name = path.Clean(name) // "./cpu.max" at the root of a v2 tree
	if r.c != nil && r.ancestor && r.c.Ancestors != nil {
		return r.c.ancestorFile(name, r.slow)
	}
	if r.c != nil {
		data, ok, err = r.c.file(name, r.slow, r.pidList, r.probe)
		if r.probe && ok {
			r.c.noteProbe(name, data)
		}
		return data, ok, err
	}
	data, err = fs.ReadFile(r.fsys, name)
	if err != nil {
		if absent(err) {
			return nil, false, nil
		}
		return nil, false, fmt.Errorf("read %s: %w", name, err)
	}
	return data, true, nil
}

// up marks the file read for the i-th directory of a chain (0: the
// cgroup itself, above: its ancestors).
func (r reader) up(i int) reader {
	r.ancestor = i > 0
	return r
}

// probing marks the next file as one of the cgroup's usage counters: the
// single files that move whenever the container does anything (memory
// usage, CPU usage; I/O bytes on v2), which Reader.Probe re-reads every round.
func (r reader) probing() reader {
	r.probe = true
	return r
}

func (r reader) dirExists(name string) (bool, error) {
	if r.c != nil {
		return r.c.dirExists(name)
	}
	return statDir(r.fsys, name)
}

func statDir(fsys fs.FS, name string) (bool, error) {
	fi, err := fs.Stat(fsys, name)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return false, nil
		}
		return false, fmt.Errorf("stat %s: %w", name, err)
	}
	return fi.IsDir(), nil
}

func (r reader) controllerDirs() (map[string]string, error) {
	if r.c != nil {
		return r.c.controllerDirs()
	}
	return controllerDirs(r.fsys)
}

// parsed reads name and parses it; ok is false when the file is absent.
func parsed[T any](r reader, name string, parse func([]byte) (T, error)) (v T, ok bool, err error) {
	data, ok, err := r.file(name)
	if err != nil || !ok {
		return v, false, err
	}
	v, err = parse(data)
	if err != nil {
		return v, false, fmt.Errorf("read %s: %w", path.Clean(name), err)
	}
	return v, true, nil
}

// minLimit is the smallest limit in file over dirs; Unlimited when no file
// sets one.
func (r reader) minLimit(dirs []string, file string) (limit uint64, seen bool, err error) {
	r.slow = true
	limit = Unlimited
	for i, d := range dirs {
		v, ok, err := parsed(r.up(i), d+"/"+file, parseLimit)
		if err != nil {
			return 0, false, err
		}
		if ok {
			seen = true
			limit = min(limit, v)
		}
	}
	return limit, seen, nil
}

// quota is one cpu quota found on the chain.
type quota struct {
	q int64
	p uint64
}

// smaller reports whether a is a tighter quota than b (smaller quota/period).
func (a quota) smaller(b quota) bool {
	if b.q < 0 {
		return a.q >= 0
	}
	if a.q < 0 {
		return false
	}
	// Compare a.q/a.p < b.q/b.p without division; a zero period is a
	// degenerate input and counts as an unbounded ratio.
	if a.p == 0 {
		return false
	}
	if b.p == 0 {
		return true
	}
	return float64(a.q)*float64(b.p) < float64(b.q)*float64(a.p)
}

// controllerDir resolves the directory of controller c for loc, with the
// hierarchy root it walks up to. ok is false when the controller is not
// mounted or loc has no path for it.
func (r reader) controllerDir(dirs map[string]string, loc Location, c string) (dir, root string, ok bool, err error) {
	root, mounted := dirs[c]
	p, listed := loc.V1[c]
	if !mounted || !listed {
		return "", "", false, nil
	}
	dir, err = relDir(root, p)
	if err != nil {
		return "", "", false, err
	}
	isDir, err := r.dirExists(dir)
	if err != nil {
		return "", "", false, err
	}
	if !isDir {
		// Not every runtime creates the cgroup in every hierarchy; Read
		// fails only when none of them has it.
		return "", "", false, nil
	}
	return dir, root, true, nil
}

func (r reader) readV1(st *Stats, loc Location) error {
	dirs, err := r.controllerDirs()
	if err != nil {
		return err
	}
	var missing []string
	found := false
	ctl := func(c string) (string, string, bool, error) {
		dir, root, ok, err := r.controllerDir(dirs, loc, c)
		if ok {
			found = true
		} else if err == nil && dirs[c] != "" && loc.V1[c] != "" {
			missing = append(missing, dirs[c]+loc.V1[c])
		}
		return dir, root, ok, err
	}

	if dir, root, ok, err := ctl("memory"); err != nil {
		return err
	} else if ok {
		if err := r.v1Memory(&st.Memory, dir, chain(root, dir)); err != nil {
			return err
		}
	}
	if dir, root, ok, err := ctl("cpu"); err != nil {
		return err
	} else if ok {
		if err := r.v1Quota(&st.CPU, chain(root, dir)); err != nil {
			return err
		}
		if stat, ok, err := parsed(r, dir+"/cpu.stat", parseFlatKeyed); err != nil {
			return err
		} else if ok {
			st.CPU.Periods, st.CPU.ThrottledPeriods, st.CPU.ThrottledNs = stat["nr_periods"], stat["nr_throttled"], stat["throttled_time"]
		}
	}
	if dir, _, ok, err := ctl("cpuacct"); err != nil {
		return err
	} else if ok {
		if err := r.v1Cpuacct(&st.CPU, dir); err != nil {
			return err
		}
	}
	if dir, root, ok, err := ctl("cpuset"); err != nil {
		return err
	} else if ok {
		cpus, err := r.firstCPUList(chain(root, dir), "cpuset.effective_cpus", "cpuset.cpus")
		if err != nil {
			return err
		}
		st.CPU.Cpuset = cpus
	}
	if dir, _, ok, err := ctl("blkio"); err != nil {
		return err
	} else if ok {
		devs, err := r.v1Blkio(dir)
		if err != nil {
			return err
		}
		st.IO.Devices = devs
	}
	if dir, root, ok, err := ctl("pids"); err != nil {
		return err
	} else if ok {
		if err := r.pidsCounters(&st.Pids, dir, chain(root, dir)); err != nil {
			return err
		}
	}
	if !found && len(missing) > 0 {
		return fmt.Errorf("cgroup %s: %w", strings.Join(missing, ", "), fs.ErrNotExist)
	}
	// cgroup.procs and tasks exist in every hierarchy; take them from the
	// first controller this cgroup has, pids first since it counts tasks.
	for _, c := range []string{"pids", "memory", "cpu", "cpuacct", "cpuset", "blkio"} {
		dir, _, ok, err := r.controllerDir(dirs, loc, c)
		if err != nil {
			return err
		}
		if ok {
			return r.pidLists(&st.Pids, dir, "tasks")
		}
	}
	return nil
}

func (r reader) v1Memory(m *Memory, dir string, dirs []string) error {
	var err error
	m.Present = true
	if m.Limit, _, err = r.minLimit(dirs, "memory.limit_in_bytes"); err != nil {
		return err
	}
	if m.Usage, _, err = parsed(r.probing(), dir+"/memory.usage_in_bytes", parseUint); err != nil {
		return err
	}
	swUsage, swOK, err := parsed(r, dir+"/memory.memsw.usage_in_bytes", parseUint)
	if err != nil {
		return err
	}
	if swOK {
		m.SwapAccounting = true
		memsw, _, err := r.minLimit(dirs, "memory.memsw.limit_in_bytes")
		if err != nil {
			return err
		}
		switch {
		case memsw == Unlimited || m.Limit == Unlimited:
			m.SwapLimit = Unlimited
		case memsw > m.Limit:
			m.SwapLimit = memsw - m.Limit
		default:
			m.SwapLimit = 0
		}
		if swUsage > m.Usage {
			m.SwapUsage = swUsage - m.Usage
		}
	}
	stat, ok, err := parsed(r, dir+"/memory.stat", parseFlatKeyed)
	if err != nil {
		return err
	}
	if ok {
		m.Stat = renameV1Stat(stat)
	}
	// Slab size and the OOM kill count move slowly and cost a file each:
	// a Reader refreshes them on its full rounds (and the kernel's slabinfo
	// is empty since 5.9).
	r.slow = true
	slab, ok, err := r.file(dir + "/memory.kmem.slabinfo")
	if err != nil {
		return err
	}
	if ok {
		total, recl, found, err := parseSlabinfo(slab, uint64(os.Getpagesize()))
		if err != nil {
			return fmt.Errorf("read %s: %w", path.Join(dir, "memory.kmem.slabinfo"), err)
		}
		if found {
			if m.Stat == nil {
				m.Stat = make(map[string]uint64)
			}
			m.Stat["slab"] = total
			m.Stat["slab_reclaimable"] = recl
			m.Stat["slab_unreclaimable"] = total - recl
		}
	}
	oom, ok, err := parsed(r, dir+"/memory.oom_control", parseFlatKeyed)
	if err != nil {
		return err
	}
	if ok {
		if v, has := oom["oom_kill"]; has {
			m.Events = map[string]uint64{"oom_kill": v}
		}
	}
	return nil
}

func (r reader) v1Quota(c *CPU, dirs []string) error {
	r.slow = true
	best := quota{q: -1}
	for i, d := range dirs {
		q, okQ, err := parsed(r.up(i), d+"/cpu.cfs_quota_us", parseInt)
		if err != nil {
			return err
		}
		p, okP, err := parsed(r.up(i), d+"/cpu.cfs_period_us", parseUint)
		if err != nil {
			return err
		}
		if i == 0 && okP {
			best.p = p
		}
		if okQ && okP && q > 0 {
			if cand := (quota{q, p}); cand.smaller(best) {
				best = cand
			}
		}
	}
	c.Quota, c.Period = best.q, best.p
	return nil
}

// userHZ converts cpuacct.stat ticks; USER_HZ is 100 on every Linux ABI.
const nsPerTick = 10_000_000

func (r reader) v1Cpuacct(c *CPU, dir string) error {
	usage, ok, err := parsed(r.probing(), dir+"/cpuacct.usage", parseUint)
	if err != nil {
		return err
	}
	if ok {
		c.Usage, c.UsagePresent = usage, true
	}
	// Split preference: usage_all (ns, per CPU), usage_user/usage_sys (ns),
	// cpuacct.stat (USER_HZ ticks, coarse).
	if data, ok, err := r.file(dir + "/cpuacct.usage_all"); err != nil {
		return err
	} else if ok {
		u, s, err := parseUsageAll(data)
		if err != nil {
			return fmt.Errorf("read %s: %w", path.Join(dir, "cpuacct.usage_all"), err)
		}
		c.User, c.System = u, s
	} else {
		u, okU, err := parsed(r, dir+"/cpuacct.usage_user", parseUint)
		if err != nil {
			return err
		}
		s, okS, err := parsed(r, dir+"/cpuacct.usage_sys", parseUint)
		if err != nil {
			return err
		}
		if okU && okS {
			c.User, c.System = u, s
		} else {
			st, ok, err := parsed(r, dir+"/cpuacct.stat", parseFlatKeyed)
			if err != nil {
				return err
			}
			if ok {
				c.User = satMul(st["user"], nsPerTick)
				c.System = satMul(st["system"], nsPerTick)
			}
		}
	}
	if !c.UsagePresent && (c.User != 0 || c.System != 0) {
		c.Usage, c.UsagePresent = satAdd(c.User, c.System), true
	}
	return nil
}

// firstCPUList returns the first non-empty CPU list found walking dirs (leaf
// first), trying files in order in each directory.
func (r reader) firstCPUList(dirs []string, files ...string) ([]int, error) {
	r.slow = true
	for i, d := range dirs {
		for _, f := range files {
			cpus, ok, err := parsed(r.up(i), d+"/"+f, parseCPUList)
			if err != nil {
				return nil, err
			}
			if ok && len(cpus) > 0 {
				return cpus, nil
			}
		}
	}
	return nil, nil
}

func (r reader) v1Blkio(dir string) ([]DeviceIO, error) {
	for _, prefix := range []string{"blkio.throttle.", "blkio."} {
		for _, suffix := range []string{"_recursive", ""} {
			// Not a probe: v1 counts a bio when a task of the cgroup
			// submits it (v1 never charges writeback to the cgroup),
			// and that task's CPU time moves cpuacct.usage with it.
			b, okB, err := parsed(r, dir+"/"+prefix+"io_service_bytes"+suffix, parseBlkioRecursive)
			if err != nil {
				return nil, err
			}
			n, okN, err := parsed(r, dir+"/"+prefix+"io_serviced"+suffix, parseBlkioRecursive)
			if err != nil {
				return nil, err
			}
			if okB || okN {
				return mergeBlkio(b, n), nil
			}
		}
	}
	return nil, nil
}

func (r reader) pidsCounters(p *Pids, dir string, dirs []string) error {
	var err error
	if p.Current, _, err = parsed(r, dir+"/pids.current", parseUint); err != nil {
		return err
	}
	if p.Limit, _, err = r.minLimit(dirs, "pids.max"); err != nil {
		return err
	}
	return nil
}

func (r reader) pidLists(p *Pids, dir, threadsFile string) error {
	r.pidList = true
	if r.c != nil && r.c.StalePidLists {
		r.slow = true
	}
	var err error
	if p.Procs, _, err = parsed(r, dir+"/cgroup.procs", parsePIDList); err != nil {
		return err
	}
	if p.Threads, _, err = parsed(r, dir+"/"+threadsFile, parsePIDList); err != nil {
		return err
	}
	return nil
}

// readV2 fills st from the unified hierarchy rooted at base ("." on a v2
// host, "unified" on a hybrid one).
func (r reader) readV2(st *Stats, base, cgPath string) error {
	dir, err := relDir(base, cgPath)
	if err != nil {
		return err
	}
	isDir, err := r.dirExists(dir)
	if err != nil {
		return err
	}
	if !isDir {
		return fmt.Errorf("cgroup %s: %w", dir, fs.ErrNotExist)
	}
	dirs := chain(base, dir)

	if err := r.v2Memory(&st.Memory, dir, dirs); err != nil {
		return err
	}
	if err := r.v2CPU(&st.CPU, dir, dirs); err != nil {
		return err
	}
	devs, ok, err := parsed(r.probing(), dir+"/io.stat", parseIOStat)
	if err != nil {
		return err
	}
	if ok {
		st.IO.Devices = devs
	}
	if err := r.pidsCounters(&st.Pids, dir, dirs); err != nil {
		return err
	}
	if !r.havePids {
		if err := r.pidLists(&st.Pids, dir, "cgroup.threads"); err != nil {
			return err
		}
	}
	return r.pressure(&st.Pressure, dir)
}

func (r reader) v2Memory(m *Memory, dir string, dirs []string) error {
	usage, ok, err := parsed(r.probing(), dir+"/memory.current", parseUint)
	if err != nil {
		return err
	}
	if !ok {
		// No memory controller here (or the root cgroup, which has no
		// memory.current).
		return nil
	}
	m.Present, m.Usage = true, usage
	if m.Limit, _, err = r.minLimit(dirs, "memory.max"); err != nil {
		return err
	}
	swUsage, swOK, err := parsed(r, dir+"/memory.swap.current", parseUint)
	if err != nil {
		return err
	}
	if swOK {
		m.SwapAccounting, m.SwapUsage = true, swUsage
		if m.SwapLimit, _, err = r.minLimit(dirs, "memory.swap.max"); err != nil {
			return err
		}
	}
	if m.Stat, _, err = parsed(r, dir+"/memory.stat", parseFlatKeyed); err != nil {
		return err
	}
	r.slow = true // only oom_kill is shown (vmstat); full rounds suffice
	if m.Events, _, err = parsed(r, dir+"/memory.events", parseFlatKeyed); err != nil {
		return err
	}
	return nil
}

func (r reader) v2CPU(c *CPU, dir string, dirs []string) error {
	best := quota{q: -1}
	rs := r
	rs.slow = true
	for i, d := range dirs {
		data, ok, err := rs.up(i).file(d + "/cpu.max")
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		q, p, err := parseCPUMax(data)
		if err != nil {
			return fmt.Errorf("read %s: %w", path.Join(d, "cpu.max"), err)
		}
		if i == 0 {
			best.p = p
		}
		if cand := (quota{q, p}); q > 0 && cand.smaller(best) {
			best = cand
		}
	}
	c.Quota, c.Period = best.q, best.p

	if !r.haveUsage {
		stat, ok, err := parsed(r.probing(), dir+"/cpu.stat", parseFlatKeyed)
		if err != nil {
			return err
		}
		if ok {
			if u, has := stat["usage_usec"]; has {
				c.Usage, c.UsagePresent = satMul(u, 1000), true
				c.User = satMul(stat["user_usec"], 1000)
				c.System = satMul(stat["system_usec"], 1000)
			}
			c.Periods, c.ThrottledPeriods, c.ThrottledNs = stat["nr_periods"], stat["nr_throttled"], satMul(stat["throttled_usec"], 1000)
		}
	}
	cpus, err := r.firstCPUList(dirs, "cpuset.cpus.effective", "cpuset.cpus")
	if err != nil {
		return err
	}
	c.Cpuset = cpus
	return nil
}

func (r reader) pressure(p *Pressure, dir string) error {
	for _, f := range []struct {
		name string
		dst  *[]byte
	}{{"cpu.pressure", &p.CPU}, {"memory.pressure", &p.Memory}, {"io.pressure", &p.IO}} {
		data, ok, err := r.file(dir + "/" + f.name)
		if err != nil {
			return err
		}
		if ok {
			*f.dst = bytes.Clone(data) // a Reader reuses data's buffer
		}
	}
	return nil
}

// mergeUnified adds what the v2 tree of a hybrid host offers: the pressure
// files always, and any controller data the v1 hierarchies did not provide
// (a controller can be bound to the unified tree instead of a v1 one).
func (r reader) mergeUnified(st *Stats, cgPath string) error {
	v2 := &Stats{Mode: ModeV2}
	v2.CPU.Quota = -1
	v2.Memory.Limit, v2.Memory.SwapLimit, v2.Pids.Limit = Unlimited, Unlimited, Unlimited
	// Skip the unified copies of what v1 already provided: they would be
	// ignored below, and each is a file read per round.
	r.haveUsage, r.havePids = st.CPU.UsagePresent, st.Pids.Procs != nil
	if err := r.readV2(v2, "unified", cgPath); err != nil {
		return err
	}
	st.Pressure = v2.Pressure
	if !st.Memory.Present {
		st.Memory = v2.Memory
	}
	if st.CPU.Quota < 0 && v2.CPU.Quota >= 0 {
		st.CPU.Quota, st.CPU.Period = v2.CPU.Quota, v2.CPU.Period
	}
	if !st.CPU.UsagePresent && v2.CPU.UsagePresent {
		st.CPU.Usage, st.CPU.User, st.CPU.System, st.CPU.UsagePresent =
			v2.CPU.Usage, v2.CPU.User, v2.CPU.System, true
	}
	if len(st.CPU.Cpuset) == 0 {
		st.CPU.Cpuset = v2.CPU.Cpuset
	}
	if st.IO.Devices == nil {
		st.IO.Devices = v2.IO.Devices
	}
	if st.Pids.Procs == nil {
		st.Pids = v2.Pids
	} else if st.Pids.Limit == Unlimited && st.Pids.Current == 0 {
		st.Pids.Current, st.Pids.Limit = v2.Pids.Current, v2.Pids.Limit
	}
	return nil
}
