package hook

import (
	"io/fs"
	"path/filepath"
	"strings"

	"github.com/sirupsen/logrus"

	"github.com/procview/procview/internal/cgroupstats"
	"github.com/procview/procview/internal/config"
	"github.com/procview/procview/internal/cpudir"
	"github.com/procview/procview/internal/cpuview"
	"github.com/procview/procview/internal/hoststats"
	"github.com/procview/procview/internal/mount"
	"github.com/procview/procview/internal/publish"
)

// mountCPUDir builds the container's /sys/devices/system/cpu (package
// cpudir) and binds it, with the host's cpuK and other directories inside,
// into the container. It returns binds without the file views the directory
// now holds. Fail-open: on any error the file binds stay as they were and
// the container keeps the host's directory with the online view over it.
func (h *Hook) mountCPUDir(log logrus.FieldLogger, pid int, rootfs string, set *publish.Set,
	cgFS fs.FS, mode cgroupstats.Mode, loc cgroupstats.Location, host *hoststats.Host, cpuView string, binds []mount.Bind) []mount.Bind {
	if !h.Cfg.ViewEnabled(config.ViewCPUDir) {
		return binds
	}
	log = log.WithField("view", config.ViewCPUDir)
	views := map[string]string{}
	for _, name := range cpudir.Linked {
		if set.Files[name] == nil {
			log.Debugf("view %s disabled; no cpu directory", name)
			return binds
		}
		views[name] = set.Path(name)
	}
	st, err := cgroupstats.Read(cgFS, mode, loc)
	if err != nil {
		log.WithError(err).Warn("no cpu directory: read cgroup")
		return binds
	}
	v := cpuview.Compute(st.CPU, host.Online, cpuview.Mode(cpuView))
	stash := st.CPU.Cpuset
	if len(stash) == 0 {
		stash = host.Online
	}
	d := cpudir.Dir(filepath.Join(set.Root.Dir(set.Key), cpudir.Name))
	sysCPU := filepath.Join(sysRoot(h.Cfg.ProcRoot), "devices/system/cpu")
	ents, err := cpudir.Build(d, sysCPU, stash, views)
	if err != nil {
		log.WithError(err).Warn("no cpu directory: build")
		return binds
	}
	tb := []mount.TreeBind{{Source: d.Visible(), Target: cpudir.Target}}
	for _, e := range ents {
		tb = append(tb, mount.TreeBind{Source: e.Source, Target: e.Target, Over: e.Placeholder})
	}
	res, err := mount.BindTreesInto(log, pid, rootfs, tb)
	if err != nil || len(res) == 0 || res[0].Status != mount.StatusMounted {
		if err == nil && len(res) > 0 {
			err = res[0].Err
		}
		log.WithError(err).Warn("no cpu directory: bind")
		return binds
	}
	if _, err := cpudir.Arrange(d, v.HostCPUs[:v.N]); err != nil {
		// The directory is mounted: a failed arrangement is retried by
		// the daemon's next refresh.
		log.WithError(err).Warn("cpu directory: arrange")
	}
	var out []mount.Bind
	for _, b := range binds {
		if !strings.HasPrefix(b.Target, cpudir.Target+"/") {
			out = append(out, b)
		}
	}
	return out
}
