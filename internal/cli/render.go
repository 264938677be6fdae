package cli

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/procview/procview/internal/cgroupstats"
	"github.com/procview/procview/internal/config"
	"github.com/procview/procview/internal/cpuview"
	"github.com/procview/procview/internal/render"
	"github.com/procview/procview/internal/state"
	"github.com/procview/procview/internal/tasks"
	"github.com/procview/procview/internal/views"
)

type renderOpts struct {
	pid, cgroup, cgRoot, procRoot, sysRoot, cpuMode string
}

func renderCommand() *cobra.Command {
	var o renderOpts
	c := &cobra.Command{
		Use:   "render (--pid PID|self | --cgroup PATH) VIEW...",
		Short: "print the views of any process's container or any cgroup",
		Long: `Print what procview shows a container, computed now from its cgroup.

VIEW is a view name (meminfo, cpuinfo, stat, uptime, loadavg, diskstats, swaps,
vmstat, pressure/cpu, pressure/memory, pressure/io, online) or its path
(/proc/meminfo, /sys/devices/system/cpu/online), or "all".`,
		Example: `  procview render --pid 4242 meminfo
  procview render --cgroup /system.slice/docker-<id>.scope all`,
		RunE: func(c *cobra.Command, args []string) error {
			return renderViews(o, args, c.OutOrStdout())
		},
		ValidArgsFunction: func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
			names := []string{"all"}
			for _, v := range render.Views() {
				names = append(names, v.Name)
			}
			return names, cobra.ShellCompDirectiveNoFileComp
		},
	}
	f := c.Flags()
	f.StringVar(&o.pid, "pid", "", "render the views of this process's container")
	f.StringVar(&o.cgroup, "cgroup", "", "render the views of this cgroup path")
	f.StringVar(&o.cgRoot, "cgroup-root", "/sys/fs/cgroup", "cgroup root (or a fixture tree's sys/fs/cgroup)")
	f.StringVar(&o.procRoot, "proc-root", "/proc", "procfs root")
	f.StringVar(&o.sysRoot, "sys-root", "", "sysfs root (default: sys next to --proc-root)")
	f.StringVar(&o.cpuMode, "cpu-view", config.CPUViewQuota, "quota or cpuset")
	_ = c.RegisterFlagCompletionFunc("cpu-view", fixedCompletion(config.CPUViewQuota, config.CPUViewCpuset))
	return c
}

// fixedCompletion completes a flag from a fixed list.
func fixedCompletion(vals ...string) func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return vals, cobra.ShellCompDirectiveNoFileComp
	}
}

func renderViews(o renderOpts, args []string, out io.Writer) error {
	if (o.pid == "") == (o.cgroup == "") {
		return usageError{fmt.Errorf("give exactly one of --pid and --cgroup")}
	}
	if o.sysRoot == "" {
		o.sysRoot = filepath.Join(filepath.Dir(filepath.Clean(o.procRoot)), "sys")
	}
	names, err := viewNames(args)
	if err != nil {
		return err
	}
	cgFS, procFS := os.DirFS(o.cgRoot), os.DirFS(o.procRoot)
	mode, err := cgroupstats.DetectMode(cgFS)
	if err != nil {
		return fmt.Errorf("detect cgroup layout under %s: %w", o.cgRoot, err)
	}
	smp := &views.Sampler{CgroupFS: cgFS, Mode: mode, ProcFS: procFS, SysFS: os.DirFS(o.sysRoot)}
	now := views.BootClock()
	tgt := views.Target{CPUView: cpuview.Mode(o.cpuMode), StartNs: now}
	if o.pid != "" {
		pid := 0
		if o.pid != "self" {
			if pid, err = strconv.Atoi(o.pid); err != nil || pid <= 0 {
				return usageError{fmt.Errorf("bad --pid %q", o.pid)}
			}
		}
		tgt.Location, err = readLocation(procFS, o.pid)
		if err != nil {
			return err
		}
		if pid > 0 {
			if s, err := tasks.StartTime(procFS, pid); err == nil {
				tgt.StartNs = s
			}
		}
	} else {
		tgt.Location = cgroupstats.LocationFromPath(o.cgroup)
	}
	host, err := smp.Host()
	if err != nil {
		return err
	}
	st, err := cgroupstats.Read(cgFS, mode, tgt.Location)
	if err != nil {
		return err
	}
	if o.pid == "" {
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
		v, _ := render.Lookup(n)
		if len(names) > 1 {
			if i > 0 {
				fmt.Fprintln(out)
			}
			fmt.Fprintf(out, "==> %s <==\n", v.Target)
		}
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
		return nil, usageError{fmt.Errorf("name at least one view (or \"all\")")}
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
