//go:build linux

package nsexec

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/procview/procview/internal/render"
)

// Cgroup placement modes.
const (
	CgroupContainer = "container"
	CgroupNone      = "none"
)

// DefaultNamespaces are joined unless Options.Namespaces says otherwise.
var DefaultNamespaces = []string{"net", "uts", "ipc", "pid", "cgroup"}

// nsFlags are the namespaces --ns accepts. The mount namespace is never
// joined (the tool needs the host's binaries; --root shows the container's
// files), the user namespace is never joined by root (see Run), and the
// time namespace, like the user one, admits only single-threaded joiners.
var nsFlags = map[string]int{
	"net":    unix.CLONE_NEWNET,
	"uts":    unix.CLONE_NEWUTS,
	"ipc":    unix.CLONE_NEWIPC,
	"pid":    unix.CLONE_NEWPID,
	"cgroup": unix.CLONE_NEWCGROUP,
}

// ParseNamespaces parses --ns: a comma-separated list of net, uts, ipc,
// pid, cgroup; "all" is all of them.
func ParseNamespaces(list string) ([]string, error) {
	var out []string
	for n := range strings.SplitSeq(list, ",") {
		n = strings.TrimSpace(n)
		switch {
		case n == "":
			continue
		case n == "all":
			out = append(out, DefaultNamespaces...)
		case nsFlags[n] != 0:
			out = append(out, n)
		case n == "mnt" || n == "mount" || n == "user" || n == "time":
			return nil, fmt.Errorf("--ns %s: the %s namespace is never joined (mnt: the tool runs from the host's filesystem, see --root and --etc; user, time: Go processes are multithreaded and the kernel admits only single-threaded joiners; root needs no user namespace)", n, n)
		default:
			return nil, fmt.Errorf("--ns: unknown namespace %q (net, uts, ipc, pid, cgroup)", n)
		}
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// Options is one `procview exec`.
type Options struct {
	Target Target
	// Namespaces to join (ParseNamespaces); nil means DefaultNamespaces.
	Namespaces []string
	// NoViews skips binding the container's views over the fresh /proc.
	NoViews bool
	// Cgroup is CgroupContainer (default) or CgroupNone.
	Cgroup string
	// Root, when set, is an existing directory where the container's root
	// filesystem appears read-only.
	Root string
	// Etc binds the container's resolv.conf, hosts, hostname, passwd and
	// group over the host's.
	Etc bool
	// Explain prints the plan instead of running.
	Explain bool
	// Force runs even when the container could ptrace the tool.
	Force bool
	// AsContainer would confine the tool like runc exec (not implemented).
	AsContainer bool
	// Args is the command and its arguments, looked up in the host's PATH.
	Args []string
	// Stdin, Stdout, Stderr default to the process's.
	Stdin, Stdout, Stderr *os.File
}

// EtcFiles are the files --etc binds from the container.
var EtcFiles = []string{"/etc/resolv.conf", "/etc/hosts", "/etc/hostname", "/etc/passwd", "/etc/group"}

// bind is a view file (or directory) bound over Target in the new mount
// namespace.
type bind struct {
	Source string `json:"source"`
	Target string `json:"target"`
}

// plan is what stage 2 does, sent to it as JSON.
type plan struct {
	// Proc: mount a fresh procfs on /proc (of the PID namespace stage 2 is in).
	Proc bool `json:"proc"`
	// Sys: mount a fresh sysfs on /sys (of the network namespace stage 2 is in).
	Sys   bool     `json:"sys"`
	Binds []bind   `json:"binds"`
	Args  []string `json:"args"`
}

func (o *Options) joins(ns string) bool { return slices.Contains(o.Namespaces, ns) }

// viewBinds maps the container's view files to their paths: every view in
// meta.json's list that the render registry knows and that exists in the
// views directory (files and directories alike).
func viewBinds(t Target) (binds []bind, skipped []string) {
	if t.ViewsDir == "" {
		return nil, nil
	}
	for _, name := range t.Views {
		v, ok := render.Lookup(name)
		src := filepath.Join(t.ViewsDir, filepath.FromSlash(name))
		if !ok || !strings.HasPrefix(path.Clean(v.Target), "/") {
			skipped = append(skipped, name+" (unknown view)")
			continue
		}
		if _, err := os.Lstat(src); err != nil {
			skipped = append(skipped, name+" (no file)")
			continue
		}
		binds = append(binds, bind{Source: src, Target: path.Clean(v.Target)})
	}
	// /sys/devices/system/cpu before /sys/devices/system/cpu/online: a
	// parent directory view goes first so the file lands on top of it.
	slices.SortStableFunc(binds, func(a, b bind) int { return strings.Count(a.Target, "/") - strings.Count(b.Target, "/") })
	return binds, skipped
}
