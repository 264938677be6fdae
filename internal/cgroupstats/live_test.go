package cgroupstats

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

const liveRoot = "/sys/fs/cgroup"

// TestLiveCgroup creates procview-test-live-<pid> on this machine, sets
// limits, moves a sleep into it and checks Read on the live /sys/fs/cgroup.
func TestLiveCgroup(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to create cgroups")
	}
	fsys := os.DirFS(liveRoot)
	mode, err := DetectMode(fsys)
	if err != nil {
		t.Skipf("no cgroup hierarchy: %v", err)
	}
	name := fmt.Sprintf("/procview-test-live-%d", os.Getpid())
	const (
		memLimit = 100 << 20
		quota    = 25000
		period   = 100000
		pidsMax  = 17
	)

	// dirs created, parents first; removed in reverse order.
	var created []string
	t.Cleanup(func() {
		for i := len(created) - 1; i >= 0; i-- {
			if err := os.Remove(created[i]); err != nil {
				t.Errorf("remove %s: %v", created[i], err)
			}
		}
	})
	mk := func(d string) {
		t.Helper()
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
		created = append(created, d)
	}
	write := func(file, val string) {
		t.Helper()
		if err := os.WriteFile(file, []byte(val), 0o644); err != nil {
			t.Fatalf("write %s: %v", file, err)
		}
	}

	var procsFiles []string
	switch mode {
	case ModeV2:
		ctrls, err := os.ReadFile(filepath.Join(liveRoot, "cgroup.subtree_control"))
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []string{"memory", "cpu", "pids"} {
			if !slices.Contains(strings.Fields(string(ctrls)), c) {
				t.Skipf("controller %s not enabled in the root cgroup", c)
			}
		}
		d := liveRoot + name
		mk(d)
		write(d+"/memory.max", strconv.Itoa(memLimit))
		write(d+"/cpu.max", fmt.Sprintf("%d %d", quota, period))
		write(d+"/pids.max", strconv.Itoa(pidsMax))
		procsFiles = append(procsFiles, d+"/cgroup.procs")
	default:
		dirs, err := controllerDirs(fsys)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []string{"memory", "cpu", "pids"} {
			if dirs[c] == "" {
				t.Skipf("v1 controller %s not mounted", c)
			}
		}
		seen := map[string]bool{}
		for _, c := range []string{"memory", "cpu", "pids"} {
			if seen[dirs[c]] {
				continue
			}
			seen[dirs[c]] = true
			d := filepath.Join(liveRoot, dirs[c]) + name
			mk(d)
			procsFiles = append(procsFiles, d+"/cgroup.procs")
		}
		write(filepath.Join(liveRoot, dirs["memory"])+name+"/memory.limit_in_bytes", strconv.Itoa(memLimit))
		write(filepath.Join(liveRoot, dirs["cpu"])+name+"/cpu.cfs_period_us", strconv.Itoa(period))
		write(filepath.Join(liveRoot, dirs["cpu"])+name+"/cpu.cfs_quota_us", strconv.Itoa(quota))
		write(filepath.Join(liveRoot, dirs["pids"])+name+"/pids.max", strconv.Itoa(pidsMax))
		if mode == ModeHybrid {
			d := liveRoot + "/unified" + name
			mk(d)
			procsFiles = append(procsFiles, d+"/cgroup.procs")
		}
	}

	cmd := exec.Command("sleep", "60")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Registered after the removal above, so it runs first: the cgroups
	// must be empty before they can be removed.
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	for _, f := range procsFiles {
		write(f, strconv.Itoa(cmd.Process.Pid))
	}

	// Both ways of naming the cgroup must give the same answer.
	loc, err := ReadLocation(os.DirFS("/proc"), cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range []Location{loc, LocationFromPath(name)} {
		st, err := Read(fsys, mode, l)
		if err != nil {
			t.Fatalf("Read(%+v): %v", l, err)
		}
		if !st.Memory.Present || st.Memory.Limit != memLimit {
			t.Errorf("memory limit = %d (present %v), want %d", st.Memory.Limit, st.Memory.Present, memLimit)
		}
		if st.CPU.Quota != quota || st.CPU.Period != period {
			t.Errorf("quota = %d/%d, want %d/%d", st.CPU.Quota, st.CPU.Period, quota, period)
		}
		if st.Pids.Limit != pidsMax || st.Pids.Current != 1 {
			t.Errorf("pids = %d/%d, want 1/%d", st.Pids.Current, st.Pids.Limit, pidsMax)
		}
		if !slices.Equal(st.Pids.Procs, []int{cmd.Process.Pid}) {
			t.Errorf("procs = %v, want [%d]", st.Pids.Procs, cmd.Process.Pid)
		}
		if (mode != ModeV1) != (st.Pressure.CPU != nil) {
			t.Errorf("cpu.pressure present = %v in mode %v", st.Pressure.CPU != nil, mode)
		}
	}
}
