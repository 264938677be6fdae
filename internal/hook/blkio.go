package hook

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/sirupsen/logrus"

	"github.com/procview/procview/internal/cgroupstats"
	"github.com/procview/procview/internal/hoststats"
)

// activateBlkio makes cgroup v1 count the container's block I/O.
//
// Since Linux 6.10, blk-throttle is set up per request queue on its first
// configuration, and until then v1 blkio.throttle.io_service_bytes counts
// nothing for that device (verified on 6.18: a fresh loop device showed no
// writes until "7:0 0" was written to blkio.throttle.write_bps_device).
// Writing "MAJ:MIN 0" — no limit — for every block device that has no rule
// yet in the container's cgroup sets it up without limiting anything. A
// device that already has a rule is left alone, so no limit is ever changed.
//
// The devices are the whole disks of the host's /proc/diskstats (already
// read for the views) that /sys/block lists: one directory read instead of
// a read of every /sys/block/*/dev on each container start.
func activateBlkio(log logrus.FieldLogger, cgroupRoot, sysRoot string, mode cgroupstats.Mode, loc cgroupstats.Location, disks []hoststats.DiskStat) {
	if mode == cgroupstats.ModeV2 {
		return
	}
	rel, ok := loc.V1["blkio"]
	if !ok {
		return
	}
	hier := ""
	ents, err := os.ReadDir(cgroupRoot)
	if err != nil {
		return
	}
	for _, e := range ents {
		for _, c := range strings.Split(e.Name(), ",") {
			if c == "blkio" && e.IsDir() {
				hier = e.Name()
			}
		}
	}
	if hier == "" || strings.Contains(rel, "..") {
		return
	}
	file := filepath.Join(cgroupRoot, hier, rel, "blkio.throttle.write_bps_device")
	rules, err := os.ReadFile(file)
	if err != nil {
		log.WithError(err).Debug("blkio activation skipped")
		return
	}
	ents, err = os.ReadDir(filepath.Join(sysRoot, "block"))
	if err != nil {
		log.WithError(err).Debug("blkio activation skipped")
		return
	}
	names := make([]string, 0, len(ents))
	for _, e := range ents {
		names = append(names, e.Name())
	}
	// One open for every rule: cgroupfs parses each write(2) on its own.
	f, err := os.OpenFile(file, os.O_WRONLY, 0)
	if err != nil {
		log.WithError(err).Debug("blkio activation skipped")
		return
	}
	defer f.Close()
	for _, mm := range wholeDisks(disks, names) {
		if hasRule(rules, mm) {
			continue
		}
		if _, err := f.Write([]byte(mm + " 0\n")); err != nil {
			log.WithError(err).WithField("device", mm).Debug("blkio activation failed")
		}
	}
}

// wholeDisks returns "MAJ:MIN" of each disk in diskstats that is a whole
// disk, i.e. listed in /sys/block (blk-throttle takes no partitions). sysfs
// spells a '/' in a disk name as '!'.
func wholeDisks(disks []hoststats.DiskStat, sysBlock []string) []string {
	var out []string
	for _, d := range disks {
		if slices.Contains(sysBlock, strings.ReplaceAll(d.Name, "/", "!")) {
			out = append(out, fmt.Sprintf("%d:%d", d.Major, d.Minor))
		}
	}
	return out
}

// hasRule reports whether a throttle file lists device "MAJ:MIN".
func hasRule(rules []byte, mm string) bool {
	for _, l := range bytes.Split(rules, []byte{'\n'}) {
		if f := bytes.Fields(l); len(f) > 0 && string(f[0]) == mm {
			return true
		}
	}
	return false
}
