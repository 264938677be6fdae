// Package config holds procview's configuration, shared by the wrapper, the
// hook, the daemon and the CLI: defaults in code, then /etc/procview/config.toml
// (or the file named by $PROCVIEW_CONFIG), then flags.
package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
)

// DefaultPath is where the config file lives unless $PROCVIEW_CONFIG names another.
const DefaultPath = "/etc/procview/config.toml"

// EnvPath names the environment variable that overrides DefaultPath.
const EnvPath = "PROCVIEW_CONFIG"

// Environment entries procview-runc sets on its hooks so that their
// warnings and errors also reach the caller's runc --log: runc records a
// hook's output only when the hook fails, which a fail-open hook never does.
const (
	EnvRuncLog       = "PROCVIEW_RUNC_LOG"
	EnvRuncLogFormat = "PROCVIEW_RUNC_LOG_FORMAT"
)

// Annotations understood on containers.
const (
	// AnnotationEnabled = "false" opts a container out of procview.
	AnnotationEnabled = "io.procview.enabled"
	// AnnotationCPUView overrides CPUView for one container ("quota" or "cpuset").
	AnnotationCPUView = "io.procview.cpu-view"
	// AnnotationSyscalls overrides Syscalls for one container: a comma- or
	// space-separated list ("sysinfo"), "" or "[]" or "none" for none.
	AnnotationSyscalls = "io.procview.syscalls"
	// AnnotationUptime overrides Uptime for one container ("auto",
	// "container" or "host").
	AnnotationUptime = "io.procview.uptime"
)

// AllSyscalls lists the system calls procview-agent can answer.
var AllSyscalls = []string{"sysinfo"}

// Fail modes.
const (
	FailOpen   = "open"
	FailClosed = "closed"
)

// CPU view modes.
const (
	CPUViewQuota  = "quota"  // n = min(|cpuset|, ceil(quota/period))
	CPUViewCpuset = "cpuset" // n = |cpuset|
)

// Uptime modes: what /proc/uptime and /proc/stat's btime count from when
// the container has no time namespace (with one, they always count from the
// container's start, as the kernel's own clocks there do).
const (
	// UptimeAuto is UptimeHost without a time namespace: the kernel's
	// per-process start times then count from the host's boot, and only
	// host uptime and btime keep ps, psutil and every process age right.
	UptimeAuto = "auto"
	// UptimeContainer shows the container's age even without a time
	// namespace, accepting future start times in ps and psutil.
	UptimeContainer = "container"
	// UptimeHost shows the host's uptime and btime.
	UptimeHost = "host"
)

// Config is the whole configuration.
type Config struct {
	// StateRoot holds one directory per container with its view files.
	StateRoot string `toml:"state_root"`
	// RefreshInterval is how often procviewd rewrites the views.
	RefreshInterval Duration `toml:"refresh_interval"`

	// RefreshMaxInterval is the longest a container's views go without a
	// full refresh while its usage counters do not move and nobody reads
	// them (docs/views.md, "Refresh"); at or below RefreshInterval every
	// container is refreshed fully every round.
	RefreshMaxInterval Duration `toml:"refresh_max_interval"`

	// CPUView is "quota" or "cpuset".
	CPUView string `toml:"cpu_view"`
	// Views lists the views to provide; empty means all.
	Views []string `toml:"views"`
	// FailMode is "open" (containers start even if procview fails) or "closed".
	FailMode string `toml:"fail_mode"`
	// LogLevel is a logrus level name.
	LogLevel string `toml:"log_level"`
	// LogFile receives the hook's and daemon's logs; the wrapper also writes
	// to runc's --log file.
	LogFile string `toml:"log_file"`
	// Runtime is the real runtime the wrapper execs; empty means "runc" from PATH.
	Runtime string `toml:"runtime"`
	// HookPath is the procview-hook binary put into specs; empty means the
	// procview-hook next to the wrapper binary.
	HookPath string `toml:"hook_path"`
	// DaemonPath is the procviewd binary the hook starts when none runs;
	// empty means procviewd next to the hook binary.
	DaemonPath string `toml:"daemon_path"`
	// CgroupRoot and ProcRoot are where the cgroup hierarchies and procfs are.
	CgroupRoot string `toml:"cgroup_root"`
	ProcRoot   string `toml:"proc_root"`
	// HookTimeout is the timeout (seconds) put on the hooks in the spec.
	HookTimeout int `toml:"hook_timeout"`
	// TimeNamespace puts containers in a time namespace whose boottime starts
	// at container start, when the runtime supports it ("auto", "off").
	TimeNamespace string `toml:"time_namespace"`
	// MetricsAddress is where procviewd serves Prometheus metrics
	// (host:port); empty disables them.
	MetricsAddress string `toml:"metrics_address"`
	// DockerRoot is dockerd's data-root and PodmanRoot containers/storage's
	// graph root: the registry names unmanaged containers from their files.
	DockerRoot string `toml:"docker_root"`
	PodmanRoot string `toml:"podman_root"`
	// Syscalls lists the system calls answered by procview-agent through
	// seccomp user notification (where the runtime and kernel support it);
	// empty turns it off.
	Syscalls []string `toml:"syscalls"`
	// AgentPath is the procview-agent binary procview-runc starts when its
	// socket does not accept; empty means procview-agent next to the wrapper.
	AgentPath string `toml:"agent_path"`
	// Uptime is UptimeAuto, UptimeContainer or UptimeHost
	// (docs/views.md, "Uptime and process times").
	Uptime string `toml:"uptime"`
}

// Duration is a time.Duration that reads "1s" from TOML.
type Duration struct{ time.Duration }

// UnmarshalText parses a Go duration string.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("parse duration %q: %w", b, err)
	}
	d.Duration = v
	return nil
}

// MarshalText formats the duration.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// Default returns the built-in configuration.
func Default() Config {
	return Config{
		StateRoot:          "/run/procview",
		RefreshInterval:    Duration{time.Second},
		CPUView:            CPUViewQuota,
		FailMode:           FailOpen,
		LogLevel:           "info",
		LogFile:            "/var/log/procview.log",
		CgroupRoot:         "/sys/fs/cgroup",
		ProcRoot:           "/proc",
		HookTimeout:        10,
		TimeNamespace:      "auto",
		MetricsAddress:     "127.0.0.1:9847",
		DockerRoot:         "/var/lib/docker",
		PodmanRoot:         "/var/lib/containers/storage",
		Syscalls:           []string{"sysinfo"},
		RefreshMaxInterval: Duration{30 * time.Second},
		Uptime:             UptimeAuto,
	}
}

// Path returns the config file path: $PROCVIEW_CONFIG or DefaultPath.
func Path() string {
	if p := os.Getenv(EnvPath); p != "" {
		return p
	}
	return DefaultPath
}

// Load reads the file at path over the defaults. A missing file is not an
// error: the defaults apply.
func Load(path string) (Config, error) {
	c := Default()
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return c, nil
	}
	if err != nil {
		return c, fmt.Errorf("read config: %w", err)
	}
	if err := Parse(b, &c); err != nil {
		return Default(), fmt.Errorf("config %s: %w", path, err)
	}
	return c, nil
}

// Parse decodes TOML over c and validates the result.
func Parse(b []byte, c *Config) error {
	md, err := toml.Decode(string(b), c)
	if err != nil {
		return fmt.Errorf("decode: %w", err)
	}
	if u := md.Undecoded(); len(u) > 0 {
		return fmt.Errorf("unknown key %q", u[0].String())
	}
	return c.Validate()
}

// AllViews lists every view name, in the order they are documented.
var AllViews = []string{
	"meminfo", "cpuinfo", "stat", "uptime", "loadavg", "diskstats", "swaps",
	"vmstat", "pressure/cpu", "pressure/memory", "pressure/io", "online",
	"possible", "present",
}

// Directory views: not single files of the render registry but trees the
// hook builds (docs/views.md). They are enabled and disabled in Views like
// the file views.
const (
	// ViewCPUDir is /sys/devices/system/cpu with only the visible CPUs.
	ViewCPUDir = "cpu-dir"
	// ViewBlockStat is /sys/block/<dev>/stat (and partitions') per device.
	ViewBlockStat = "block-stat"
)

// Validate checks values and fills what depends on others.
func (c *Config) Validate() error {
	if c.StateRoot == "" || c.StateRoot[0] != '/' {
		return fmt.Errorf("state_root must be an absolute path, got %q", c.StateRoot)
	}
	if c.RefreshInterval.Duration < 10*time.Millisecond {
		return fmt.Errorf("refresh_interval %s is below 10ms", c.RefreshInterval)
	}
	switch c.CPUView {
	case CPUViewQuota, CPUViewCpuset:
	default:
		return fmt.Errorf("cpu_view must be %q or %q, got %q", CPUViewQuota, CPUViewCpuset, c.CPUView)
	}
	switch c.FailMode {
	case FailOpen, FailClosed:
	default:
		return fmt.Errorf("fail_mode must be %q or %q, got %q", FailOpen, FailClosed, c.FailMode)
	}
	switch c.TimeNamespace {
	case "auto", "off":
	default:
		return fmt.Errorf("time_namespace must be \"auto\" or \"off\", got %q", c.TimeNamespace)
	}
	for _, v := range c.Syscalls {
		if !slices.Contains(AllSyscalls, v) {
			return fmt.Errorf("syscalls: %q is not one of %v", v, AllSyscalls)
		}
	}
	if !ValidUptime(c.Uptime) {
		return fmt.Errorf("uptime must be %q, %q or %q, got %q", UptimeAuto, UptimeContainer, UptimeHost, c.Uptime)
	}
	for _, v := range c.Views {
		if !isView(v) {
			return fmt.Errorf("unknown view %q", v)
		}
	}
	return nil
}

// ValidUptime reports whether s is an uptime mode.
func ValidUptime(s string) bool {
	return s == UptimeAuto || s == UptimeContainer || s == UptimeHost
}

// ContainerAge reports whether a container's uptime and btime count from its
// own start: always with a time namespace, else only in UptimeContainer mode.
func ContainerAge(mode string, timeNamespace bool) bool {
	return timeNamespace || mode == UptimeContainer
}

// ViewEnabled reports whether view name is configured.
func (c *Config) ViewEnabled(name string) bool {
	if len(c.Views) == 0 {
		return true
	}
	for _, v := range c.Views {
		if v == name {
			return true
		}
	}
	return false
}

func isView(name string) bool {
	if name == ViewCPUDir || name == ViewBlockStat {
		return true
	}
	for _, v := range AllViews {
		if v == name {
			return true
		}
	}
	return false
}

// ParseSyscalls reads an io.procview.syscalls annotation: names separated
// by commas or spaces, optionally in brackets and quotes; "", "[]" and
// "none" mean none. Unknown names are an error.
func ParseSyscalls(v string) ([]string, error) {
	v = strings.Trim(strings.TrimSpace(v), "[]")
	var out []string
	for _, f := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' || r == '"' || r == '\'' }) {
		if f == "none" {
			continue
		}
		if !slices.Contains(AllSyscalls, f) {
			return nil, fmt.Errorf("%s: %q is not one of %v", AnnotationSyscalls, f, AllSyscalls)
		}
		out = append(out, f)
	}
	return out, nil
}
