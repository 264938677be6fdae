package publish

import (
	"path/filepath"
	"slices"

	"github.com/procview/procview/internal/cpudir"
	"github.com/procview/procview/internal/render"
)

// cpuDirState is what a Set knows about its container's cpu directory.
type cpuDirState struct {
	checked, present bool
	want             []int // host CPUs last arranged as cpu0..cpuN-1
}

// syncCPUDir keeps the container's /sys/devices/system/cpu showing the
// visible CPUs when the quota or cpuset changes: a rename per changed CPU,
// nothing when they did not change.
func (s *Set) syncCPUDir(in *render.Input) error {
	d := cpudir.Dir(filepath.Join(s.Root.Dir(s.Key), cpudir.Name))
	if !s.cpuDir.checked {
		s.cpuDir.checked, s.cpuDir.present = true, cpudir.Exists(d)
	}
	if !s.cpuDir.present || in.CPUs > len(in.HostCPUs) {
		return nil
	}
	want := in.HostCPUs[:in.CPUs]
	if s.cpuDir.want != nil && slices.Equal(want, s.cpuDir.want) {
		return nil
	}
	if _, err := cpudir.Arrange(d, want); err != nil {
		return err
	}
	s.cpuDir.want = slices.Clone(want)
	return nil
}
