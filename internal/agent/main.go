package agent

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/procview/procview/internal/config"
	"github.com/procview/procview/internal/launch"
	"github.com/procview/procview/internal/logging"
	"github.com/procview/procview/internal/state"
)

// Name is procview-agent's file name, looked up next to procview-runc.
const Name = "procview-agent"

// Main runs procview-agent and returns its exit code.
func Main(args []string) int {
	fl := flag.NewFlagSet(Name, flag.ContinueOnError)
	cfgPath := fl.String("config", config.Path(), "configuration file")
	stateRoot := fl.String("state-root", "", "override state_root")
	spawn := fl.Bool(strings.TrimPrefix(launch.SpawnFlag, "--"), false, "start the agent detached, wait until its socket accepts, and exit (used by procview-runc)")
	worker := fl.Bool(strings.TrimPrefix(WorkerFlag, "--"), false, "run as the worker of a holder (internal)")
	record := fl.String("record", "", "the worker's recovery record (internal)")
	if err := fl.Parse(args); err != nil {
		return 2
	}
	cfg, err := config.Load(*cfgPath)
	if err != nil {
		fmt.Fprintln(os.Stderr, Name+":", err)
		return 1
	}
	if *stateRoot != "" {
		cfg.StateRoot = *stateRoot
	}
	root := state.Root(cfg.StateRoot)
	// stderr: the journal under systemd, agent.start.log when spawned.
	log, closeLog, _ := logging.New(logging.Options{Level: cfg.LogLevel, File: cfg.LogFile, Stderr: os.Stderr})
	defer closeLog()
	self, err := os.Executable()
	if err != nil {
		log.WithError(err).Error("find own executable")
		return 1
	}
	passOn := []string{"--state-root", cfg.StateRoot, "--config", *cfgPath}
	switch {
	case *spawn:
		entry := log.WithField("component", Name+"-spawn")
		err := launch.SpawnUntil(entry, cfg.StateRoot, filepath.Join(cfg.StateRoot, "agent.start.log"), self, passOn,
			func(int) bool { return Accepts(root) })
		if err != nil {
			entry.WithError(err).Error("start " + Name)
			return 1
		}
		return 0
	case *worker:
		entry := log.WithFields(logrus.Fields{"component": Name, "role": "worker"})
		if err := WorkerMain(root, entry, *record); err != nil {
			entry.WithError(err).Error("worker")
			return 1
		}
		return 0
	}
	entry := log.WithFields(logrus.Fields{"component": Name, "role": "holder"})
	h := &Holder{Root: root, Log: entry, Exe: self, WorkerArgs: passOn}
	if err := h.Run(); err != nil {
		if errors.Is(err, ErrRunning) {
			entry.Debug("another agent holds the lock; exiting")
			return 0
		}
		entry.WithError(err).Error("run")
		return 1
	}
	return 0
}

// probeTimeout bounds a connect to the agent's socket.
const probeTimeout = 200 * time.Millisecond

// Accepts reports whether an agent accepts connections on root's socket.
func Accepts(root state.Root) bool {
	c, err := net.DialTimeout("unix", SocketPath(root), probeTimeout)
	if err != nil {
		return false
	}
	_ = c.Close()
	return true
}

// Ensure starts the agent at path for root unless its socket accepts,
// through the trampoline `path --spawn`, and reports whether it accepts
// afterwards (an error says why not).
func Ensure(log logrus.FieldLogger, root state.Root, path, configPath string) error {
	if Accepts(root) {
		return nil
	}
	args := []string{launch.SpawnFlag, "--state-root", string(root)}
	if configPath != "" {
		args = append(args, "--config", configPath)
	}
	ctx, cancel := context.WithTimeout(context.Background(), launch.StartWait+2*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Dir = "/"
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("start %s for %s: %v: %s", path, SocketPath(root), err, strings.TrimSpace(string(out)))
	}
	if !Accepts(root) {
		return fmt.Errorf("%s started but %s does not accept", path, SocketPath(root))
	}
	log.WithField("agent", path).Debug(Name + " running")
	return nil
}
