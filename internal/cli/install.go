package cli

import (
	"errors"
	"io"
)

// installCmd configures a container engine to use procview.
func installCmd(args []string, stdout, stderr io.Writer) error {
	return errors.New("install: not implemented yet")
}

// uninstallCmd reverts installCmd.
func uninstallCmd(args []string, stdout, stderr io.Writer) error {
	return errors.New("uninstall: not implemented yet")
}
