// Package launch starts procviewd detached from whoever asks for it.
//
// A daemon started by a hook or by procview-runc must not stay a child of
// the container runtime: crun is a child subreaper while it runs a
// container in the foreground and waits for every descendant, so `crun run`
// would never return. Ensure therefore runs `procviewd --spawn`, a
// short-lived trampoline that starts the real daemon (its own session,
// stdio detached) and exits once the daemon holds the state root's lock.
// The daemon is re-parented to the nearest subreaper above the caller, or
// to init. procview-runc calls Ensure before it execs the runtime, when it
// is not yet anyone's subreaper; the hook calls it again as a fallback.
package launch

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"

	"github.com/procview/procview/internal/state"
)

// SpawnFlag makes procviewd act as the trampoline (Spawn).
const SpawnFlag = "--spawn"

// StartWait bounds how long Spawn waits for the daemon to take the lock; a
// daemon that dies at start (bad config, unwritable state root) usually
// does so within a few milliseconds.
var StartWait = time.Second

// ErrStart means the daemon could not be started or exited with an error
// before it took the lock.
var ErrStart = errors.New("procviewd did not start")

// Running reports whether a procviewd holds root's lock.
func Running(root state.Root) (bool, error) {
	f, held, err := root.TryLock()
	if f != nil {
		f.Close() // releases our probe lock
	}
	return held, err
}

// DaemonName is procviewd's file name, looked up next to the calling binary
// when daemon_path is not configured.
const DaemonName = "procviewd"

// DaemonPath is configured, or procviewd next to the binary self.
func DaemonPath(configured, self string) string {
	if configured != "" {
		return configured
	}
	return filepath.Join(filepath.Dir(self), DaemonName)
}

// Ensure starts procviewd for root unless one holds its lock, through the
// trampoline `daemonPath --spawn`, and returns once the daemon holds the
// lock. The error wraps ErrStart with the daemon's own message when it
// could not start.
func Ensure(log logrus.FieldLogger, root state.Root, daemonPath, configPath string) error {
	if up, err := Running(root); err != nil || up {
		return err
	}
	args := []string{SpawnFlag, "--state-root", string(root)}
	if configPath != "" {
		args = append(args, "--config", configPath)
	}
	ctx, cancel := context.WithTimeout(context.Background(), StartWait+2*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, daemonPath, args...)
	cmd.Dir = "/"
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = "no output"
		}
		return fmt.Errorf("%w: %s: %v: %s", ErrStart, daemonPath, err, msg)
	}
	log.WithField("daemon", daemonPath).Debug("procviewd running")
	return nil
}

// Spawn is the trampoline's work: start the daemon at daemonPath with args
// in its own session, its stdin and stdout on /dev/null and its stderr in
// root.StartLog() (the daemon stops writing there once it holds the lock),
// then wait until it has written its pid file (it holds the lock then). A
// daemon exiting first with status 0 lost a race to another one, which
// holds the lock: that is success too. Otherwise the error holds the end of
// its stderr.
func Spawn(log logrus.FieldLogger, root state.Root, daemonPath string, args []string) error {
	return SpawnUntil(log, string(root), root.StartLog(), daemonPath, args, func(pid int) bool {
		b, err := os.ReadFile(root.PidFile())
		return err == nil && string(b) == strconv.Itoa(pid)+"\n"
	})
}

// SpawnUntil is Spawn for any long-lived procview process: it starts path
// with args in its own session in dir (created), stderr in startLogPath,
// and returns once ready(pid) holds, the process exited with status 0, or
// StartWait passed.
func SpawnUntil(log logrus.FieldLogger, dir, startLogPath, daemonPath string, args []string, ready func(pid int) bool) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create state root %s: %w", dir, err)
	}
	startLog, err := os.OpenFile(startLogPath, os.O_WRONLY|os.O_CREATE|os.O_TRUNC|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return fmt.Errorf("open daemon start log: %w", err)
	}
	defer startLog.Close()
	cmd := exec.Command(daemonPath, args...)
	cmd.SysProcAttr = &unix.SysProcAttr{Setsid: true}
	cmd.Dir = "/"
	cmd.Stderr = startLog
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", daemonPath, err)
	}
	pid := cmd.Process.Pid
	log = log.WithField("pid", pid)
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	deadline := time.NewTimer(StartWait)
	defer deadline.Stop()
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case err := <-exited:
			if err == nil {
				log.Debug("procviewd exited: another one runs")
				return nil
			}
			return fmt.Errorf("%s exited: %v: %s", daemonPath, err, tail(startLogPath, 512))
		case <-deadline.C:
			// Slow but alive: it keeps starting on its own.
			log.WithField("waited", StartWait).Warn("started; not ready yet, it keeps starting on its own")
			return nil
		case <-tick.C:
			if ready(pid) {
				log.WithField("path", daemonPath).Info("started")
				return nil
			}
		}
	}
}

// tail returns the last n bytes of the file at path, trimmed, or a note
// that it is empty.
func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil || len(strings.TrimSpace(string(b))) == 0 {
		return "no output"
	}
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return strings.TrimSpace(string(b))
}

// CloseInherited closes every descriptor above 2 that the process inherited
// (one without FD_CLOEXEC: everything Go opens has it). procviewd calls it
// first thing, as trampoline and as daemon: whoever started procview-runc
// or the hook may have handed it descriptors meant for runc
// (--preserve-fds, console sockets, pipes), and a long-lived root daemon
// must not keep them open.
func CloseInherited() {
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		// No /proc: probe the usual range.
		for fd := 3; fd < 1024; fd++ {
			closeIfInherited(fd)
		}
		return
	}
	for _, e := range fds {
		if fd, err := strconv.Atoi(e.Name()); err == nil && fd > 2 {
			closeIfInherited(fd)
		}
	}
}

func closeIfInherited(fd int) {
	flags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
	if err == nil && flags&unix.FD_CLOEXEC == 0 {
		unix.Close(fd)
	}
}
