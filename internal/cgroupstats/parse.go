package cgroupstats

import (
	"bytes"
	"errors"
	"fmt"
	"github.com/procview/procview/internal/cpulist"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// ErrParse is wrapped by every error about malformed cgroup file content.
var ErrParse = errors.New("malformed cgroup file")

// unlimitedFloor: v1 reports "no limit" as PAGE_COUNTER_MAX*PAGE_SIZE
// (9223372036854771712 with 4 KiB pages; other page sizes give other values
// near 1<<63), so anything this large is treated as unlimited.
const unlimitedFloor uint64 = 1 << 62

func parseErr(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrParse, fmt.Sprintf(format, args...))
}

// firstLine returns the file content without surrounding white space.
func firstLine(data []byte) string {
	return strings.TrimSpace(string(data))
}

// parseUint parses a single unsigned counter such as memory.usage_in_bytes.
func parseUint(data []byte) (uint64, error) {
	s := firstLine(data)
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, parseErr("want an unsigned integer, got %q", s)
	}
	return v, nil
}

// parseLimit parses a limit file: "max" (v2), "-1" or any negative number, a
// value of at least 1<<62 (v1's PAGE_COUNTER_MAX*PAGE_SIZE) and a value that
// overflows uint64 all mean Unlimited.
func parseLimit(data []byte) (uint64, error) {
	s := firstLine(data)
	if s == "max" {
		return Unlimited, nil
	}
	if v, err := strconv.ParseUint(s, 10, 64); err == nil {
		if v >= unlimitedFloor {
			return Unlimited, nil
		}
		return v, nil
	} else if errors.Is(err, strconv.ErrRange) {
		return Unlimited, nil
	}
	if _, err := strconv.ParseInt(s, 10, 64); err == nil || errors.Is(err, strconv.ErrRange) {
		// Only negative numbers get here.
		return Unlimited, nil
	}
	return 0, parseErr("want a limit (number or \"max\"), got %q", s)
}

// parseInt parses a signed value such as cpu.cfs_quota_us.
func parseInt(data []byte) (int64, error) {
	s := firstLine(data)
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, parseErr("want an integer, got %q", s)
	}
	return v, nil
}

// parseFlatKeyed parses "key value" lines (memory.stat, cpu.stat,
// memory.events, cpuacct.stat, memory.oom_control). Blank lines are skipped.
func parseFlatKeyed(data []byte) (map[string]uint64, error) {
	m := make(map[string]uint64, bytes.Count(data, []byte{'\n'})+1)
	// bytes.Lines, not a bufio.Scanner: no 4 kB buffer per call. Byte
	// slices, not strings, and interned keys: the daemon parses memory.stat
	// of every container every second.
	for raw := range bytes.Lines(data) {
		line := bytes.TrimSpace(raw)
		if len(line) == 0 {
			continue
		}
		key, val, ok := twoFields(line)
		if !ok {
			return nil, parseErr("want \"key value\", got %q", line)
		}
		v, ok := atou(val)
		if !ok {
			return nil, parseErr("bad value in %q", line)
		}
		m[keys.intern(key)] = v
	}
	return m, nil
}

// twoFields splits a trimmed line into exactly two space- or tab-separated
// fields.
func twoFields(line []byte) (a, b []byte, ok bool) {
	i := bytes.IndexAny(line, " \t")
	if i < 0 {
		return nil, nil, false
	}
	a, b = line[:i], bytes.TrimLeft(line[i:], " \t")
	if len(b) == 0 || bytes.ContainsAny(b, " \t") {
		return nil, nil, false
	}
	return a, b, true
}

// atou parses a decimal uint64 as strconv.ParseUint(s, 10, 64) does, without
// making a string.
func atou(b []byte) (uint64, bool) {
	if len(b) == 0 || len(b) > 20 {
		return 0, false
	}
	var v uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		d := uint64(c - '0')
		if v > (math.MaxUint64-d)/10 {
			return 0, false
		}
		v = v*10 + d
	}
	return v, true
}

// interner hands out one string per distinct key, so parsing the same file
// every second does not allocate its keys again. It stops growing at
// maxInterned keys (cgroup files have a few hundred); later keys are
// allocated as usual.
type interner struct {
	mu sync.RWMutex
	m  map[string]string
}

const maxInterned = 4096

var keys = interner{m: map[string]string{}}

func (in *interner) intern(b []byte) string {
	in.mu.RLock()
	s, ok := in.m[string(b)] // no allocation for the lookup
	in.mu.RUnlock()
	if ok {
		return s
	}
	s = string(b)
	in.mu.Lock()
	if len(in.m) < maxInterned {
		in.m[s] = s
	}
	in.mu.Unlock()
	return s
}

// parseCPUList parses a kernel CPU list such as "0-3,8,10-11" into sorted,
// de-duplicated CPU numbers. An empty list gives an empty, non-nil slice.
func parseCPUList(data []byte) ([]int, error) {
	cpus, err := cpulist.Parse(firstLine(data))
	if err != nil {
		return nil, parseErr("%s", err.Error())
	}
	return cpus, nil
}

// parseCPUMax parses v2 cpu.max: "max 100000" or "50000 100000". A quota of
// "max" gives quota -1. The period may be omitted by old kernels; then it is 0.
func parseCPUMax(data []byte) (quota int64, period uint64, err error) {
	s := firstLine(data)
	f := strings.Fields(s)
	if len(f) < 1 || len(f) > 2 {
		return 0, 0, parseErr("want \"quota period\", got %q", s)
	}
	if len(f) == 2 {
		period, err = strconv.ParseUint(f[1], 10, 64)
		if err != nil {
			return 0, 0, parseErr("bad period in %q", s)
		}
	}
	if f[0] == "max" {
		return -1, period, nil
	}
	q, err := strconv.ParseUint(f[0], 10, 63)
	if err != nil {
		return 0, 0, parseErr("bad quota in %q", s)
	}
	return int64(q), period, nil
}

// devKey identifies a block device.
type devKey struct{ major, minor uint32 }

func parseDev(s string) (devKey, bool) {
	maj, min, ok := strings.Cut(s, ":")
	if !ok {
		return devKey{}, false
	}
	a, err1 := strconv.ParseUint(maj, 10, 32)
	b, err2 := strconv.ParseUint(min, 10, 32)
	if err1 != nil || err2 != nil {
		return devKey{}, false
	}
	return devKey{uint32(a), uint32(b)}, true
}

func sortedDevices(m map[devKey]*DeviceIO) []DeviceIO {
	out := make([]DeviceIO, 0, len(m))
	for _, d := range m {
		out = append(out, *d)
	}
	slices.SortFunc(out, func(a, b DeviceIO) int {
		if a.Major != b.Major {
			return int(int64(a.Major) - int64(b.Major))
		}
		return int(int64(a.Minor) - int64(b.Minor))
	})
	return out
}

func deviceFor(m map[devKey]*DeviceIO, k devKey) *DeviceIO {
	d, ok := m[k]
	if !ok {
		d = &DeviceIO{Major: k.major, Minor: k.minor}
		m[k] = d
	}
	return d
}

// parseIOStat parses v2 io.stat lines
// "8:0 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=5 dios=6". Unknown keys (iocost
// "cost.*", ...) are ignored.
func parseIOStat(data []byte) ([]DeviceIO, error) {
	m := make(map[devKey]*DeviceIO)
	// bytes.Lines, not a bufio.Scanner: no 4 kB buffer per call.
	for raw := range bytes.Lines(data) {
		line := strings.TrimSpace(string(raw))
		if line == "" {
			continue
		}
		f := strings.Fields(line)
		k, ok := parseDev(f[0])
		if !ok {
			return nil, parseErr("bad device in io.stat line %q", line)
		}
		d := deviceFor(m, k)
		for _, kv := range f[1:] {
			key, val, ok := strings.Cut(kv, "=")
			if !ok {
				return nil, parseErr("want key=value in io.stat line %q", line)
			}
			var dst *uint64
			switch key {
			case "rbytes":
				dst = &d.ReadBytes
			case "wbytes":
				dst = &d.WriteBytes
			case "dbytes":
				dst = &d.DiscardBytes
			case "rios":
				dst = &d.ReadIOs
			case "wios":
				dst = &d.WriteIOs
			case "dios":
				dst = &d.DiscardIOs
			default:
				continue
			}
			v, err := strconv.ParseUint(val, 10, 64)
			if err != nil {
				return nil, parseErr("bad value %q in io.stat line %q", kv, line)
			}
			*dst = v
		}
	}
	return sortedDevices(m), nil
}

// blkioOps are the per-device counters of one v1 blkio file that procview
// shows: Read, Write and Discard (Sync, Async and Total are checked, not kept).
type blkioOps map[devKey]*[3]uint64

const (
	opRead = iota
	opWrite
	opDiscard
)

// fields splits line at spaces and tabs into out's backing array, without
// allocating. ok is false when the line has more fields than out holds.
func fields(line []byte, out [][]byte) (f [][]byte, ok bool) {
	f = out[:0]
	for {
		for len(line) > 0 && (line[0] == ' ' || line[0] == '\t') {
			line = line[1:]
		}
		if len(line) == 0 {
			return f, true
		}
		if len(f) == cap(out) {
			return f, false
		}
		i := bytes.IndexAny(line, " \t")
		if i < 0 {
			i = len(line)
		}
		f = append(f, line[:i])
		line = line[i:]
	}
}

// parseDevBytes is parseDev for a byte slice.
func parseDevBytes(b []byte) (devKey, bool) {
	maj, min, ok := bytes.Cut(b, []byte{':'})
	if !ok {
		return devKey{}, false
	}
	a, ok1 := atou(maj)
	c, ok2 := atou(min)
	if !ok1 || !ok2 || a > math.MaxUint32 || c > math.MaxUint32 {
		return devKey{}, false
	}
	return devKey{uint32(a), uint32(c)}, true
}

// parseBlkioRecursive parses v1 blkio.throttle.io_service_bytes[_recursive]
// and io_serviced[_recursive]: lines "8:0 Read 4096" and a final "Total N".
func parseBlkioRecursive(data []byte) (blkioOps, error) {
	out := make(blkioOps)
	var buf [3][]byte
	// bytes.Lines, not a bufio.Scanner: no 4 kB buffer per call.
	for raw := range bytes.Lines(data) {
		line := bytes.TrimSpace(raw)
		if len(line) == 0 {
			continue
		}
		f, ok := fields(line, buf[:])
		if ok && len(f) == 2 && string(f[0]) == "Total" {
			if _, ok := atou(f[1]); !ok {
				return nil, parseErr("bad total in blkio line %q", line)
			}
			continue
		}
		if !ok || len(f) != 3 {
			return nil, parseErr("want \"maj:min Op value\", got %q", line)
		}
		k, ok := parseDevBytes(f[0])
		if !ok {
			return nil, parseErr("bad device in blkio line %q", line)
		}
		v, ok := atou(f[2])
		if !ok {
			return nil, parseErr("bad value in blkio line %q", line)
		}
		op := -1
		switch string(f[1]) {
		case "Read":
			op = opRead
		case "Write":
			op = opWrite
		case "Discard":
			op = opDiscard
		}
		if out[k] == nil {
			out[k] = new([3]uint64)
		}
		if op >= 0 {
			out[k][op] = v
		}
	}
	return out, nil
}

// mergeBlkio combines io_service_bytes and io_serviced into DeviceIO values.
func mergeBlkio(bytesOps, countOps blkioOps) []DeviceIO {
	m := make(map[devKey]*DeviceIO)
	for k, ops := range bytesOps {
		d := deviceFor(m, k)
		d.ReadBytes, d.WriteBytes, d.DiscardBytes = ops[opRead], ops[opWrite], ops[opDiscard]
	}
	for k, ops := range countOps {
		d := deviceFor(m, k)
		d.ReadIOs, d.WriteIOs, d.DiscardIOs = ops[opRead], ops[opWrite], ops[opDiscard]
	}
	return sortedDevices(m)
}

// parseUsageAll parses v1 cpuacct.usage_all ("cpu user system" header, then
// one line per CPU in nanoseconds) and returns the sums.
func parseUsageAll(data []byte) (user, system uint64, err error) {
	first := true
	var buf [3][]byte
	for raw := range bytes.Lines(data) {
		line := bytes.TrimSpace(raw)
		if len(line) == 0 {
			continue
		}
		f, ok := fields(line, buf[:])
		if first {
			first = false
			if ok && len(f) == 3 && string(f[0]) == "cpu" {
				continue
			}
			return 0, 0, parseErr("want header \"cpu user system\", got %q", line)
		}
		if !ok || len(f) != 3 {
			return 0, 0, parseErr("want \"cpu user system\" columns, got %q", line)
		}
		if c, ok := atou(f[0]); !ok || c > math.MaxUint32 {
			return 0, 0, parseErr("bad cpu number in %q", line)
		}
		u, ok1 := atou(f[1])
		s, ok2 := atou(f[2])
		if !ok1 || !ok2 {
			return 0, 0, parseErr("bad value in %q", line)
		}
		user = satAdd(user, u)
		system = satAdd(system, s)
	}
	if first {
		return 0, 0, parseErr("empty cpuacct.usage_all")
	}
	return user, system, nil
}

// parseSlabinfo estimates slab memory from v1 memory.kmem.slabinfo
// (slabinfo 2.1 format: "name active_objs num_objs objsize objperslab
// pagesperslab : tunables ... : slabdata active_slabs num_slabs shared").
//
// Heuristic: a cache uses num_slabs*pagesperslab pages of pageSize bytes.
// The file does not say which caches are reclaimable (SLAB_RECLAIM_ACCOUNT is
// not exported), so caches the kernel creates reclaimable and that dominate
// real workloads are counted as reclaimable by name: dentry, inode caches
// ("*inode*"), radix_tree_node, xfs_buf/xfs_ili and buffer_head; everything
// else is unreclaimable. Since kernel 5.9 the file is empty; then ok is false
// and no slab keys are reported.
func parseSlabinfo(data []byte, pageSize uint64) (total, reclaimable uint64, ok bool, err error) {
	// bytes.Lines, not a bufio.Scanner: no 4 kB buffer per call.
	for raw := range bytes.Lines(data) {
		line := strings.TrimSpace(string(raw))
		if line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, "slabinfo -") {
			continue
		}
		head, slabdata, found := strings.Cut(line, ": slabdata")
		f := strings.Fields(head)
		sd := strings.Fields(slabdata)
		if !found || len(f) < 6 || len(sd) < 2 {
			return 0, 0, false, parseErr("bad slabinfo line %q", line)
		}
		pps, err1 := strconv.ParseUint(f[5], 10, 32)
		slabs, err2 := strconv.ParseUint(sd[1], 10, 64)
		if err1 != nil || err2 != nil {
			return 0, 0, false, parseErr("bad slabinfo numbers in %q", line)
		}
		b := satMul(satMul(slabs, pps), pageSize)
		total = satAdd(total, b)
		if reclaimableCache(f[0]) {
			reclaimable = satAdd(reclaimable, b)
		}
		ok = true
	}
	return total, reclaimable, ok, nil
}

func reclaimableCache(name string) bool {
	switch name {
	case "dentry", "radix_tree_node", "buffer_head", "xfs_buf", "xfs_ili":
		return true
	}
	return strings.Contains(name, "inode")
}

// v1StatNames maps v1 memory.stat hierarchical keys (without "total_") to
// their cgroup v2 names; keys not listed keep their v1 name.
var v1StatNames = map[string]string{
	"cache":       "file",
	"rss":         "anon",
	"rss_huge":    "anon_thp",
	"mapped_file": "file_mapped",
	"dirty":       "file_dirty",
	"writeback":   "file_writeback",
}

// renameV1Stat keeps the hierarchical total_* keys of a v1 memory.stat and
// renames them to v2 names (see Memory.Stat).
func renameV1Stat(v1 map[string]uint64) map[string]uint64 {
	out := make(map[string]uint64, len(v1)/2+1) // the total_* half
	for k, v := range v1 {
		name, ok := strings.CutPrefix(k, "total_")
		if !ok {
			continue
		}
		if v2, ok := v1StatNames[name]; ok {
			name = v2
		}
		out[name] = v
	}
	return out
}

// parsePIDList parses cgroup.procs, tasks or cgroup.threads into sorted PIDs.
func parsePIDList(data []byte) ([]int, error) {
	pids := []int{}
	for f := range strings.FieldsSeq(string(data)) {
		p, err := strconv.Atoi(f)
		if err != nil || p <= 0 {
			return nil, parseErr("bad pid %q", f)
		}
		pids = append(pids, p)
	}
	slices.Sort(pids)
	return pids, nil
}

func satAdd(a, b uint64) uint64 {
	if a > math.MaxUint64-b {
		return math.MaxUint64
	}
	return a + b
}

func satMul(a, b uint64) uint64 {
	if a != 0 && b > math.MaxUint64/a {
		return math.MaxUint64
	}
	return a * b
}
