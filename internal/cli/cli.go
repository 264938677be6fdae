// Package cli implements the procview operator command.
package cli

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/procview/procview/internal/cgroupstats"
	"github.com/procview/procview/internal/config"
	"github.com/procview/procview/internal/cpuview"
	"github.com/procview/procview/internal/render"
	"github.com/procview/procview/internal/state"
	"github.com/procview/procview/internal/tasks"
	"github.com/procview/procview/internal/views"
)

const usage = `usage:
  procview render [--pid PID|self | --cgroup PATH] [--cgroup-root DIR] [--proc-root DIR] [--sys-root DIR] [--cpu-view quota|cpuset] VIEW...
  procview list [--config PATH]
  procview install --engine docker|containerd|podman|crio [--config PATH] [--hooks-dir DIR] [--bin-dir DIR] [--dry-run]
  procview uninstall --engine docker|containerd|podman|crio [--config PATH] [--hooks-dir DIR] [--bin-dir DIR] [--dry-run]
  procview views
  procview exec [flags] CONTAINER|--pid PID -- CMD [ARGS...]   (procview exec -h)

VIEW is a view name (meminfo, cpuinfo, stat, uptime, loadavg, diskstats, swaps,
vmstat, pressure/cpu, pressure/memory, pressure/io, online) or its path
(/proc/meminfo, /sys/devices/system/cpu/online), or "all".
`

// Main runs the CLI and returns the exit code.
func Main(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "render":
		err = renderCmd(args[1:], stdout)
	case "list":
		err = listCmd(args[1:], stdout)
	case "install":
		err = installCmd(args[1:], stdout, stderr)
	case "uninstall":
		err = uninstallCmd(args[1:], stdout, stderr)
	case "exec":
		return execCmd(args[1:], stdout, stderr)
	case "views":
		for _, v := range render.Views() {
			fmt.Fprintf(stdout, "%-16s %s\n", v.Name, v.Target)
		}
	case "-h", "--help", "help":
		fmt.Fprint(stdout, usage)
	default:
		fmt.Fprint(stderr, usage)
		return 2
	}
	if err != nil {
		fmt.Fprintln(stderr, "procview:", err)
		return 1
	}
	return 0
}

func renderCmd(args []string, out io.Writer) error {
	fl := flag.NewFlagSet("render", flag.ContinueOnError)
	pidArg := fl.String("pid", "", "render the views of this process's container")
	cgPath := fl.String("cgroup", "", "render the views of this cgroup path")
	cgRoot := fl.String("cgroup-root", "/sys/fs/cgroup", "cgroup root (or a fixture tree's sys/fs/cgroup)")
	procRoot := fl.String("proc-root", "/proc", "procfs root")
	sysRoot := fl.String("sys-root", "", "sysfs root (default: sys next to --proc-root)")
	cpuMode := fl.String("cpu-view", config.CPUViewQuota, "quota or cpuset")
	if err := fl.Parse(args); err != nil {
		return err
	}
	if (*pidArg == "") == (*cgPath == "") {
		return fmt.Errorf("give exactly one of --pid and --cgroup")
	}
	if *sysRoot == "" {
		*sysRoot = filepath.Join(filepath.Dir(filepath.Clean(*procRoot)), "sys")
	}
	names, err := viewNames(fl.Args())
	if err != nil {
		return err
	}
	cgFS, procFS := os.DirFS(*cgRoot), os.DirFS(*procRoot)
	mode, err := cgroupstats.DetectMode(cgFS)
	if err != nil {
		return fmt.Errorf("detect cgroup layout under %s: %w", *cgRoot, err)
	}
	smp := &views.Sampler{CgroupFS: cgFS, Mode: mode, ProcFS: procFS, SysFS: os.DirFS(*sysRoot)}
	now := views.BootClock()
	tgt := views.Target{CPUView: cpuview.Mode(*cpuMode), StartNs: now}
	if *pidArg != "" {
		pid := 0
		if *pidArg != "self" {
			if pid, err = strconv.Atoi(*pidArg); err != nil || pid <= 0 {
				return fmt.Errorf("bad --pid %q", *pidArg)
			}
		}
		tgt.Location, err = readLocation(procFS, *pidArg)
		if err != nil {
			return err
		}
		if pid > 0 {
			if s, err := tasks.StartTime(procFS, pid); err == nil {
				tgt.StartNs = s
			}
		}
	} else {
		tgt.Location = cgroupstats.LocationFromPath(*cgPath)
	}
	host, err := smp.Host()
	if err != nil {
		return err
	}
	st, err := cgroupstats.Read(cgFS, mode, tgt.Location)
	if err != nil {
		return err
	}
	if *pidArg == "" {
		// A cgroup's age is its oldest process's.
		for _, p := range st.Pids.Procs {
			if s, err := tasks.StartTime(procFS, p); err == nil && s < tgt.StartNs {
				tgt.StartNs = s
			}
		}
	}
	in, err := views.Derive(host, st, tgt, &state.Acct{}, now, func(procs, threads []int) tasks.Summary {
		return tasks.Scan(procFS, procs, threads)
	})
	if err != nil {
		return err
	}
	rendered, err := views.Render(in, names)
	if err != nil {
		return err
	}
	for i, n := range names {
		if len(names) > 1 {
			if i > 0 {
				fmt.Fprintln(out)
			}
			v, _ := render.Lookup(n)
			fmt.Fprintf(out, "==> %s <==\n", v.Target)
		}
		v, _ := render.Lookup(n)
		if _, err := out.Write(rendered[v.Name]); err != nil {
			return err
		}
	}
	return nil
}

func readLocation(procFS fs, pid string) (cgroupstats.Location, error) {
	if pid == "self" {
		b, err := readFile(procFS, "self/cgroup")
		if err != nil {
			return cgroupstats.Location{}, err
		}
		return cgroupstats.ParseProcCgroup(b)
	}
	n, _ := strconv.Atoi(pid)
	return cgroupstats.ReadLocation(procFS, n)
}

func viewNames(args []string) ([]string, error) {
	if len(args) == 0 {
		return nil, fmt.Errorf("name at least one view (or \"all\")")
	}
	var names []string
	for _, a := range args {
		if a == "all" {
			for _, v := range render.Views() {
				names = append(names, v.Name)
			}
			continue
		}
		v, ok := render.Lookup(a)
		if !ok {
			return nil, fmt.Errorf("unknown view %q (try: procview views)", a)
		}
		names = append(names, v.Name)
	}
	return names, nil
}

func listCmd(args []string, out io.Writer) error {
	fl := flag.NewFlagSet("list", flag.ContinueOnError)
	cfgPath := fl.String("config", config.Path(), "configuration file")
	if err := fl.Parse(args); err != nil {
		return err
	}
	cfg, err := config.Load(*cfgPath)
	if err != nil {
		return err
	}
	root := state.Root(cfg.StateRoot)
	keys, err := root.List()
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tPID\tCGROUP\tVIEWS")
	for _, k := range keys {
		m, err := state.ReadMeta(root.Dir(k))
		if err != nil {
			fmt.Fprintf(tw, "%s\t-\t-\t(incomplete: %v)\n", k, err)
			continue
		}
		cg := m.Location.Unified
		if p, ok := m.Location.V1["memory"]; ok {
			cg = p
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\n", m.ID, m.Pid, cg, strings.Join(m.Views, ","))
	}
	return tw.Flush()
}
