// Command procview is the operator's CLI: `procview render` prints the views
// of any process's container or any cgroup, `procview list` shows registered
// containers.
package main

import (
	"os"

	"github.com/procview/procview/internal/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], os.Stdout, os.Stderr))
}
