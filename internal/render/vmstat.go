package render

import (
	"fmt"
	"io"
	"strconv"
)

// vmstatSameName are /proc/vmstat event counters that memory.stat (v2 names,
// as cgroupstats delivers them on both versions) counts under the same name
// for the cgroup.
var vmstatSameName = map[string]bool{
	"pgfault": true, "pgmajfault": true, "pgactivate": true, "pgdeactivate": true,
	"pgrefill": true, "pglazyfree": true, "pglazyfreed": true,
	"pgscan_kswapd": true, "pgscan_direct": true, "pgscan_khugepaged": true, "pgscan_proactive": true,
	"pgsteal_kswapd": true, "pgsteal_direct": true, "pgsteal_khugepaged": true, "pgsteal_proactive": true,
	"pgscan_anon": true, "pgscan_file": true, "pgsteal_anon": true, "pgsteal_file": true,
	"pswpin": true, "pswpout": true,
	"workingset_nodes":        true,
	"workingset_refault_anon": true, "workingset_refault_file": true,
	"workingset_activate_anon": true, "workingset_activate_file": true,
	"workingset_restore_anon": true, "workingset_restore_file": true,
	"workingset_nodereclaim": true,
	"thp_fault_alloc":        true, "thp_collapse_alloc": true, "thp_swpout": true, "thp_swpout_fallback": true,
	"zswpin": true, "zswpout": true, "zswpwb": true,
	"pgdemote_kswapd": true, "pgdemote_direct": true, "pgdemote_khugepaged": true, "pgdemote_proactive": true,
	"pgpromote_success": true,
}

// vmstatPages are /proc/vmstat gauges in pages and the memory.stat key (bytes)
// they come from.
var vmstatPages = map[string]string{
	"nr_inactive_anon": "inactive_anon", "nr_zone_inactive_anon": "inactive_anon",
	"nr_active_anon": "active_anon", "nr_zone_active_anon": "active_anon",
	"nr_inactive_file": "inactive_file", "nr_zone_inactive_file": "inactive_file",
	"nr_active_file": "active_file", "nr_zone_active_file": "active_file",
	"nr_unevictable": "unevictable", "nr_zone_unevictable": "unevictable",
	"nr_slab_reclaimable": "slab_reclaimable", "nr_slab_unreclaimable": "slab_unreclaimable",
	"nr_anon_pages": "anon", "nr_mapped": "file_mapped", "nr_file_pages": "file",
	"nr_dirty": "file_dirty", "nr_writeback": "file_writeback", "nr_shmem": "shmem",
	"nr_page_table_pages": "pagetables", "nr_sec_page_table_pages": "sec_pagetables",
	"nr_swapcached": "swapcached",
}

// vmstatHugePages are gauges the kernel prints in huge pages (its
// vmstat_item_print_in_thp) and their memory.stat key.
var vmstatHugePages = map[string]string{
	"nr_anon_transparent_hugepages": "anon_thp",
	"nr_shmem_hugepages":            "shmem_thp",
	"nr_file_hugepages":             "file_thp",
}

// vmstatFallbackKeys is the key order used when the host snapshot has no
// vmstat lines.
var vmstatFallbackKeys = []string{
	"nr_free_pages", "nr_inactive_anon", "nr_active_anon", "nr_inactive_file", "nr_active_file",
	"nr_unevictable", "nr_slab_reclaimable", "nr_slab_unreclaimable", "nr_anon_pages", "nr_mapped",
	"nr_file_pages", "nr_dirty", "nr_writeback", "nr_shmem", "nr_kernel_stack", "nr_page_table_pages",
	"pgpgin", "pgpgout", "pswpin", "pswpout", "pgactivate", "pgdeactivate", "pgfault", "pgmajfault",
	"oom_kill",
}

// Vmstat renders /proc/vmstat: the host's keys in the host's order, each with
// the container's value where the cgroup has one and 0 otherwise (a host-wide
// counter next to container gauges would make tools such as `vmstat` mix the
// two). Without a memory controller the host's values are kept, as meminfo
// does.
//
//   - nr_* page gauges: the memory.stat byte counter / page size;
//     nr_free_pages from meminfo's MemFree; nr_mlock from meminfo's Mlocked;
//     nr_zone_write_pending = nr_dirty + nr_writeback; nr_kernel_stack in kB;
//     *_hugepages in huge pages (Hugepagesize).
//   - event counters with the same name in memory.stat (pgfault, pgmajfault,
//     pgscan*, pgsteal*, workingset_*, pswpin/out, ...): copied.
//   - pgpgin/pgpgout: kB read/written by the cgroup on block devices (sum of
//     io bytes / 1024), the kernel's meaning that `vmstat` shows as bi/bo.
//     Deviation from memory.stat: v1's pgpgin/pgpgout count page charge
//     events, not I/O, and would make bi/bo report memory charging.
//   - oom_kill: memory.events oom_kill.
func Vmstat(w io.Writer, in *Input) error {
	if in.Host == nil {
		return fmt.Errorf("render vmstat: %w", errNoHost)
	}
	m := newMemView(in)
	page := uint64(in.pageSize())
	huge := hostKB(in, "Hugepagesize") * 1024
	if huge == 0 {
		huge = 2 << 20
	}
	b := scratch(w, 32*max(len(in.Host.Vmstat), len(vmstatFallbackKeys)))
	line := func(key string, v uint64) {
		b = append(b, key...)
		b = append(b, ' ')
		b = strconv.AppendUint(b, v, 10)
		b = append(b, '\n')
	}
	if len(in.Host.Vmstat) == 0 {
		for _, k := range vmstatFallbackKeys {
			line(k, vmstatValue(in, &m, k, 0, page, huge))
		}
	}
	for _, l := range in.Host.Vmstat {
		v := l.Value
		if m.present {
			v = vmstatValue(in, &m, l.Key, v, page, huge)
		}
		line(l.Key, v)
	}
	return write(w, b, "vmstat")
}

func vmstatValue(in *Input, m *memView, key string, host, page, huge uint64) uint64 {
	if vmstatSameName[key] {
		return m.s(key)
	}
	if k, ok := vmstatPages[key]; ok {
		return m.s(k) / page
	}
	if k, ok := vmstatHugePages[key]; ok {
		return m.s(k) / huge
	}
	switch key {
	case "nr_free_pages":
		return m.free / page
	case "nr_mlock":
		return m.meminfoValue(in, "Mlocked", hostKB(in, "Mlocked")) * 1024 / page
	case "nr_zone_write_pending":
		return (m.s("file_dirty") + m.s("file_writeback")) / page
	case "nr_kernel_stack":
		return m.s("kernel_stack") / 1024
	case "pgpgin", "pgpgout":
		var sum uint64
		if in.Cgroup != nil {
			for _, d := range in.Cgroup.IO.Devices {
				if key == "pgpgin" {
					sum += d.ReadBytes
				} else {
					sum += d.WriteBytes
				}
			}
		}
		return sum / 1024
	case "oom_kill":
		if in.Cgroup != nil {
			return in.Cgroup.Memory.Events["oom_kill"]
		}
	}
	return 0
}
