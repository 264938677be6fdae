package cli

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/procview/procview/internal/config"
	"github.com/procview/procview/internal/state"
)

func listCommand() *cobra.Command {
	var cfgPath string
	c := &cobra.Command{
		Use:   "list",
		Short: "list the containers procview manages (state root)",
		Args:  noArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			cfg, err := config.Load(cfgPath)
			if err != nil {
				return err
			}
			root := state.Root(cfg.StateRoot)
			keys, err := root.List()
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(c.OutOrStdout(), 0, 4, 2, ' ', 0)
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
		},
	}
	configFlag(c, &cfgPath)
	return c
}

// configFlag declares --config (procview's configuration file).
func configFlag(c *cobra.Command, p *string) {
	c.Flags().StringVar(p, "config", config.Path(), "procview configuration file")
}
