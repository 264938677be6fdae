// Command procview is the operator's CLI: `procview render` prints the views
// of any process's container or any cgroup, `procview list` shows registered
// containers.
package main

import (
	"os"

	"github.com/procview/procview/internal/cli"
	"github.com/procview/procview/internal/nsexec"
)

func main() {
	// procview exec's second stage, before any command parsing.
	nsexec.MaybeStage2()
	os.Exit(cli.Main(os.Args[1:], os.Stdout, os.Stderr))
}
