package daemon

import (
	"errors"
	"os"
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

// TestEnsure starts stand-in daemons (shell scripts) and checks what Ensure
// makes of how they behave in their first moments.
func TestEnsure(t *testing.T) {
	tests := []struct {
		name string
		// script is the daemon's body; $ROOT is the state root.
		script  string
		missing bool // no daemon binary at all
		held    bool // another process holds the lock already
		wantErr string
		isStart bool // the error wraps ErrStart
		started bool // the daemon is left running
	}{
		{name: "takes the lock", script: `echo $$ >"$ROOT/procviewd.pid"; while :; do sleep 1; done`, started: true},
		{name: "dies at start", script: `echo "procviewd: parse config: bad key" >&2; exit 1`,
			wantErr: "parse config: bad key", isStart: true},
		{name: "killed at start", script: `kill -9 $$`, wantErr: "signal: killed", isStart: true},
		{name: "loses a race", script: `exit 0`},
		{name: "slow but alive", script: `while :; do sleep 1; done`, started: true},
		{name: "binary missing", missing: true, wantErr: "no such file"},
		{name: "already running", script: `exit 1`, held: true},
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
			if tt.held {
				if err := os.MkdirAll(string(root), 0o755); err != nil {
					t.Fatal(err)
				}
				f, err := os.OpenFile(root.LockFile(), os.O_RDWR|os.O_CREATE, 0o600)
				if err != nil {
					t.Fatal(err)
				}
				defer f.Close()
				if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
					t.Fatal(err)
				}
			}
			log := logrus.New()
			log.Out = &strings.Builder{}
			err := Ensure(log, root, bin, "")
			if tt.wantErr == "" && err != nil {
				t.Fatalf("Ensure() = %v, want nil", err)
			}
			if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("Ensure() = %v, want an error containing %q", err, tt.wantErr)
			}
			if errors.Is(err, ErrStart) != tt.isStart {
				t.Errorf("errors.Is(%v, ErrStart) = %v, want %v", err, !tt.isStart, tt.isStart)
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
