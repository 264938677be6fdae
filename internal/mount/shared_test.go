//go:build linux

package mount

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// envSharedHelper makes the test binary run sharedSourceHelper in its own
// private mount namespace (see TestMain).
const envSharedHelper = "PROCVIEW_MOUNT_TEST_SHARED_DIR"

// envLegacy sets forceLegacy in a helper process.
const envLegacy = "PROCVIEW_MOUNT_TEST_LEGACY"

// TestBindIntoSharedSource: when the state root is a shared mount (the
// systemd default), the bind must not stay its peer; otherwise a mount made
// over the file in the container would propagate back into the host's state
// root. The host part runs in a helper process with its own mount namespace,
// so this test never makes a mount shared on the real host.
func TestBindIntoSharedSource(t *testing.T) {
	requireRoot(t)
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	base := t.TempDir()
	cmd := exec.Command(self, "-test.run=^$")
	cmd.Env = append(os.Environ(), envSharedHelper+"="+base)
	if forceLegacy {
		cmd.Env = append(cmd.Env, envLegacy+"=1")
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Unshareflags: syscall.CLONE_NEWNS}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("helper: %v\n%s", err, out)
	}
	t.Logf("helper:\n%s", out)
	hostLeak(t, base)
}

// sharedSourceHelper runs in a private mount namespace of its own (the
// "host" of this test): it mounts a shared tmpfs as state root, binds a file
// from it into a container-like child namespace, covers the bind there, and
// fails if the cover propagated back to the state root.
func sharedSourceHelper(base string) error {
	stateRoot := filepath.Join(base, "state")
	rootfs := filepath.Join(base, "rootfs")
	for _, d := range []string{stateRoot, rootfs + "/proc"} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	if err := unix.Mount("tmpfs", stateRoot, "tmpfs", 0, "size=1m"); err != nil {
		return fmt.Errorf("mount tmpfs: %w", err)
	}
	if err := unix.Mount("", stateRoot, "", unix.MS_SHARED, ""); err != nil {
		return fmt.Errorf("make shared: %w", err)
	}
	src := filepath.Join(stateRoot, "meminfo")
	if err := os.WriteFile(src, []byte("MemTotal: 1 kB\n"), 0o644); err != nil {
		return err
	}

	// The container: a plain unshare keeps peers, like runc's clone does
	// before it makes the rootfs rslave.
	child := exec.Command("unshare", "--mount", "--propagation", "unchanged", "sh", "-c",
		"mount -t proc proc "+rootfs+"/proc && echo ready && exec sleep 600")
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
	pid := child.Process.Pid

	res, err := BindInto(nullLogger(), pid, rootfs, []Bind{{src, "/proc/meminfo"}})
	if err != nil {
		return err
	}
	if res[0].Status != StatusMounted {
		return fmt.Errorf("bind: %+v", res[0])
	}
	target := rootfs + "/proc/meminfo"
	mi, err := os.ReadFile(fmt.Sprintf("/proc/%d/mountinfo", pid))
	if err != nil {
		return err
	}
	for _, l := range strings.Split(string(mi), "\n") {
		if f := strings.Fields(l); len(f) > 6 && f[4] == target && strings.Contains(l, "shared:") {
			return fmt.Errorf("bind is a shared mount: %s", l)
		}
	}
	// Cover the bind inside the container.
	cover := exec.Command("nsenter", "-t", fmt.Sprint(pid), "-m", "mount", "--bind", "/etc/hostname", target)
	if out, err := cover.CombinedOutput(); err != nil {
		return fmt.Errorf("cover the bind: %v: %s", err, out)
	}
	if ok, err := Mounted(os.Getpid(), src); err != nil || ok {
		return fmt.Errorf("a mount propagated onto the state root's %s (mounted=%v, %v)", src, ok, err)
	}
	fmt.Println("no propagation back to", src)
	return nil
}
