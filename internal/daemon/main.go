package daemon

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/procview/procview/internal/config"
	"github.com/procview/procview/internal/launch"
	"github.com/procview/procview/internal/logging"
	"github.com/procview/procview/internal/state"
)

// gcPercent is procviewd's GOGC unless the environment sets one.
const gcPercent = 50

// Main runs procviewd and returns its exit code.
func Main(args []string) int {
	// Before anything else opens a descriptor (launch.CloseInherited).
	launch.CloseInherited()
	fl := flag.NewFlagSet("procviewd", flag.ContinueOnError)
	cfgPath := fl.String("config", config.Path(), "configuration file")
	ownCgroup := fl.Bool("own-cgroup", false, "move into its own cgroup (set when a hook starts the daemon)")
	once := fl.Bool("once", false, "refresh every container once and exit")
	stateRoot := fl.String("state-root", "", "override state_root")
	metricsAddr := fl.String("metrics-address", "", "override metrics_address (host:port; \"off\" disables)")
	spawn := fl.Bool(strings.TrimPrefix(launch.SpawnFlag, "--"), false, "start procviewd detached, wait until it holds the lock, and exit (used by procview-runc and procview-hook)")
	stderrUntilLocked := fl.Bool("stderr-until-locked", false, "stop writing to stderr once the lock is taken (set when a hook starts the daemon: its stderr is the start log the hook reads)")
	if err := fl.Parse(args); err != nil {
		return 2
	}
	cfg, err := config.Load(*cfgPath)
	if err != nil {
		fmt.Fprintln(os.Stderr, "procviewd:", err)
		return 1
	}
	if *stateRoot != "" {
		cfg.StateRoot = *stateRoot
	}
	switch *metricsAddr {
	case "":
	case "off":
		cfg.MetricsAddress = ""
	default:
		cfg.MetricsAddress = *metricsAddr
	}
	if *spawn {
		return spawnDaemon(cfg, *cfgPath)
	}
	// systemd captures stderr; a daemon started by a hook has /dev/null there
	// and relies on log_file.
	log, closeLog, _ := logging.New(logging.Options{Level: cfg.LogLevel, File: cfg.LogFile, Stderr: os.Stderr})
	defer closeLog()
	entry := log.WithField("component", "procviewd")

	d, err := New(cfg, entry)
	if err != nil {
		entry.WithError(err).Error("start")
		return 1
	}
	if err := d.Lock(); err != nil {
		if errors.Is(err, ErrRunning) {
			entry.Debug("another procviewd holds the lock; exiting")
			return 0
		}
		entry.WithError(err).Error("lock state root")
		return 1
	}
	if *stderrUntilLocked {
		// The start log only says why a start failed; later logs go to
		// log_file.
		if err := quietStderr(); err != nil {
			entry.WithError(err).Warn("could not detach stderr")
		}
	}
	if *ownCgroup {
		if err := JoinOwnCgroup(cfg.CgroupRoot, d.Sampler.Mode); err != nil {
			entry.WithError(err).Warn("could not move into own cgroup")
		}
	}
	if *once {
		d.Round()
		d.shutdown()
		return 0
	}
	if os.Getenv("GOGC") == "" {
		// A long-lived heap of ~25 kB per container and ~11 kB of garbage
		// per container and round: collecting at +50 % instead of +100 %
		// keeps 1000 containers near 50 MB of RSS for a few % more CPU
		// (docs/benchmarks.md). GOGC in the environment overrides it.
		debug.SetGCPercent(gcPercent)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	d.Serve(ctx)
	if err := d.Run(ctx); err != nil {
		entry.WithError(err).Error("run")
		return 1
	}
	entry.Info("procviewd stopped")
	return 0
}

// spawnDaemon is the trampoline (launch.Spawn): it reports on stderr and
// in its exit code whether the daemon took the lock.
func spawnDaemon(cfg config.Config, cfgPath string) int {
	log, closeLog, _ := logging.New(logging.Options{Level: "warn", File: cfg.LogFile, Stderr: os.Stderr})
	defer closeLog()
	entry := log.WithField("component", "procviewd-spawn")
	self, err := os.Executable()
	if err != nil {
		entry.WithError(err).Error("find own executable")
		return 1
	}
	args := []string{"--own-cgroup", "--stderr-until-locked", "--state-root", cfg.StateRoot}
	if cfgPath != "" {
		args = append(args, "--config", cfgPath)
	}
	if err := launch.Spawn(entry, state.Root(cfg.StateRoot), self, args); err != nil {
		entry.WithError(err).Error("start procviewd")
		return 1
	}
	return 0
}

// quietStderr points fd 2 at /dev/null.
func quietStderr() error {
	null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("open %s: %w", os.DevNull, err)
	}
	defer null.Close()
	if err := unix.Dup3(int(null.Fd()), 2, 0); err != nil {
		return fmt.Errorf("dup %s onto stderr: %w", os.DevNull, err)
	}
	return nil
}
