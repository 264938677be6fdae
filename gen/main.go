// Command procviewd is procview's node daemon: it refreshes the views of
// every container registered under the state root, in place, every
// refresh_interval. One runs per state root (a lock); procview-hook starts
// one when none runs, and a systemd unit keeps one running normally.
package main

import (
	"os"

	"github.com/procview/procview/internal/daemon"
)

func main() {
	os.Exit(daemon.Main(os.Args[1:]))
}
