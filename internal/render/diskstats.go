package render

import (
	"fmt"
	"io"
	"strconv"
)

// Diskstats renders /proc/diskstats (Documentation/admin-guide/iostats.rst):
// one line per device of in.Cgroup.IO.Devices with any non-zero counter, in
// the cgroup's (major, minor) order, named as the host's /proc/diskstats names
// it, or "dev<major>-<minor>" when the host file does not list the device.
//
// The cgroup counts bytes and completed I/Os only: sectors are bytes/512,
// reads/writes/discards completed are the cgroup's I/O counts, and merges,
// ticks, I/Os in flight, io_ticks, weighted ticks and the flush columns are 0
// (tools then show 0 % utilisation and 0 ms waits). No device yields an empty
// file, as the kernel's is with no block devices.
func Diskstats(w io.Writer, in *Input) error {
	if in.Cgroup == nil {
		return write(w, nil, "diskstats")
	}
	var b []byte
	for _, d := range in.Cgroup.IO.Devices {
		if d.ReadBytes|d.WriteBytes|d.DiscardBytes|d.ReadIOs|d.WriteIOs|d.DiscardIOs == 0 {
			continue
		}
		b = appendUintWidth(b, uint64(d.Major), 4)
		b = append(b, ' ')
		b = appendUintWidth(b, uint64(d.Minor), 7)
		b = append(b, ' ')
		b = append(b, diskName(in, d.Major, d.Minor)...)
		for _, v := range [...]uint64{
			d.ReadIOs, 0, d.ReadBytes / 512, 0,
			d.WriteIOs, 0, d.WriteBytes / 512, 0,
			0, 0, 0,
			d.DiscardIOs, 0, d.DiscardBytes / 512, 0,
			0, 0,
		} {
			b = append(b, ' ')
			b = strconv.AppendUint(b, v, 10)
		}
		b = append(b, '\n')
	}
	return write(w, b, "diskstats")
}

func diskName(in *Input, major, minor uint32) string {
	if in.Host != nil {
		for _, d := range in.Host.Disks {
			if d.Major == major && d.Minor == minor {
				return d.Name
			}
		}
	}
	return fmt.Sprintf("dev%d-%d", major, minor)
}
