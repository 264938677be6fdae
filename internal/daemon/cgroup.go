package daemon

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/procview/procview/internal/cgroupstats"
)

// CgroupName is the cgroup procviewd moves itself into when started by a
// hook, so it does not live in (and get killed or limited with) the cgroup
// of the shim or shell that ran the hook.
const CgroupName = "procviewd"

// JoinOwnCgroup moves the calling process into <hierarchy>/procviewd in every
// hierarchy it can. v1 cpuset is skipped (a new v1 cpuset is empty until
// configured) and so are named hierarchies.
func JoinOwnCgroup(cgroupRoot string, mode cgroupstats.Mode) error {
	pid := []byte(strconv.Itoa(os.Getpid()))
	var dirs []string
	switch mode {
	case cgroupstats.ModeV2:
		dirs = []string{cgroupRoot}
	default:
		ents, err := os.ReadDir(cgroupRoot)
		if err != nil {
			return fmt.Errorf("list cgroup hierarchies: %w", err)
		}
		for _, e := range ents {
			switch n := e.Name(); {
			case !e.IsDir(), n == "cpuset", n == "systemd", n == "misc", n == "rdma":
			default:
				dirs = append(dirs, filepath.Join(cgroupRoot, n))
			}
		}
	}
	var errs []error
	for _, d := range dirs {
		cg := filepath.Join(d, CgroupName)
		if err := os.Mkdir(cg, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
			errs = append(errs, fmt.Errorf("create %s: %w", cg, err))
			continue
		}
		if err := os.WriteFile(filepath.Join(cg, "cgroup.procs"), pid, 0); err != nil {
			errs = append(errs, fmt.Errorf("join %s: %w", cg, err))
		}
	}
	return errors.Join(errs...)
}
