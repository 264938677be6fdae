// Command procview-hook is procview's OCI hook. runc (or podman/CRI-O via
// hooks.d) runs it as `procview-hook [--config PATH] create-runtime|poststop`
// with the container state on stdin. Its stdout and stderr belong to the
// runtime, so it logs to the configured log file (and its warnings to the
// caller's runc --log when procview-runc passes it on), except for the one
// message that refuses a container start in fail_mode "closed".
package main

import (
	"os"

	"github.com/procview/procview/internal/hook"
)

func main() {
	// procview-runc gives the hook GOMAXPROCS=1 (a cheaper start); a
	// procviewd the hook starts must not inherit it.
	_ = os.Unsetenv("GOMAXPROCS")
	os.Exit(hook.Main(os.Args[1:], os.Getenv, os.Stdin, os.Stderr))
}
