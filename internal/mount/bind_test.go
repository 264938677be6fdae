//go:build linux

package mount

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"
)

// These tests make real mounts, in private mount namespaces of child
// processes only; each child's namespace (and every mount in it) dies with
// the child.

func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root (mount namespaces, procfs/sysfs mounts)")
	}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func testLogger(t *testing.T) logrus.FieldLogger {
	l := logrus.New()
	l.SetOutput(testWriter{t})
	l.SetLevel(logrus.DebugLevel)
	return l
}

func nullLogger() logrus.FieldLogger {
	l := logrus.New()
	l.SetOutput(io.Discard)
	return l
}

// startNS runs script (sh) in a new private mount namespace, waits until it
// has printed "ready", and returns the pid of the process holding the
// namespace. The child is killed at cleanup.
func startNS(t *testing.T, script string) int {
	t.Helper()
	cmd := exec.Command("sh", "-c", "set -e\n"+script+"\necho ready\nexec sleep 600")
	// Go makes / rprivate in the child after unsharing CLONE_NEWNS, so
	// nothing the child or BindInto mounts can propagate to the host.
	cmd.SysProcAttr = &syscall.SysProcAttr{Unshareflags: syscall.CLONE_NEWNS}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start namespace child: %v", err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || line != "ready\n" {
		t.Fatalf("namespace child setup: got %q (%v), stderr: %s", line, err, stderr.String())
	}
	return cmd.Process.Pid
}

func mountinfo(t *testing.T, pid int) []string {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/mountinfo", pid))
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSpace(string(data)), "\n")
}

// mountLineFor returns the mountinfo line of pid whose mount point is point.
func mountLineFor(t *testing.T, pid int, point string) string {
	t.Helper()
	for _, l := range mountinfo(t, pid) {
		if f := strings.Fields(l); len(f) > 4 && f[4] == point {
			return l
		}
	}
	return ""
}

// hostLeak fails the test if the host mount namespace mentions dir.
func hostLeak(t *testing.T, dir string) {
	t.Helper()
	for _, l := range mountinfo(t, os.Getpid()) {
		if strings.Contains(l, dir) {
			t.Errorf("mount leaked into the host namespace: %s", l)
		}
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestBindIntoMounts(t *testing.T) {
	requireRoot(t)
	base := t.TempDir()
	rootfs := filepath.Join(base, "rootfs")
	for _, d := range []string{"proc", "sys"} {
		if err := os.MkdirAll(filepath.Join(rootfs, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	memSrc := filepath.Join(base, "state", "meminfo")
	onlineSrc := filepath.Join(base, "state", "online")
	memContent := "MemTotal:         262144 kB\nMemFree:          131072 kB\n"
	writeFile(t, memSrc, memContent)
	writeFile(t, onlineSrc, "0\n")
	hostMeminfo, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		t.Fatal(err)
	}

	pid := startNS(t, fmt.Sprintf(
		"mount -t proc -o nosuid,nodev,noexec proc %[1]s/proc\nmount -t sysfs -o nosuid,nodev,noexec sysfs %[1]s/sys",
		rootfs))

	binds := []Bind{
		{memSrc, "/proc/meminfo"},
		{onlineSrc, "/sys/devices/system/cpu/online"},
		{memSrc, "/proc/procview-does-not-exist"},
		{memSrc, "/proc/sys"},   // a directory
		{memSrc, "/proc/self"},  // a symlink, in procfs itself
		{memSrc, "/etc/passwd"}, // not under /proc or /sys
		{memSrc, "/proc/../etc/passwd"},
		{filepath.Join(base, "state"), "/proc/uptime"}, // source is a directory
		{filepath.Join(base, "nope"), "/proc/loadavg"}, // source missing
	}
	want := []struct {
		status Status
		err    error
	}{
		{StatusMounted, nil},
		{StatusMounted, nil},
		{StatusMissing, ErrMissing},
		{StatusRefused, ErrNotRegular},
		{StatusRefused, ErrSymlink},
		{StatusRefused, ErrBadPath},
		{StatusRefused, ErrBadPath},
		{StatusRefused, ErrNotRegular},
		{StatusFailed, os.ErrNotExist},
	}
	before := mountinfo(t, pid)

	res, err := BindInto(testLogger(t), pid, rootfs, binds)
	if err != nil {
		t.Fatalf("BindInto: %v", err)
	}
	if len(res) != len(binds) {
		t.Fatalf("got %d results for %d binds", len(res), len(binds))
	}
	for i, r := range res {
		if r.Bind != binds[i] {
			t.Errorf("result %d is for %+v, want %+v", i, r.Bind, binds[i])
		}
		if r.Status != want[i].status {
			t.Errorf("%s: status %v (%v), want %v", r.Target, r.Status, r.Err, want[i].status)
		}
		if want[i].err == nil && r.Err != nil {
			t.Errorf("%s: unexpected error %v", r.Target, r.Err)
		}
		if want[i].err != nil && !errors.Is(r.Err, want[i].err) {
			t.Errorf("%s: error %v, want %v", r.Target, r.Err, want[i].err)
		}
		if r.Status == StatusMounted && !r.ReadOnly {
			t.Errorf("%s: mounted but not read-only", r.Target)
		}
	}
	// Exactly the two good binds were added.
	if got, wantN := len(mountinfo(t, pid)), len(before)+2; got != wantN {
		t.Errorf("child has %d mounts, want %d", got, wantN)
	}

	viaChild := func(target string) string { return fmt.Sprintf("/proc/%d/root%s%s", pid, rootfs, target) }
	got, err := os.ReadFile(viaChild("/proc/meminfo"))
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != memContent {
		t.Errorf("container meminfo = %q, want the source's %q", got, memContent)
	}
	if got, _ := os.ReadFile(viaChild("/sys/devices/system/cpu/online")); string(got) != "0\n" {
		t.Errorf("container cpu/online = %q, want %q", got, "0\n")
	}

	// Read-only even for root.
	if f, err := os.OpenFile(viaChild("/proc/meminfo"), os.O_WRONLY, 0); err == nil {
		f.Close()
		t.Errorf("opened the container's meminfo for writing")
	} else if !errors.Is(err, unix.EROFS) {
		t.Errorf("open for write: %v, want EROFS", err)
	}
	line := mountLineFor(t, pid, rootfs+"/proc/meminfo")
	if line == "" {
		t.Fatalf("no mountinfo line for %s/proc/meminfo", rootfs)
	}
	opts := strings.Split(strings.Fields(line)[5], ",")
	for _, o := range []string{"ro", "nosuid", "nodev", "noexec"} {
		if !contains(opts, o) {
			t.Errorf("mount options %v lack %q: %s", opts, o, line)
		}
	}

	// Mounted sees it in the child only.
	for _, tt := range []struct {
		pid    int
		target string
		want   bool
	}{
		{pid, rootfs + "/proc/meminfo", true},
		{pid, rootfs + "/sys/devices/system/cpu/online", true},
		{pid, rootfs + "/proc/uptime", false},
		{os.Getpid(), rootfs + "/proc/meminfo", false},
	} {
		if got, err := Mounted(tt.pid, tt.target); err != nil || got != tt.want {
			t.Errorf("Mounted(%d, %s) = %v, %v; want %v", tt.pid, tt.target, got, err, tt.want)
		}
	}

	// The host is untouched.
	if now, err := os.ReadFile("/proc/meminfo"); err != nil || bytes.Equal(now, []byte(memContent)) ||
		!bytes.HasPrefix(now, []byte("MemTotal:")) || len(now) < len(hostMeminfo)/2 {
		t.Errorf("host /proc/meminfo changed: %q (%v)", now, err)
	}
	hostLeak(t, base)

	// The bind pins the source inode: an in-place same-length rewrite shows.
	newContent := strings.Replace(memContent, "131072", "065536", 1)
	f, err := os.OpenFile(memSrc, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte(newContent), 0); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if got, _ := os.ReadFile(viaChild("/proc/meminfo")); string(got) != newContent {
		t.Errorf("after rewrite, container meminfo = %q, want %q", got, newContent)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestBindIntoRefuses builds hostile rootfs layouts; each bind must be
// refused and no mount may appear in the child or the host.
func TestBindIntoRefuses(t *testing.T) {
	requireRoot(t)
	tests := []struct {
		name string
		// setup prepares rootfs on the host and returns shell lines the
		// namespace child runs before BindInto.
		setup  func(t *testing.T, rootfs string) string
		target string
		want   error
	}{
		{
			name: "proc symlink to absolute /etc",
			setup: func(t *testing.T, rootfs string) string {
				// Inside the rootfs, /etc/meminfo exists: even a
				// redirection that stays in the rootfs is refused.
				writeFile(t, rootfs+"/etc/meminfo", "not procfs\n")
				symlink(t, "/etc", rootfs+"/proc")
				return ""
			},
			target: "/proc/meminfo",
			want:   ErrSymlink,
		},
		{
			name: "proc symlink to ../../../../etc",
			setup: func(t *testing.T, rootfs string) string {
				symlink(t, "../../../../etc", rootfs+"/proc")
				return ""
			},
			target: "/proc/meminfo",
			want:   ErrSymlink,
		},
		{
			name: "proc symlink to the host's /proc",
			setup: func(t *testing.T, rootfs string) string {
				symlink(t, "/proc", rootfs+"/proc")
				return ""
			},
			target: "/proc/meminfo",
			want:   ErrSymlink,
		},
		{
			name: "sys symlink to the host's /sys",
			setup: func(t *testing.T, rootfs string) string {
				symlink(t, "/sys", rootfs+"/sys")
				return ""
			},
			target: "/sys/devices/system/cpu/online",
			want:   ErrSymlink,
		},
		{
			name: "cpu dir symlink to the host's sysfs",
			setup: func(t *testing.T, rootfs string) string {
				mkdir(t, rootfs+"/sys/devices/system")
				symlink(t, "/sys/devices/system/cpu", rootfs+"/sys/devices/system/cpu")
				return ""
			},
			target: "/sys/devices/system/cpu/online",
			want:   ErrSymlink,
		},
		{
			name: "cpu dir relative symlink out",
			setup: func(t *testing.T, rootfs string) string {
				mkdir(t, rootfs+"/sys/devices/system")
				symlink(t, "../../../../../../../../../sys/devices/system/cpu", rootfs+"/sys/devices/system/cpu")
				return ""
			},
			target: "/sys/devices/system/cpu/online",
			want:   ErrSymlink,
		},
		{
			name: "target itself a symlink to the host's procfs file",
			setup: func(t *testing.T, rootfs string) string {
				mkdir(t, rootfs+"/proc")
				symlink(t, "/proc/meminfo", rootfs+"/proc/meminfo")
				return ""
			},
			target: "/proc/meminfo",
			want:   ErrSymlink,
		},
		{
			name: "target is a directory on procfs",
			setup: func(t *testing.T, rootfs string) string {
				mkdir(t, rootfs+"/proc")
				return "mount -t proc proc " + rootfs + "/proc"
			},
			target: "/proc/sys",
			want:   ErrNotRegular,
		},
		{
			name: "procfs not mounted on /proc",
			setup: func(t *testing.T, rootfs string) string {
				mkdir(t, rootfs+"/proc")
				return ""
			},
			target: "/proc/meminfo",
			want:   ErrWrongFS,
		},
		{
			name: "no /sys at all",
			setup: func(t *testing.T, rootfs string) string {
				return ""
			},
			target: "/sys/devices/system/cpu/online",
			want:   ErrWrongFS,
		},
		{
			name: "target is a fifo",
			setup: func(t *testing.T, rootfs string) string {
				mkdir(t, rootfs+"/proc")
				if err := unix.Mkfifo(rootfs+"/proc/meminfo", 0o644); err != nil {
					t.Fatal(err)
				}
				return ""
			},
			target: "/proc/meminfo",
			want:   ErrNotRegular,
		},
		{
			name: "target on a tmpfs",
			setup: func(t *testing.T, rootfs string) string {
				mkdir(t, rootfs+"/proc")
				return "mount -t tmpfs tmpfs " + rootfs + "/proc\necho fake > " + rootfs + "/proc/meminfo"
			},
			target: "/proc/meminfo",
			want:   ErrWrongFS,
		},
		{
			name: "target on the rootfs filesystem",
			setup: func(t *testing.T, rootfs string) string {
				writeFile(t, rootfs+"/sys/devices/system/cpu/online", "0-1\n")
				return ""
			},
			target: "/sys/devices/system/cpu/online",
			want:   ErrWrongFS,
		},
		{
			name: "sysfs mounted where procfs belongs",
			setup: func(t *testing.T, rootfs string) string {
				mkdir(t, rootfs+"/proc")
				return "mount -t sysfs sysfs " + rootfs + "/proc"
			},
			// A regular file on sysfs: only the filesystem check can refuse it.
			target: "/proc/kernel/uevent_seqnum",
			want:   ErrWrongFS,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base := t.TempDir()
			rootfs := filepath.Join(base, "rootfs")
			mkdir(t, rootfs)
			src := filepath.Join(base, "state", "file")
			writeFile(t, src, "procview\n")
			script := tt.setup(t, rootfs)
			pid := startNS(t, script+"\ntrue")
			before := mountinfo(t, pid)

			res, err := BindInto(testLogger(t), pid, rootfs, []Bind{{src, tt.target}})
			if err != nil {
				t.Fatalf("BindInto: %v", err)
			}
			if len(res) != 1 || res[0].Status != StatusRefused || !errors.Is(res[0].Err, tt.want) {
				t.Errorf("got %+v, want refused with %v", res, tt.want)
			}
			if after := mountinfo(t, pid); strings.Join(after, "\n") != strings.Join(before, "\n") {
				t.Errorf("child mounts changed:\nbefore:\n%s\nafter:\n%s",
					strings.Join(before, "\n"), strings.Join(after, "\n"))
			}
			hostLeak(t, base)
			if got, _ := os.ReadFile("/proc/meminfo"); bytes.Contains(got, []byte("procview")) {
				t.Errorf("host /proc/meminfo shows the source")
			}
		})
	}
}

// TestBindIntoRejectsCall covers errors that stop BindInto before any mount.
func TestBindIntoRejectsCall(t *testing.T) {
	requireRoot(t)
	base := t.TempDir()
	rootfs := filepath.Join(base, "rootfs")
	mkdir(t, rootfs+"/proc")
	src := filepath.Join(base, "file")
	writeFile(t, src, "procview\n")
	pid := startNS(t, "mount -t proc proc "+rootfs+"/proc")
	binds := []Bind{{src, "/proc/meminfo"}}
	before := mountinfo(t, pid)

	tests := []struct {
		name   string
		pid    int
		rootfs string
	}{
		{"rootfs with ..", pid, filepath.Join(base, "x") + "/../rootfs"},
		{"relative rootfs", pid, "rootfs"},
		{"rootfs is /", pid, "/"},
		{"our own mount namespace", os.Getpid(), rootfs},
		{"no such pid", 1 << 30, rootfs},
		{"pid 0", 0, rootfs},
	}
	for _, tt := range tests {
		if res, err := BindInto(testLogger(t), tt.pid, tt.rootfs, binds); err == nil {
			t.Errorf("%s: no error, results %+v", tt.name, res)
		}
	}
	if after := mountinfo(t, pid); strings.Join(after, "\n") != strings.Join(before, "\n") {
		t.Errorf("child mounts changed")
	}
	hostLeak(t, base)
	if ok, err := Mounted(os.Getpid(), rootfs+"/proc/meminfo"); err != nil || ok {
		t.Errorf("host Mounted = %v, %v", ok, err)
	}
}

func symlink(t *testing.T, oldname, newname string) {
	t.Helper()
	mkdir(t, filepath.Dir(newname))
	if err := os.Symlink(oldname, newname); err != nil {
		t.Fatal(err)
	}
}

func mkdir(t *testing.T, dir string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
}

// TestBindIntoTwice: a second run with the same source is a no-op reported as
// Already; a different source over a procview bind is refused, because the
// target is no longer on procfs.
func TestBindIntoTwice(t *testing.T) {
	requireRoot(t)
	base := t.TempDir()
	rootfs := filepath.Join(base, "rootfs")
	mkdir(t, rootfs+"/proc")
	src := filepath.Join(base, "state", "uptime")
	other := filepath.Join(base, "state", "other")
	writeFile(t, src, "4242.00 8484.00\n")
	writeFile(t, other, "1.00 2.00\n")
	pid := startNS(t, "mount -t proc proc "+rootfs+"/proc")
	before := len(mountinfo(t, pid))

	for i, want := range []bool{false, true} {
		res, err := BindInto(testLogger(t), pid, rootfs, []Bind{{src, "/proc/uptime"}})
		if err != nil {
			t.Fatal(err)
		}
		if res[0].Status != StatusMounted || res[0].Already != want || !res[0].ReadOnly {
			t.Errorf("run %d: %+v, want mounted read-only with Already=%v", i+1, res[0], want)
		}
	}
	res, err := BindInto(testLogger(t), pid, rootfs, []Bind{{other, "/proc/uptime"}})
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Status != StatusRefused || !errors.Is(res[0].Err, ErrWrongFS) {
		t.Errorf("different source: %+v, want refused with ErrWrongFS", res[0])
	}
	if got := len(mountinfo(t, pid)); got != before+1 {
		t.Errorf("child has %d mounts, want %d", got, before+1)
	}
	if got, _ := os.ReadFile(fmt.Sprintf("/proc/%d/root%s/proc/uptime", pid, rootfs)); string(got) != "4242.00 8484.00\n" {
		t.Errorf("container uptime = %q", got)
	}
}

// TestBindIntoThreadNotReused: the thread that entered the container's
// namespace must die with its goroutine, never run other goroutines.
func TestBindIntoThreadNotReused(t *testing.T) {
	requireRoot(t)
	base := t.TempDir()
	rootfs := filepath.Join(base, "rootfs")
	mkdir(t, rootfs+"/proc")
	pid := startNS(t, "mount -t proc proc "+rootfs+"/proc")
	ours, err := os.Readlink("/proc/self/ns/mnt")
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 20; i++ {
		// A missing target still makes BindInto enter the namespace.
		if _, err := BindInto(testLogger(t), pid, rootfs, []Bind{{"/proc/self/exe", "/proc/procview-missing"}}); err != nil {
			t.Fatal(err)
		}
	}
	if now, err := os.Readlink("/proc/self/ns/mnt"); err != nil || now != ours {
		t.Errorf("main thread now in mount namespace %s (%v), want %s", now, err, ours)
	}
	var wg sync.WaitGroup
	bad := make(chan string, 200)
	for i := 0; i < 200; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			ns, err := os.Readlink("/proc/thread-self/ns/mnt")
			if err != nil || ns != ours {
				bad <- fmt.Sprintf("%s (%v)", ns, err)
			}
			time.Sleep(time.Millisecond)
		}()
	}
	wg.Wait()
	close(bad)
	for b := range bad {
		t.Errorf("a thread is in mount namespace %s, want %s", b, ours)
	}
}
