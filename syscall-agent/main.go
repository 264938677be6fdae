// Command procview-agent answers system calls of procview's containers
// (sysinfo) through seccomp user notification, from the views procviewd
// renders. It runs apart from procviewd so that a dead daemon only makes
// answers stale. See docs/syscalls.md.
package main

import (
	"os"

	"github.com/procview/procview/internal/agent"
)

func main() {
	os.Exit(agent.Main(os.Args[1:]))
}
