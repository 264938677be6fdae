package hook

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/procview/procview/internal/config"
	"github.com/procview/procview/internal/launch"
	"github.com/procview/procview/internal/logging"
)

// Main runs the hook binary and returns its exit code. Errors are fail-open:
// logged, exit 0, the container starts without (or with stale) views — unless
// fail_mode is "closed".
func Main(args []string, getenv func(string) string, stdin io.Reader, stderr io.Writer) int {
	fl := flag.NewFlagSet("procview-hook", flag.ContinueOnError)
	fl.SetOutput(io.Discard)
	cfgPath := fl.String("config", config.Path(), "configuration file")
	if err := fl.Parse(args); err != nil || fl.NArg() != 1 {
		fmt.Fprintln(stderr, "usage: procview-hook [--config PATH] create-runtime|poststop")
		return 2
	}
	stage := fl.Arg(0)
	cfg, cfgErr := config.Load(*cfgPath)
	log, closeLog, _ := logging.New(logging.Options{
		Level: cfg.LogLevel, File: cfg.LogFile,
		RuncLog: getenv(config.EnvRuncLog), RuncLogFormat: getenv(config.EnvRuncLogFormat), RuncLogExisting: true,
	})
	defer closeLog()
	entry := log.WithFields(map[string]any{"component": "hook", "stage": stage})
	if cfgErr != nil {
		entry.WithError(cfgErr).Error("configuration invalid; using defaults")
	}

	self, _ := os.Executable()
	h := &Hook{Cfg: cfg, Log: entry, DaemonPath: launch.DaemonPath(cfg.DaemonPath, self)}
	if *cfgPath != config.DefaultPath {
		h.ConfigPath = *cfgPath
	}

	start := time.Now()
	err := runWithin(budget(cfg.HookTimeout), func() error { return run(h, stage, stdin) })
	entry = entry.WithField("took", time.Since(start).Round(time.Microsecond).String())
	if err == nil {
		entry.Debug("done")
		return 0
	}
	if stage == StageCreateRuntime && cfg.FailMode == config.FailClosed {
		entry.WithError(err).Error("refusing container start (fail_mode closed)")
		fmt.Fprintf(stderr, "procview: refusing to start the container (fail_mode = \"closed\"): %v\n", err)
		return 1
	}
	entry.WithError(err).Error("procview failed; container starts without views (fail_mode open)")
	return 0
}

// ErrTimeout means the hook gave up before the runtime's timeout: a stuck
// filesystem (cgroupfs, the rootfs, the state root) must not turn into a
// container that fails to start in fail_mode open.
var ErrTimeout = errors.New("procview-hook gave up")

// budget is how long the hook works before giving up: four fifths of the
// hook's timeout in the spec (hook_timeout seconds), leaving the rest to
// report and exit before the runtime kills it. Zero means no limit (the
// spec has none either).
func budget(hookTimeout int) time.Duration {
	return time.Duration(hookTimeout) * time.Second * 4 / 5
}

// runWithin runs f and returns its error, or ErrTimeout once limit has
// passed (limit 0: no limit). f keeps running; the process exits soon
// after, which ends it wherever it is blocked.
func runWithin(limit time.Duration, f func() error) error {
	if limit <= 0 {
		return f()
	}
	done := make(chan error, 1)
	go func() { done <- f() }()
	t := time.NewTimer(limit)
	defer t.Stop()
	select {
	case err := <-done:
		return err
	case <-t.C:
		return fmt.Errorf("%w after %v: a filesystem it reads may be stuck", ErrTimeout, limit)
	}
}

func run(h *Hook, stage string, stdin io.Reader) (err error) {
	defer func() {
		// A bug must not take a container start down with it.
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	st, err := ReadState(stdin)
	if err != nil {
		return err
	}
	switch stage {
	case StageCreateRuntime, "createRuntime", "prestart":
		return h.CreateRuntime(st)
	case StagePoststop:
		return h.Poststop(st)
	}
	return errors.New("unknown stage " + stage)
}
