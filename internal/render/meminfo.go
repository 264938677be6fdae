package render

import (
	"fmt"
	"io"
	"math/bits"

	"github.com/procview/procview/internal/cgroupstats"
)

// memView is the container's memory picture in bytes. meminfo, vmstat and
// swaps all derive from it so the three files agree.
type memView struct {
	present bool // the cgroup has a memory controller
	stat    map[string]uint64

	total, free, avail  uint64
	swapTotal, swapFree uint64
	swapUsed            uint64
}

// hostKB returns a host meminfo value (kB, or a count for HugePages_*).
func hostKB(in *Input, key string) uint64 {
	v, _ := in.Host.Meminfo.Get(key)
	return v
}

// hostSwapTotal is the host's swap in bytes.
func hostSwapTotal(in *Input) uint64 {
	if v, ok := in.Host.Meminfo.Get("SwapTotal"); ok {
		return v * 1024
	}
	return in.Host.SwapTotal
}

func newMemView(in *Input) memView {
	hostTotal := hostKB(in, "MemTotal") * 1024
	var cg *cgroupstats.Memory
	if in.Cgroup != nil && in.Cgroup.Memory.Present {
		cg = &in.Cgroup.Memory
	}
	if cg == nil {
		// No memory controller: the host's own numbers.
		m := memView{
			total:     hostTotal,
			free:      hostKB(in, "MemFree") * 1024,
			avail:     hostKB(in, "MemAvailable") * 1024,
			swapTotal: hostSwapTotal(in),
			swapFree:  hostKB(in, "SwapFree") * 1024,
		}
		m.swapUsed = sub(m.swapTotal, m.swapFree)
		return m
	}
	m := memView{present: true, stat: cg.Stat, total: hostTotal}
	// A limit of 0 is treated as no limit: MemTotal 0 makes procps divide
	// by zero (lxcfs#334), and a cgroup that may hold no memory has no
	// processes to read the file.
	if cg.Limit != cgroupstats.Unlimited && cg.Limit > 0 && cg.Limit < m.total {
		m.total = cg.Limit
	}
	m.free = sub(m.total, cg.Usage)
	// Shmem/tmpfs pages sit on the anon LRU (they are swap-backed), so the
	// file LRU counts below never include them: tmpfs data is not
	// reported as available.
	m.avail = min(m.free+m.s("active_file")+m.s("inactive_file")+m.s("slab_reclaimable"), m.total)
	if cg.SwapAccounting {
		m.swapTotal = min(cg.SwapLimit, hostSwapTotal(in))
		m.swapUsed = min(cg.SwapUsage, m.swapTotal)
		m.swapFree = sub(m.swapTotal, cg.SwapUsage)
	}
	return m
}

// s is a memory.stat value; missing keys are 0.
func (m *memView) s(key string) uint64 { return m.stat[key] }

// sub is a - b clamped at 0.
func sub(a, b uint64) uint64 {
	if a < b {
		return 0
	}
	return a - b
}

// mulDiv is a*b/c without overflow (c > 0; a result that does not fit
// saturates).
func mulDiv(a, b, c uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	if hi >= c {
		return ^uint64(0)
	}
	q, _ := bits.Div64(hi, lo, c)
	return q
}

// meminfoValue returns the container's value for one meminfo line, given
// the host's. Values are in kB except HugePages_*, which are counts and are
// kept from the host. docs/views.md lists every formula.
func (m *memView) meminfoValue(in *Input, key string, host uint64) uint64 {
	kb := func(b uint64) uint64 { return b / 1024 }
	// statOr is for lines the kernel has a cgroup counter for only on some
	// versions: the counter when memory.stat has it, else the host's line.
	statOr := func(k string) uint64 {
		if v, ok := m.stat[k]; ok {
			return kb(v)
		}
		return host
	}
	switch key {
	case "MemTotal":
		return kb(m.total)
	case "MemFree":
		return kb(m.free)
	case "MemAvailable":
		return kb(m.avail)
	case "Buffers":
		// The cgroup has no buffer-cache counter; block-device pages are in
		// file (Cached).
		return 0
	case "Cached":
		return kb(m.s("file"))
	case "SwapCached":
		return kb(m.s("swapcached"))
	case "Active":
		return kb(m.s("active_anon") + m.s("active_file"))
	case "Inactive":
		return kb(m.s("inactive_anon") + m.s("inactive_file"))
	case "Active(anon)":
		return kb(m.s("active_anon"))
	case "Inactive(anon)":
		return kb(m.s("inactive_anon"))
	case "Active(file)":
		return kb(m.s("active_file"))
	case "Inactive(file)":
		return kb(m.s("inactive_file"))
	case "Unevictable":
		return kb(m.s("unevictable"))
	case "Mlocked":
		// No cgroup counter; mlocked pages live on the unevictable LRU,
		// so the host value is capped by the container's Unevictable.
		return min(host, kb(m.s("unevictable")))
	case "SwapTotal":
		return kb(m.swapTotal)
	case "SwapFree":
		return kb(m.swapFree)
	case "Zswap":
		return statOr("zswap")
	case "Zswapped":
		return statOr("zswapped")
	case "Dirty":
		return kb(m.s("file_dirty"))
	case "Writeback":
		return kb(m.s("file_writeback"))
	case "AnonPages":
		return kb(m.s("anon"))
	case "Mapped":
		return kb(m.s("file_mapped"))
	case "Shmem":
		return kb(m.s("shmem"))
	case "KReclaimable":
		// The host's KReclaimable can exceed the container's whole usage;
		// reclaimable slab is the part the cgroup accounts.
		return kb(m.s("slab_reclaimable"))
	case "Slab":
		if v, ok := m.stat["slab"]; ok {
			return kb(v)
		}
		return kb(m.s("slab_reclaimable") + m.s("slab_unreclaimable"))
	case "SReclaimable":
		return kb(m.s("slab_reclaimable"))
	case "SUnreclaim":
		return kb(m.s("slab_unreclaimable"))
	case "KernelStack":
		return statOr("kernel_stack")
	case "PageTables":
		return statOr("pagetables")
	case "SecPageTables":
		return statOr("sec_pagetables")
	case "Percpu":
		return statOr("percpu")
	case "VmallocUsed":
		return statOr("vmalloc")
	case "AnonHugePages":
		return kb(m.s("anon_thp"))
	case "ShmemHugePages":
		return kb(m.s("shmem_thp"))
	case "FileHugePages":
		return kb(m.s("file_thp"))
	case "ShmemPmdMapped", "FilePmdMapped":
		// No cgroup counter; a subset of the huge pages above.
		return 0
	case "CommitLimit":
		// The host's overcommit ratio applied to the container:
		// (host CommitLimit - host swap) scaled by MemTotal/host MemTotal,
		// plus the container's swap.
		hostTotal := hostKB(in, "MemTotal")
		if hostTotal == 0 {
			return host
		}
		ratioPart := sub(host, kb(hostSwapTotal(in)))
		return mulDiv(ratioPart, kb(m.total), hostTotal) + kb(m.swapTotal)
	}
	return host
}

// appendMeminfoLine formats one line as the kernel does: the label padded
// to 16 columns and the value right-aligned to end in column 24
// ("%-16s%8lu kB"); labels of 16 or more characters get one space and the
// remaining width (HugePages_Total:, HardwareCorrupted:).
func appendMeminfoLine(b []byte, key string, v uint64, kB bool) []byte {
	b = append(b, key...)
	b = append(b, ':')
	n := len(key) + 1
	width := 8
	if n < 16 {
		for ; n < 16; n++ {
			b = append(b, ' ')
		}
	} else {
		b = append(b, ' ')
		width = max(24-n-1, 1)
	}
	b = appendUintWidth(b, v, width)
	if kB {
		b = append(b, " kB"...)
	}
	return append(b, '\n')
}

// Meminfo renders /proc/meminfo (Documentation/filesystems/proc.rst,
// "meminfo"): the host's lines in the host's order, with every line that
// has a container meaning recomputed from the cgroup (see memView and
// docs/views.md). Without a memory controller the host's values are kept.
func Meminfo(w io.Writer, in *Input) error {
	if in.Host == nil {
		return fmt.Errorf("render meminfo: %w", errNoHost)
	}
	lines := in.Host.Meminfo.Lines
	if len(lines) == 0 {
		return fmt.Errorf("render meminfo: host meminfo is empty")
	}
	m := newMemView(in)
	b := scratch(w, 32*len(lines))
	for _, l := range lines {
		v := l.Value
		if m.present {
			v = m.meminfoValue(in, l.Key, v)
		}
		b = appendMeminfoLine(b, l.Key, v, l.KB)
	}
	return write(w, b, "meminfo")
}
