package render

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/procview/procview/internal/layout"
)

// BlockStatPrefix starts the names of the per-device sysfs stat views,
// "block/<major>:<minor>": /sys/block/<dev>/stat and the partitions'
// /sys/block/<dev>/<part>/stat, which iostat, sar -d and psutil-free tools
// read instead of /proc/diskstats. Their targets depend on the host's
// devices, so the hook resolves them (the registry has no fixed path).
const BlockStatPrefix = "block/"

// blockStatLayout: the kernel pads every column to 8; counters that pass
// 8 digits widen their slot once.
var blockStatLayout = layout.Spec{Mode: layout.Aligned, MinNumWidth: 8, Slack: 32}

// BlockStatName is the view name of device major:minor.
func BlockStatName(major, minor uint32) string {
	return BlockStatPrefix + strconv.FormatUint(uint64(major), 10) + ":" + strconv.FormatUint(uint64(minor), 10)
}

// blockStatView parses a BlockStatPrefix name.
func blockStatView(name string) (View, bool) {
	rest, ok := strings.CutPrefix(name, BlockStatPrefix)
	if !ok {
		return View{}, false
	}
	ma, mi, ok := strings.Cut(rest, ":")
	if !ok {
		return View{}, false
	}
	major, err1 := strconv.ParseUint(ma, 10, 32)
	minor, err2 := strconv.ParseUint(mi, 10, 32)
	if err1 != nil || err2 != nil || BlockStatName(uint32(major), uint32(minor)) != name {
		return View{}, false
	}
	return View{Name: name, Render: BlockStat(uint32(major), uint32(minor)), Layout: blockStatLayout}, true
}

// BlockStat renders sysfs's block stat file for device major:minor
// (Documentation/block/stat.rst, the kernel's part_stat_show: 17 columns of
// width 8) from the cgroup's counters for that device: reads, sectors read
// (bytes/512), writes, sectors written, discards and sectors discarded;
// merges, ticks, in-flight, io_ticks, time in queue and flushes are 0, as in
// the diskstats view. A device the container never touched (or a partition:
// cgroups count whole disks) is all zeros, which iostat leaves out.
func BlockStat(major, minor uint32) Func {
	return func(w io.Writer, in *Input) error {
		var r, rs, wr, ws, d, ds uint64
		if in.Cgroup != nil {
			for _, dev := range in.Cgroup.IO.Devices {
				if dev.Major == major && dev.Minor == minor {
					r, rs, wr, ws = dev.ReadIOs, dev.ReadBytes/512, dev.WriteIOs, dev.WriteBytes/512
					d, ds = dev.DiscardIOs, dev.DiscardBytes/512
				}
			}
		}
		b := scratch(w, 160)
		for i, v := range [...]uint64{r, 0, rs, 0, wr, 0, ws, 0, 0, 0, 0, d, 0, ds, 0, 0, 0} {
			if i > 0 {
				b = append(b, ' ')
			}
			b = appendUintWidth(b, v, 8)
		}
		b = append(b, '\n')
		if len(b) == 0 {
			return fmt.Errorf("render %s: empty", BlockStatName(major, minor))
		}
		return write(w, b, BlockStatName(major, minor))
	}
}
