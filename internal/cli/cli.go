// Package cli implements the procview operator command.
package cli

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/procview/procview/internal/render"
)

// usageError marks errors that come from a wrong command line (exit 2).
type usageError struct{ error }

// exitStatus carries a status chosen by the command itself (procview exec
// passes its tool's status through), printed by nobody.
type exitStatus int

func (e exitStatus) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

// Main runs the CLI and returns the exit code: 0, 1 on failure, 2 on a bad
// command line.
func Main(args []string, stdout, stderr io.Writer) int {
	root := NewCommand(stdout, stderr)
	if len(args) == 0 {
		root.SetArgs([]string{"--help"})
		_ = root.Execute()
		return 2
	}
	root.SetArgs(args)
	err := root.Execute()
	if err == nil {
		return 0
	}
	var st exitStatus
	if errors.As(err, &st) {
		return int(st)
	}
	fmt.Fprintln(stderr, "procview:", err)
	var ue usageError
	if errors.As(err, &ue) || strings.HasPrefix(err.Error(), "unknown command") {
		return 2
	}
	return 1
}

// NewCommand builds the procview command tree.
func NewCommand(stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "procview",
		Short: "container-accurate /proc and /sys views; the node's containers at a glance",
		Long: `procview makes every container see its own limits and usage in /proc and /sys,
and shows the operator every container of the node (ps, top, Prometheus metrics
served by procviewd).`,
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageError{fmt.Errorf("%s: %w (see %s --help)", c.Name(), err, c.CommandPath())}
	})
	root.AddCommand(
		renderCommand(),
		viewsCommand(),
		listCommand(),
		psCommand(),
		topCommand(),
		installCommand("install"),
		installCommand("uninstall"),
		legacyCommand("exec", "run a host tool in a container's namespaces, seeing only the container", func(args []string, stdout, stderr io.Writer) error {
			if code := execCmd(args, stdout, stderr); code != 0 {
				return exitStatus(code)
			}
			return nil
		}),
	)
	return root
}

// legacyCommand wraps a command that parses its own arguments (a flag.FlagSet
// of the pre-cobra CLI) so it can join the tree unchanged.
func legacyCommand(name, short string, run func(args []string, stdout, stderr io.Writer) error) *cobra.Command {
	return &cobra.Command{
		Use:                name + " [flags] [args]",
		Short:              short,
		DisableFlagParsing: true,
		RunE: func(c *cobra.Command, args []string) error {
			return run(args, c.OutOrStdout(), c.ErrOrStderr())
		},
	}
}

func viewsCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "views",
		Short: "list the view names and the files they replace",
		Args:  noArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			for _, v := range render.Views() {
				fmt.Fprintf(c.OutOrStdout(), "%-16s %s\n", v.Name, v.Target)
			}
			return nil
		},
	}
}

// noArgs is cobra.NoArgs as a usage error.
func noArgs(c *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usageError{fmt.Errorf("%s: unexpected argument %q", c.Name(), args[0])}
	}
	return nil
}
