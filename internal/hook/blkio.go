package hook

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"

	"github.com/sirupsen/logrus"

	"github.com/procview/procview/internal/cgroupstats"
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
func activateBlkio(log logrus.FieldLogger, cgroupRoot, sysRoot string, mode cgroupstats.Mode, loc cgroupstats.Location) {
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
	devs, _ := filepath.Glob(filepath.Join(sysRoot, "block", "*", "dev"))
	for _, d := range devs {
		b, err := os.ReadFile(d)
		if err != nil {
			continue
		}
		mm := string(bytes.TrimSpace(b))
		if hasRule(rules, mm) {
			continue
		}
		if err := os.WriteFile(file, []byte(mm+" 0\n"), 0); err != nil {
			log.WithError(err).WithField("device", mm).Debug("blkio activation failed")
		}
	}
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
