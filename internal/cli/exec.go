package cli

import (
	"flag"
	"fmt"
	"io"

	"github.com/procview/procview/internal/config"
	"github.com/procview/procview/internal/nsexec"
	"github.com/procview/procview/internal/state"
)

const execUsage = `usage: procview exec [flags] CONTAINER -- CMD [ARGS...]
       procview exec [flags] --pid PID -- CMD [ARGS...]

Runs the host's CMD in the container's namespaces with a procfs of its PID
namespace on /proc and its procview views bound over it. CONTAINER is a
procview container id (or unique prefix), or a docker/podman name or id.
`

// execCmd is `procview exec`. It returns the exit status to use: the
// tool's, or 125 when procview could not run it.
func execCmd(args []string, stdout, stderr io.Writer) int {
	fl := flag.NewFlagSet("exec", flag.ContinueOnError)
	fl.SetOutput(stderr)
	fl.Usage = func() { fmt.Fprint(stderr, execUsage); fl.PrintDefaults() }
	cfgPath := fl.String("config", config.Path(), "configuration file (for the state root)")
	pid := fl.Int("pid", 0, "join the namespaces of this process instead of a named container")
	nsList := fl.String("ns", "net,uts,ipc,pid,cgroup", "namespaces to join (net,uts,ipc,pid,cgroup or all)")
	noViews := fl.Bool("no-views", false, "do not bind the container's views over /proc and /sys")
	cgroup := fl.String("cgroup", nsexec.CgroupContainer, "run the tool in the container's cgroup (container) or procview's (none)")
	root := fl.String("root", "", "show the container's root filesystem read-only on this existing directory")
	etc := fl.Bool("etc", false, "bind the container's resolv.conf, hosts, hostname, passwd and group over the host's")
	explain := fl.Bool("explain", false, "print what would be done and exit")
	force := fl.Bool("force", false, "run even when the container could ptrace the tool")
	asContainer := fl.Bool("as-container", false, "apply the container's user, capabilities, no_new_privs and seccomp (not implemented)")
	if err := fl.Parse(args); err != nil {
		return 2
	}
	rest := fl.Args()
	fail := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "procview exec: "+format+"\n", a...)
		return nsexec.CodeSetupFailed
	}
	name := ""
	if *pid == 0 {
		if len(rest) == 0 || rest[0] == "--" {
			fl.Usage()
			return 2
		}
		name, rest = rest[0], rest[1:]
	}
	if len(rest) > 0 && rest[0] == "--" {
		rest = rest[1:]
	}
	if len(rest) == 0 {
		fl.Usage()
		return 2
	}
	ns, err := nsexec.ParseNamespaces(*nsList)
	if err != nil {
		return fail("%v", err)
	}
	cfg, err := config.Load(*cfgPath)
	if err != nil {
		return fail("%v", err)
	}
	stateRoot := state.Root(cfg.StateRoot)
	var t nsexec.Target
	if *pid != 0 {
		t, err = nsexec.PidTarget(stateRoot, *pid)
	} else {
		t, err = nsexec.NewResolver(stateRoot).Resolve(name)
	}
	if err != nil {
		return fail("%v", err)
	}
	exit, err := nsexec.Run(nsexec.Options{
		Target: t, Namespaces: ns, NoViews: *noViews, Cgroup: *cgroup, Root: *root, Etc: *etc,
		Explain: *explain, Force: *force, AsContainer: *asContainer, Args: rest,
	})
	if err != nil {
		fmt.Fprintln(stderr, "procview exec:", err)
		if exit.Status() != 0 {
			return exit.Status()
		}
		return nsexec.CodeSetupFailed
	}
	return nsexec.Reraise(exit)
}
