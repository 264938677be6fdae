package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/procview/procview/internal/cgroupstats"
	"github.com/procview/procview/internal/config"
	"github.com/procview/procview/internal/hoststats"
	"github.com/procview/procview/internal/registry"
	"github.com/procview/procview/internal/snapshot"
	"github.com/procview/procview/internal/state"
)

type psOpts struct {
	cfgPath, output, order string
	local                  bool
}

func psCommand() *cobra.Command {
	var o psOpts
	c := &cobra.Command{
		Use:   "ps",
		Short: "list every container of the node with its usage and limits",
		Long: `List every container of the node: the ones procview manages and every other
one found from its cgroup (docker, containerd, CRI-O, podman, Kubernetes pods).
The figures come from procviewd's last round (over the socket in the state
root); without a daemon, procview reads the cgroups itself, twice a second apart.

CPU% is of the container's limit (quota, else cpuset, else the host's CPUs);
MEM is the working set (usage - inactive_file, as the kubelet and docker stats
count it) over the limit; PSI is the some avg10 of cpu/memory/io.`,
		Example: `  procview ps
  procview ps -o json | jq '.[] | select(.managed) | .name'`,
		Args: noArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			src, err := openSource(o.cfgPath, o.local)
			if err != nil {
				return err
			}
			defer src.close()
			snap, err := src.first()
			if err != nil {
				return err
			}
			return printSnapshot(c.OutOrStdout(), snap, o.output, o.order)
		},
	}
	configFlag(c, &o.cfgPath)
	c.Flags().StringVarP(&o.output, "output", "o", "table", "table, wide or json")
	c.Flags().StringVar(&o.order, "order", "path", "sort by path (id), tasks, cpu, memory or io")
	c.Flags().BoolVar(&o.local, "local", false, "read the cgroups here instead of asking procviewd")
	_ = c.RegisterFlagCompletionFunc("output", fixedCompletion("table", "wide", "json"))
	_ = c.RegisterFlagCompletionFunc("order", fixedCompletion(orders...))
	return c
}

// orders are systemd-cgtop's sort orders.
var orders = []string{"path", "tasks", "cpu", "memory", "io"}

func sortContainers(cs []snapshot.Container, order string) error {
	var key func(c *snapshot.Container) float64
	switch order {
	case "path", "":
		slices.SortStableFunc(cs, func(a, b snapshot.Container) int { return strings.Compare(a.ID, b.ID) })
		return nil
	case "tasks":
		key = func(c *snapshot.Container) float64 { return float64(c.Threads) }
	case "cpu":
		key = func(c *snapshot.Container) float64 { return c.CPUPercent }
	case "memory":
		key = func(c *snapshot.Container) float64 { return float64(c.MemoryWorkingSetBytes) }
	case "io":
		key = func(c *snapshot.Container) float64 { return c.FSReadBytesPerSecond + c.FSWriteBytesPerSecond }
	default:
		return usageError{fmt.Errorf("--order must be one of %s, got %q", strings.Join(orders, ", "), order)}
	}
	slices.SortStableFunc(cs, func(a, b snapshot.Container) int {
		ka, kb := key(&a), key(&b)
		switch {
		case ka > kb:
			return -1
		case ka < kb:
			return 1
		}
		return strings.Compare(a.ID, b.ID)
	})
	return nil
}

func printSnapshot(w io.Writer, s *snapshot.Snapshot, output, order string) error {
	cs := slices.Clone(s.Containers)
	if err := sortContainers(cs, order); err != nil {
		return err
	}
	switch output {
	case "json":
		if cs == nil {
			cs = []snapshot.Container{}
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(cs)
	case "table", "wide", "":
	default:
		return usageError{fmt.Errorf("-o must be table, wide or json, got %q", output)}
	}
	wide := output == "wide"
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	head := "ID\tNAME\tPOD/RUNTIME\tPID\tCPU%\tCPUS\tMEM/LIMIT\tMEM%\tPSI c/m/io\tREAD/s\tWRITE/s\tPIDS\tOOM\tAGE"
	if wide {
		head += "\tMANAGED\tCGROUP"
	}
	fmt.Fprintln(tw, head)
	for i := range cs {
		c := &cs[i]
		id := c.ID
		if len(id) == 64 && !wide {
			id = id[:12]
		}
		where := c.Runtime
		if c.Pod != "" {
			where = c.Namespace + "/" + c.Pod
		}
		if where == "" {
			where = "-"
		}
		name := c.Name
		if c.Kind == snapshot.KindPod {
			name = "(pod) " + name
		}
		cpus, mem, memPct := "-", human(c.MemoryWorkingSetBytes)+" / -", "-"
		if c.CPULimitCores > 0 {
			cpus = fmt.Sprintf("%.2f", c.CPULimitCores)
		}
		if c.MemoryLimitBytes > 0 {
			mem = human(c.MemoryWorkingSetBytes) + " / " + human(c.MemoryLimitBytes)
			memPct = fmt.Sprintf("%.1f", float64(c.MemoryWorkingSetBytes)/float64(c.MemoryLimitBytes)*100)
		}
		psi := "-"
		if c.Pressure.Present {
			psi = fmt.Sprintf("%.0f/%.0f/%.0f", c.Pressure.CPUAvg10, c.Pressure.MemoryAvg10, c.Pressure.IOAvg10)
		}
		age := "-"
		if !c.Started.IsZero() {
			age = shortDuration(s.Time.Sub(c.Started))
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%.1f\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%d\t%s", id, name, where, c.Pid, c.CPUPercent, cpus, mem, memPct,
			psi, human(uint64(c.FSReadBytesPerSecond)), human(uint64(c.FSWriteBytesPerSecond)), c.Threads, c.OOMEvents, age)
		if wide {
			fmt.Fprintf(tw, "\t%t\t%s", c.Managed, c.Cgroup)
		}
		fmt.Fprintln(tw)
	}
	return tw.Flush()
}

func human(b uint64) string {
	const unit = 1024
	if b < unit {
		return fmt.Sprintf("%dB", b)
	}
	div, exp := uint64(unit), 0
	for n := b / unit; n >= unit; n /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f%ci", float64(b)/float64(div), "KMGTPE"[exp])
}

func shortDuration(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh", int(d.Hours()))
	}
	return fmt.Sprintf("%dd", int(d.Hours()/24))
}

// source gives snapshots: procviewd's, or rounds read here.
type source struct {
	stateRoot string
	local     *localSource
}

func openSource(cfgPath string, forceLocal bool) (*source, error) {
	cfg, err := config.Load(cfgPath)
	if err != nil {
		return nil, err
	}
	s := &source{stateRoot: cfg.StateRoot}
	if forceLocal {
		s.local, err = newLocalSource(cfg)
	} else if _, err := snapshot.Fetch(cfg.StateRoot, 2*time.Second); errors.Is(err, snapshot.ErrNoDaemon) {
		s.local, err = newLocalSource(cfg)
		if err != nil {
			return nil, err
		}
	}
	return s, err
}

// first is a snapshot with rates: a local source reads twice.
func (s *source) first() (*snapshot.Snapshot, error) {
	if s.local != nil {
		s.local.round()
		time.Sleep(time.Second)
	}
	return s.next()
}

func (s *source) next() (*snapshot.Snapshot, error) {
	if s.local != nil {
		return s.local.round(), nil
	}
	return snapshot.Fetch(s.stateRoot, 5*time.Second)
}

func (s *source) close() {
	if s.local != nil {
		s.local.reg.Close()
	}
}

// localSource is the registry run by the CLI when no daemon runs: the
// managed containers are read from their state, the others discovered.
type localSource struct {
	cfg  config.Config
	reg  *registry.Registry
	cgFS fs
	mode cgroupstats.Mode
}

func newLocalSource(cfg config.Config) (*localSource, error) {
	cgFS := os.DirFS(cfg.CgroupRoot)
	mode, err := cgroupstats.DetectMode(cgFS)
	if err != nil {
		return nil, fmt.Errorf("detect cgroup layout under %s: %w", cfg.CgroupRoot, err)
	}
	reg := registry.New(registry.Options{CgroupFS: cgFS, Mode: mode, ProcRoot: cfg.ProcRoot,
		DockerRoot: cfg.DockerRoot, PodmanRoot: cfg.PodmanRoot})
	return &localSource{cfg: cfg, reg: reg, cgFS: cgFS, mode: mode}, nil
}

func (l *localSource) round() *snapshot.Snapshot {
	root := state.Root(l.cfg.StateRoot)
	keys, _ := root.List()
	var managed []registry.Managed
	for _, k := range keys {
		m, err := state.ReadMeta(root.Dir(k))
		if err != nil {
			continue
		}
		st, err := cgroupstats.Read(l.cgFS, l.mode, m.Location)
		if err != nil {
			continue
		}
		managed = append(managed, registry.Managed{Meta: m, Stats: st})
	}
	return l.reg.Round(managed, hostCPUs(), snapshot.Self{})
}

// hostCPUs is the host's online CPU count.
func hostCPUs() int {
	if b, err := os.ReadFile("/sys/devices/system/cpu/online"); err == nil {
		if cpus, err := hoststats.ParseCPUList(b); err == nil && len(cpus) > 0 {
			return len(cpus)
		}
	}
	return runtime.NumCPU()
}
