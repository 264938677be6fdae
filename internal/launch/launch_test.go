package launch

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"

	"github.com/procview/procview/internal/state"
)

// TestSpawn starts stand-in daemons (shell scripts) and checks what Spawn
// makes of how they behave in their first moments.
func TestSpawn(t *testing.T) {
	tests := []struct {
		name string
		// script is the daemon's body; $ROOT is the state root.
		script  string
		missing bool // no daemon binary at all
		wantErr string
		started bool // the daemon is left running
	}{
		{name: "takes the lock", script: `echo $$ >"$ROOT/procviewd.pid"; while :; do sleep 1; done`, started: true},
		{name: "dies at start", script: `echo "procviewd: parse config: bad key" >&2; exit 1`,
			wantErr: "parse config: bad key"},
		{name: "killed at start", script: `kill -9 $$`, wantErr: "signal: killed"},
		{name: "loses a race", script: `exit 0`},
		{name: "slow but alive", script: `while :; do sleep 1; done`, started: true},
		{name: "binary missing", missing: true, wantErr: "no such file"},
	}
	old := StartWait
	StartWait = 300 * time.Millisecond
	t.Cleanup(func() { StartWait = old })
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			root := state.Root(filepath.Join(dir, "state"))
			bin := filepath.Join(dir, "procviewd")
			if !tt.missing {
				body := "#!/bin/sh\nROOT=" + string(root) + "\n" + tt.script + "\n"
				if err := os.WriteFile(bin, []byte(body), 0o755); err != nil {
					t.Fatal(err)
				}
			}
			log := logrus.New()
			log.Out = &strings.Builder{}
			err := Spawn(log, root, bin, nil)
			if tt.wantErr == "" && err != nil {
				t.Fatalf("Ensure() = %v, want nil", err)
			}
			if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("Ensure() = %v, want an error containing %q", err, tt.wantErr)
			}
			pid := findDaemon(t, bin)
			if tt.started != (pid > 0) {
				t.Errorf("daemon left running = %v, want %v", pid > 0, tt.started)
			}
			if pid > 0 {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
		})
	}
}

// findDaemon returns the pid of a running process whose command line
// names bin, or 0.
func findDaemon(t *testing.T, bin string) int {
	t.Helper()
	ents, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || !strings.Contains(string(b), bin) {
			continue
		}
		st, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err == nil && !strings.Contains(string(st), ") Z") {
			return pid
		}
	}
	return 0
}

// TestEnsure covers the caller's side with stand-in trampolines: not run
// when a daemon holds the lock, their failure reported with their message.
func TestEnsure(t *testing.T) {
	tests := []struct {
		name    string
		script  string // the trampoline; "$@" are its arguments
		held    bool
		wantErr string
	}{
		{name: "trampoline succeeds", script: `[ "$1" = --spawn ] || exit 3`},
		{name: "trampoline fails", script: `echo "start log says: bad config" >&2; exit 1`, wantErr: "bad config"},
		{name: "already running: not called", script: `exit 1`, held: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			root := state.Root(filepath.Join(dir, "state"))
			bin := filepath.Join(dir, "procviewd")
			if err := os.WriteFile(bin, []byte("#!/bin/sh\n"+tt.script+"\n"), 0o755); err != nil {
				t.Fatal(err)
			}
			if tt.held {
				holdLock(t, root)
			}
			err := Ensure(logrus.New(), root, bin, "")
			if tt.wantErr == "" && err != nil {
				t.Fatalf("Ensure() = %v, want nil", err)
			}
			if tt.wantErr != "" && (!errors.Is(err, ErrStart) || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("Ensure() = %v, want ErrStart containing %q", err, tt.wantErr)
			}
		})
	}
}

// TestEnsureRealDaemon starts the real procviewd through the trampoline:
// it must hold the lock when Ensure returns and must not be a child of the
// caller (a subreaper runtime would wait for it).
func TestEnsureRealDaemon(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("procviewd moves into its own cgroup: needs root")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "procviewd")
	build := exec.Command("go", "build", "-o", bin, "../../gen")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build procviewd: %v\n%s", err, out)
	}
	root := state.Root(filepath.Join(dir, "state"))
	cfg := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(cfg, []byte(`state_root = "`+string(root)+`"`+"\nlog_file = \""+dir+"/log\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := Ensure(logrus.New(), root, bin, cfg); err != nil {
		t.Fatalf("Ensure() = %v", err)
	}
	b, err := os.ReadFile(root.PidFile())
	if err != nil {
		t.Fatal(err)
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	t.Cleanup(func() { _ = syscall.Kill(pid, syscall.SIGKILL) })
	if up, err := Running(root); err != nil || !up {
		t.Errorf("Running() = %v, %v after Ensure, want true", up, err)
	}
	st, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		t.Fatalf("daemon pid %d: %v", pid, err)
	}
	// Fields after the command: state, ppid, pgrp, session.
	f := strings.Fields(string(st[strings.LastIndexByte(string(st), ')')+1:]))
	if ppid, _ := strconv.Atoi(f[1]); ppid == os.Getpid() {
		t.Errorf("procviewd's parent is the caller (pid %d)", ppid)
	}
	if sid, _ := strconv.Atoi(f[3]); sid != pid {
		t.Errorf("procviewd's session is %d, want its own (%d)", sid, pid)
	}
	// A second Ensure finds it and starts nothing.
	if err := Ensure(logrus.New(), root, "/nonexistent/procviewd", cfg); err != nil {
		t.Errorf("second Ensure() = %v, want nil without starting", err)
	}
}

func holdLock(t *testing.T, root state.Root) {
	t.Helper()
	if err := os.MkdirAll(string(root), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(root.LockFile(), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		t.Fatal(err)
	}
}

func TestCloseInherited(t *testing.T) {
	// What an exec'd process holds from its caller: no FD_CLOEXEC.
	inherited, err := unix.Open("/dev/null", unix.O_RDONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	own, err := os.Open("/dev/null")
	if err != nil {
		t.Fatal(err)
	}
	defer own.Close()
	CloseInherited()
	if _, err := unix.FcntlInt(uintptr(inherited), unix.F_GETFD, 0); err != unix.EBADF {
		unix.Close(inherited)
		t.Errorf("inherited fd %d still open (F_GETFD err %v)", inherited, err)
	}
	if _, err := unix.FcntlInt(own.Fd(), unix.F_GETFD, 0); err != nil {
		t.Errorf("own close-on-exec fd %d closed: %v", own.Fd(), err)
	}
}
