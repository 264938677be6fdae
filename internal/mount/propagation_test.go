//go:build linux

package mount

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// envSharedTargetHelper makes the test binary run sharedTargetHelper in its
// own private mount namespace (see TestMain).
const envSharedTargetHelper = "PROCVIEW_MOUNT_TEST_SHARED_TARGET"

func TestParseMountEntries(t *testing.T) {
	data := []byte(`21 26 0:20 / /proc rw,relatime - proc proc rw
22 26 0:21 / /sys rw,relatime shared:7 - sysfs sysfs rw
23 26 0:6 / /my\040dev rw master:3 - devtmpfs devtmpfs rw
24 23 0:22 / /both rw shared:9 master:4 propagate_from:2 - tmpfs tmpfs rw
`)
	got, err := parseMountEntries(data)
	if err != nil {
		t.Fatal(err)
	}
	want := []mountEntry{
		{id: 21, point: "/proc"},
		{id: 22, point: "/sys", shared: 7},
		{id: 23, point: "/my dev", master: 3},
		{id: 24, point: "/both", shared: 9, master: 4},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("parseMountEntries = %v, want %v", got, want)
	}
}

// TestBindIntoSharedTarget: a container mount that is a shared peer of a
// mount of runc's namespace (rshared /sys, shared rootfsPropagation) must
// not get a view: the bind would appear outside the container. The "host"
// is a helper process in a private mount namespace of its own.
func TestBindIntoSharedTarget(t *testing.T) {
	requireRoot(t)
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	for _, legacy := range []bool{false, true} {
		t.Run(fmt.Sprintf("legacy=%v", legacy), func(t *testing.T) {
			cmd := exec.Command(self, "-test.run=^$")
			cmd.Env = append(os.Environ(), envSharedTargetHelper+"="+t.TempDir())
			if legacy {
				cmd.Env = append(cmd.Env, envLegacy+"=1")
			}
			cmd.SysProcAttr = &syscall.SysProcAttr{Unshareflags: syscall.CLONE_NEWNS}
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("helper: %v\n%s", err, out)
			}
			t.Logf("helper:\n%s", out)
		})
	}
}

// sharedTargetHelper mounts a shared procfs at ROOTFS/proc, lets a child
// namespace copy it (the copy is a peer), binds a view into the child and
// fails unless the bind was refused and nothing appeared here.
func sharedTargetHelper(base string) error {
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("make / private: %w", err)
	}
	rootfs := filepath.Join(base, "rootfs")
	if err := os.MkdirAll(rootfs+"/proc", 0o755); err != nil {
		return err
	}
	if err := unix.Mount("proc", rootfs+"/proc", "proc", 0, ""); err != nil {
		return fmt.Errorf("mount proc: %w", err)
	}
	if err := unix.Mount("", rootfs+"/proc", "", unix.MS_SHARED, ""); err != nil {
		return fmt.Errorf("make shared: %w", err)
	}
	src := filepath.Join(base, "meminfo")
	if err := os.WriteFile(src, []byte("MemTotal: 1 kB\n"), 0o644); err != nil {
		return err
	}
	child := exec.Command("unshare", "--mount", "--propagation", "unchanged", "sh", "-c", "echo ready && exec sleep 600")
	stdout, err := child.StdoutPipe()
	if err != nil {
		return err
	}
	if err := child.Start(); err != nil {
		return err
	}
	defer func() { child.Process.Kill(); child.Wait() }()
	buf := make([]byte, 6)
	if _, err := stdout.Read(buf); err != nil || string(buf) != "ready\n" {
		return fmt.Errorf("child not ready: %q %v", buf, err)
	}
	res, err := BindInto(nullLogger(), child.Process.Pid, rootfs, []Bind{{src, "/proc/meminfo"}})
	if err != nil {
		return err
	}
	if res[0].Status != StatusRefused || !errors.Is(res[0].Err, ErrPropagates) {
		return fmt.Errorf("bind on a shared peer: %+v, want refused with ErrPropagates", res[0])
	}
	for _, pid := range []int{os.Getpid(), child.Process.Pid} {
		if ok, err := Mounted(pid, rootfs+"/proc/meminfo"); err != nil || ok {
			return fmt.Errorf("view mounted in pid %d's namespace (mounted=%v, %v)", pid, ok, err)
		}
	}
	fmt.Println("refused:", res[0].Err)
	return nil
}
