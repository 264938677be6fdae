package render

import (
	"strings"

	"github.com/procview/procview/internal/layout"
)

// View is one synthesized file: how to render it, where it goes in the
// container, and how it keeps a constant length across refreshes.
type View struct {
	// Name is the view's name in the configuration (config.AllViews).
	Name string
	// Target is the path the file is mounted over in the container.
	Target string
	// Render produces the file's content.
	Render Func
	// Layout is how the daemon keeps the file's length constant.
	Layout layout.Spec
}

// views is in config.AllViews order. Layout choices (docs/views.md):
// MinNumWidth pre-sizes slots of counters that grow for the container's
// whole life (ticks, PSI totals, page events) so they rarely widen the
// file; Slack leaves room for growth and new lines.
var views = []View{
	{"meminfo", "/proc/meminfo", Meminfo,
		// Values are already right-aligned in 8 columns.
		layout.Spec{Mode: layout.Aligned, Slack: 64}},
	{"cpuinfo", "/proc/cpuinfo", CPUInfo,
		// "key\t: value" is parsed by splitting at ": ", so values are never
		// padded; only the file is (cpu MHz changes length on real hardware).
		layout.Spec{Mode: layout.Aligned, Select: layout.SelectNone, Slack: 64}},
	{"stat", "/proc/stat", Stat,
		layout.Spec{Mode: layout.Aligned, MinNumWidth: 8, Slack: 128}},
	{"uptime", "/proc/uptime", Uptime,
		layout.Spec{Mode: layout.Aligned, MinNumWidth: 10, Slack: 16}},
	{"loadavg", "/proc/loadavg", Loadavg,
		layout.Spec{Mode: layout.Aligned, MinNumWidth: 5, Slack: 16}},
	{"diskstats", "/proc/diskstats", Diskstats,
		// Room for about two more devices before the file grows.
		layout.Spec{Mode: layout.Aligned, MinNumWidth: 6, Slack: 256}},
	{"swaps", "/proc/swaps", Swaps,
		// Room for the "none virtual" line when swap appears.
		layout.Spec{Mode: layout.Aligned, Slack: 128}},
	{"vmstat", "/proc/vmstat", Vmstat,
		layout.Spec{Mode: layout.Aligned, MinNumWidth: 4, Slack: 512}},
	{"pressure/cpu", "/proc/pressure/cpu", PressureCPU,
		layout.Spec{Mode: layout.Aligned, Slack: 64}},
	{"pressure/memory", "/proc/pressure/memory", PressureMemory,
		layout.Spec{Mode: layout.Aligned, Slack: 64}},
	{"pressure/io", "/proc/pressure/io", PressureIO,
		layout.Spec{Mode: layout.Aligned, Slack: 64}},
	{"online", "/sys/devices/system/cpu/online", Online,
		// glibc's get_nprocs rejects "0-1 \n" and falls back to counting
		// /proc/stat lines, so the file is never padded.
		layout.Spec{Mode: layout.Exact}},
	{"possible", "/sys/devices/system/cpu/possible", Possible, layout.Spec{Mode: layout.Exact}},
	{"present", "/sys/devices/system/cpu/present", Present, layout.Spec{Mode: layout.Exact}},
}

// Views returns every view in config.AllViews order.
func Views() []View {
	return append([]View(nil), views...)
}

// Lookup finds a view by name ("meminfo", "pressure/cpu", "online") or by
// target path ("/proc/meminfo", "/sys/devices/system/cpu/online"; the
// leading slash is optional). Per-device block stat views are found by name
// only ("block/8:0"); their Target is empty.
func Lookup(nameOrPath string) (View, bool) {
	if v, ok := blockStatView(nameOrPath); ok {
		return v, true
	}
	p := "/" + strings.TrimPrefix(nameOrPath, "/")
	for _, v := range views {
		if v.Name == nameOrPath || v.Target == p {
			return v, true
		}
	}
	return View{}, false
}
