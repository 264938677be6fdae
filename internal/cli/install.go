package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/procview/procview/internal/install"
)

// installCommand builds install or uninstall: they share their flags.
// uninstall's --bin-dir only serves to recognise an untouched install, which
// is then undone from the backup byte for byte; otherwise procview's entries
// are removed whatever binaries they name.
func installCommand(name string) *cobra.Command {
	var o install.Options
	short := "configure a container engine to use procview"
	if name == "uninstall" {
		short = "undo procview install for an engine"
	}
	c := &cobra.Command{
		Use:     name + " --engine " + strings.Join(install.Engines, "|"),
		Short:   short,
		Args:    noArgs,
		Example: "  procview " + name + " --engine docker --dry-run",
		RunE: func(c *cobra.Command, _ []string) error {
			o.Out = c.OutOrStdout()
			if err := checkInstallOpts(&o); err != nil {
				return err
			}
			if name == "uninstall" {
				return install.Uninstall(o)
			}
			// Engines drop hooks whose binary is missing without a word
			// (podman) or fail every container: say so now.
			for _, b := range []string{install.WrapperName, install.HookName} {
				if _, err := os.Stat(filepath.Join(o.BinDir, b)); err != nil {
					fmt.Fprintf(c.ErrOrStderr(), "procview: warning: %s: %v\n", filepath.Join(o.BinDir, b), err)
				}
			}
			return install.Install(o)
		},
	}
	f := c.Flags()
	f.StringVar(&o.Engine, "engine", "", "container engine: "+strings.Join(install.Engines, "|"))
	f.StringVar(&o.Config, "config", "", "engine config file (docker: "+install.DefaultDockerConfig+
		", containerd: "+install.DefaultContainerdConfig+", podman: "+install.DefaultPodmanConfig+
		", crio: "+install.DefaultCrioConfig+")")
	f.StringVar(&o.HooksDir, "hooks-dir", "", "oci hooks.d directory for podman and crio (default "+install.DefaultHooksDir+")")
	f.BoolVar(&o.DryRun, "dry-run", false, "print what would change, write nothing")
	f.StringVar(&o.BinDir, "bin-dir", "", "directory of procview-runc and procview-hook (default: this binary's directory)")
	_ = c.RegisterFlagCompletionFunc("engine", fixedCompletion(install.Engines...))
	return c
}

func checkInstallOpts(o *install.Options) error {
	if o.Engine == "" {
		return usageError{fmt.Errorf("give --engine (%s)", strings.Join(install.Engines, "|"))}
	}
	if o.BinDir == "" {
		exe, err := os.Executable()
		if err != nil {
			return fmt.Errorf("find this binary's directory (give --bin-dir): %w", err)
		}
		if exe, err = filepath.EvalSymlinks(exe); err != nil {
			return fmt.Errorf("find this binary's directory (give --bin-dir): %w", err)
		}
		o.BinDir = filepath.Dir(exe)
	}
	abs, err := filepath.Abs(o.BinDir)
	if err != nil {
		return fmt.Errorf("--bin-dir %s: %w", o.BinDir, err)
	}
	o.BinDir = abs
	return nil
}
