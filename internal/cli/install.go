package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/procview/procview/internal/install"
)

// installFlags declares the flags install and uninstall share.
func installFlags(name string, o *install.Options, stderr io.Writer) *flag.FlagSet {
	fl := flag.NewFlagSet(name, flag.ContinueOnError)
	fl.SetOutput(stderr)
	fl.StringVar(&o.Engine, "engine", "", "container engine: "+strings.Join(install.Engines, "|"))
	fl.StringVar(&o.Config, "config", "", "engine config file (docker: "+install.DefaultDockerConfig+
		", containerd: "+install.DefaultContainerdConfig+", podman: "+install.DefaultPodmanConfig+
		", crio: "+install.DefaultCrioConfig+")")
	fl.StringVar(&o.HooksDir, "hooks-dir", "", "oci hooks.d directory for podman and crio (default "+install.DefaultHooksDir+")")
	fl.BoolVar(&o.DryRun, "dry-run", false, "print what would change, write nothing")
	fl.StringVar(&o.BinDir, "bin-dir", "", "directory of procview-runc and procview-hook (default: this binary's directory)")
	return fl
}

// installCmd configures a container engine to use procview.
func installCmd(args []string, stdout, stderr io.Writer) error {
	o := install.Options{Out: stdout}
	fl := installFlags("install", &o, stderr)
	if err := parseInstallArgs(fl, args, &o); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	// Engines drop hooks whose binary is missing without a word (podman) or
	// fail every container: say so now.
	for _, b := range []string{install.WrapperName, install.HookName} {
		if _, err := os.Stat(filepath.Join(o.BinDir, b)); err != nil {
			fmt.Fprintf(stderr, "procview: warning: %s: %v\n", filepath.Join(o.BinDir, b), err)
		}
	}
	return install.Install(o)
}

// uninstallCmd reverts installCmd. --bin-dir only serves to recognise an
// untouched install, which is then undone from the backup byte for byte;
// otherwise procview's entries are removed whatever binaries they name.
func uninstallCmd(args []string, stdout, stderr io.Writer) error {
	o := install.Options{Out: stdout}
	fl := installFlags("uninstall", &o, stderr)
	if err := parseInstallArgs(fl, args, &o); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	return install.Uninstall(o)
}

func parseInstallArgs(fl *flag.FlagSet, args []string, o *install.Options) error {
	if err := fl.Parse(args); err != nil {
		return err
	}
	if fl.NArg() > 0 {
		return fmt.Errorf("%s: unexpected argument %q", fl.Name(), fl.Arg(0))
	}
	if o.Engine == "" {
		return fmt.Errorf("%s: give --engine (%s)", fl.Name(), strings.Join(install.Engines, "|"))
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
