package hook

import (
	"github.com/sirupsen/logrus"

	"github.com/procview/procview/internal/config"
	"github.com/procview/procview/internal/state"
)

// hostUptime decides whether the container's uptime and btime views show the
// host's (true) or the container's age: the annotation io.procview.uptime,
// else the configured uptime mode. With a time namespace the kernel's own
// clocks there count from the container's start, so its age is the only view
// that agrees with them.
func hostUptime(log logrus.FieldLogger, cfg config.Config, ann map[string]string, timeNamespace bool) bool {
	mode := cfg.Uptime
	if v, ok := ann[config.AnnotationUptime]; ok {
		if config.ValidUptime(v) {
			mode = v
		} else {
			log.WithField("value", v).Warnf("ignoring annotation %s: not auto, container or host", config.AnnotationUptime)
		}
	}
	return !config.ContainerAge(mode, timeNamespace)
}

// mountView says whether view name is bound into the container. /proc/uptime
// is not when the kernel's already counts from the boot the process start
// times count from (host uptime, or a time namespace): the kernel's file is
// live, while a view is up to one refresh old, and a process started since
// then would look younger than zero (ps ELAPSED wraps). The view file is
// still rendered (procview render, the state root).
func mountView(meta *state.Meta, name string) bool {
	return name != "uptime" || !(meta.HostUptime || meta.TimeNamespace)
}
