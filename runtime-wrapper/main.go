// Command procview-runc is a drop-in replacement for runc: on create and run
// it adds procview's hooks to the bundle's config.json, then it execs the
// real runtime with the same arguments. Configure engines to use it as their
// runc binary (docker --runtime, containerd BinaryName, podman --runtime,
// CRI-O runtime_path).
package main

import (
	"os"

	"github.com/procview/procview/internal/wrapper"
)

func main() {
	os.Exit(wrapper.Main(os.Args))
}
