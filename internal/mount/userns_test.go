//go:build linux

package mount

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
)

// TestBindIntoUserNamespace: a container whose namespaces belong to a user
// namespace with root mapped to host uid 100000 (userns-remap style).
func TestBindIntoUserNamespace(t *testing.T) {
	requireRoot(t)
	base := t.TempDir()
	rootfs := filepath.Join(base, "rootfs")
	mkdir(t, rootfs+"/proc")
	// The remapped root must reach the rootfs; t.TempDir makes 0700 dirs.
	for _, d := range []string{filepath.Dir(base), base, rootfs} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	src := filepath.Join(base, "meminfo")
	content := "MemTotal: 1 kB\n"
	writeFile(t, src, content)

	cmd := exec.Command("sh", "-c", "mount --make-rprivate / && mount -t proc proc "+rootfs+"/proc && echo ready && exec sleep 600")
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags:  syscall.CLONE_NEWUSER | syscall.CLONE_NEWNS | syscall.CLONE_NEWPID,
		UidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: 100000, Size: 65536}},
		GidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: 100000, Size: 65536}},
		// Root inside (host uid 100000), with its capabilities there.
		Credential: &syscall.Credential{Uid: 0, Gid: 0, NoSetGroups: true},
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Skipf("user namespace: %v", err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	if line, err := bufio.NewReader(out).ReadString('\n'); err != nil || line != "ready\n" {
		t.Fatalf("user namespace child not ready: %q %v", line, err)
	}
	pid := cmd.Process.Pid

	res, err := BindInto(testLogger(t), pid, rootfs, []Bind{{src, "/proc/meminfo"}})
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Status != StatusMounted || !res[0].ReadOnly {
		t.Fatalf("got %+v, want mounted read-only", res[0])
	}
	got, err := os.ReadFile(fmt.Sprintf("/proc/%d/root%s/proc/meminfo", pid, rootfs))
	if err != nil || string(got) != content {
		t.Errorf("container meminfo = %q (%v), want %q", got, err, content)
	}
	// Root in the user namespace owns the mount namespace, so it can undo
	// the read-only flag (runc's own ro binds behave the same); what keeps
	// it from changing the view is that it does not own the file.
	tamper := exec.Command("nsenter", "-t", strconv.Itoa(pid), "-U", "-m", "sh", "-c",
		"mount -o remount,bind,rw "+rootfs+"/proc/meminfo; echo 'MemTotal: 9 kB' > "+rootfs+"/proc/meminfo")
	if out, err := tamper.CombinedOutput(); err == nil {
		t.Errorf("remapped container root wrote the view: %s", out)
	} else {
		t.Logf("tamper attempt failed as it should: %v: %s", err, out)
	}
	if now, err := os.ReadFile(src); err != nil || string(now) != content {
		t.Errorf("source now %q (%v), want %q", now, err, content)
	}
	hostLeak(t, base)
}
