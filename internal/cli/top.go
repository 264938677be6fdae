package cli

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"
)

type topOpts struct {
	psOpts
	batch      bool
	iterations int
	delay      time.Duration
}

func topCommand() *cobra.Command {
	var o topOpts
	c := &cobra.Command{
		Use:   "top",
		Short: "ps, refreshed every second",
		Long: `procview ps refreshed in the terminal, like systemd-cgtop. Keys (cgtop's):
p order by path (id), t by tasks, c by CPU, m by memory, i by I/O; q quits.
-b prints plain frames (batch mode), -n stops after N of them.`,
		Example: `  procview top --order memory
  procview top -b -n 3`,
		Args: noArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if err := sortContainers(nil, o.order); err != nil {
				return err
			}
			return runTop(c.OutOrStdout(), o)
		},
	}
	configFlag(c, &o.cfgPath)
	f := c.Flags()
	f.StringVar(&o.order, "order", "cpu", "sort by path (id), tasks, cpu, memory or io")
	f.BoolVar(&o.local, "local", false, "read the cgroups here instead of asking procviewd")
	f.BoolVarP(&o.batch, "batch", "b", false, "batch mode: plain frames, no keys, no screen clearing")
	f.IntVarP(&o.iterations, "iterations", "n", 0, "stop after N frames (0: never)")
	f.DurationVarP(&o.delay, "delay", "d", time.Second, "time between frames")
	f.StringVarP(&o.output, "output", "o", "table", "table or wide")
	_ = c.RegisterFlagCompletionFunc("order", fixedCompletion(orders...))
	return c
}

func runTop(w io.Writer, o topOpts) error {
	src, err := openSource(o.cfgPath, o.local)
	if err != nil {
		return err
	}
	defer src.close()
	keys := make(chan byte, 8)
	if !o.batch {
		restore, err := cbreak(int(os.Stdin.Fd()))
		if err == nil {
			defer restore()
			go func() {
				b := make([]byte, 1)
				for {
					if n, err := os.Stdin.Read(b); err != nil || n == 0 {
						close(keys)
						return
					}
					keys <- b[0]
				}
			}()
		}
	}
	if src.local != nil {
		src.local.round() // a first sample for the rates
	}
	tick := time.NewTicker(o.delay)
	defer tick.Stop()
	for i := 0; o.iterations <= 0 || i < o.iterations; i++ {
		if i > 0 || src.local != nil {
			if quit := waitTick(tick.C, keys, &o.order); quit {
				return nil
			}
		}
		snap, err := src.next()
		if err != nil {
			return err
		}
		if !o.batch {
			fmt.Fprint(w, "\033[H\033[2J")
		}
		fmt.Fprintf(w, "procview top — %s — %d containers — order %s\n", snap.Time.Format("15:04:05"), len(snap.Containers), o.order)
		if err := printSnapshot(w, snap, o.output, o.order); err != nil {
			return err
		}
		if o.batch {
			fmt.Fprintln(w)
		}
	}
	return nil
}

// waitTick waits for the next frame, changing the order on cgtop's keys;
// it reports whether q was pressed.
func waitTick(tick <-chan time.Time, keys <-chan byte, order *string) bool {
	for {
		select {
		case <-tick:
			return false
		case k, ok := <-keys:
			if !ok {
				keys = nil
				continue
			}
			switch k {
			case 'q', 'Q', 3:
				return true
			case 'p':
				*order = "path"
			case 't':
				*order = "tasks"
			case 'c':
				*order = "cpu"
			case 'm':
				*order = "memory"
			case 'i':
				*order = "io"
			default:
				continue
			}
			return false
		}
	}
}

// cbreak puts the terminal in non-canonical, no-echo mode so keys arrive
// one at a time; the function returned restores it.
func cbreak(fd int) (func(), error) {
	old, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		return nil, err
	}
	t := *old
	t.Lflag &^= unix.ICANON | unix.ECHO
	t.Cc[unix.VMIN], t.Cc[unix.VTIME] = 1, 0
	if err := unix.IoctlSetTermios(fd, unix.TCSETS, &t); err != nil {
		return nil, err
	}
	return func() { _ = unix.IoctlSetTermios(fd, unix.TCSETS, old) }, nil
}
