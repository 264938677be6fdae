// Package wrapper is procview-runc, a drop-in for runc.
//
// For "create" and "run" it adds procview's hooks (and, when the runtime
// supports it, a time namespace) to the bundle's config.json and makes sure
// procviewd runs, then it replaces itself with the real runtime with the
// argv it was given (only argv[0] changes) and the same environment and
// file descriptors. Every other command is exec'd untouched. See
// integration.md §8–§10.
//
// Failure policy: with fail_mode "open" (default) any error while editing
// the spec is logged and the real runtime runs on the untouched config.json;
// with "closed" the wrapper refuses, exiting 1.
package wrapper

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"

	"github.com/procview/procview/internal/config"
	"github.com/procview/procview/internal/launch"
	"github.com/procview/procview/internal/logging"
	"github.com/procview/procview/internal/spec"
	"github.com/procview/procview/internal/state"
)

// HookName is the hook binary's file name, looked up next to the wrapper
// when hook_path is not configured, and its argv[0] in the spec.
const HookName = "procview-hook"

// Hook subcommands, one per stage.
const (
	HookCmdCreateRuntime = "create-runtime"
	HookCmdPoststop      = "poststop"
)

// Main runs the wrapper on os.Args-style argv. It only returns when it does
// not exec the real runtime; the result is then the exit code.
func Main(argv []string) int {
	a := ParseArgs(argv[1:])

	cfgPath := config.Path()
	cfg, cfgErr := config.Load(cfgPath)
	log, closeLog, logErr := logging.New(logging.Options{
		Level:         cfg.LogLevel,
		Debug:         a.Debug,
		File:          cfg.LogFile,
		RuncLog:       a.Log,
		RuncLogFormat: a.LogFormat,
	})
	// The log files are O_CLOEXEC (Go's default), so exec closes them; close
	// explicitly only on the paths that return.
	defer func() { _ = closeLog() }()
	entry := log.WithFields(logrus.Fields{"command": a.Command})
	if a.ContainerID != "" {
		entry = entry.WithField("container", a.ContainerID)
	}
	if logErr != nil {
		entry.WithError(logErr).Debug("procview-runc: some log sinks are unavailable")
	}
	if cfgErr != nil {
		entry.WithError(cfgErr).Warn("procview-runc: config unreadable, using defaults")
	}

	self, _ := os.Executable()
	rt, err := FindRuntime(cfg.Runtime, os.Getenv("PATH"), self)
	if err != nil {
		// Nothing to hand over to: report it like runc would, on stderr too.
		msg := fmt.Sprintf("procview-runc: find real runtime: %v", err)
		entry.Error(msg)
		fmt.Fprintln(os.Stderr, msg)
		return 1
	}

	if a.EditsSpec() {
		w := &Wrapper{
			Config:        cfg,
			ConfigPath:    cfgPath,
			Runtime:       rt,
			Self:          self,
			Log:           entry,
			RuncLog:       a.Log,
			RuncLogFormat: a.LogFormat,
		}
		if err := w.Prepare(context.Background(), a); err != nil {
			if code, stop := w.fail(err, a, os.Stderr); stop {
				return code
			}
		} else {
			w.ensureDaemon()
		}
	}

	if a.Command == "exec" {
		ensureAgentForExec(cfg, cfgPath, self, entry)
	}

	err = unix.Exec(rt, append([]string{rt}, argv[1:]...), os.Environ())
	msg := fmt.Sprintf("procview-runc: exec %s: %v", rt, err)
	entry.Error(msg)
	fmt.Fprintln(os.Stderr, msg)
	return 1
}

// Wrapper edits a bundle's spec for procview.
type Wrapper struct {
	Config config.Config
	// ConfigPath is the config file in use; the hooks get --config=<it>
	// unless it is config.DefaultPath.
	ConfigPath string
	// Runtime is the real runtime, asked for its features.
	Runtime string
	// Self is the wrapper's own executable; procview-hook is looked up
	// beside it when Config.HookPath is empty.
	Self string
	Log  logrus.FieldLogger
	// RuncLog and RuncLogFormat are the caller's runc --log and
	// --log-format, handed to the hooks (HookEnv).
	RuncLog, RuncLogFormat string
	// Namespaces lists the runtime's namespaces; nil means CachedNamespaces
	// in the state root.
	Namespaces func(ctx context.Context, runtime string) ([]string, error)
	// Boottime returns CLOCK_BOOTTIME seconds; nil means the real clock.
	Boottime func() (int64, error)
	// SeccompNotify reports whether the runtime supports SCMP_ACT_NOTIFY;
	// nil means CachedSeccompNotify in the state root.
	SeccompNotify func(ctx context.Context, runtime string) (bool, error)
}

// Prepare edits the config.json of a's bundle: it adds the procview hooks
// and maybe a time namespace, writing the file atomically, or leaves it
// untouched. The error wraps spec.ErrExcluded when the container opts out.
func (w *Wrapper) Prepare(ctx context.Context, a Args) error {
	if a.ConfigFile != "" {
		return fmt.Errorf("bundle config file %q given with -f/--config: not supported", a.ConfigFile)
	}
	bundle, err := filepath.Abs(a.Bundle) // "" is the cwd, like runc's default
	if err != nil {
		return fmt.Errorf("resolve bundle %q: %w", a.Bundle, err)
	}
	path := filepath.Join(bundle, "config.json")
	log := w.Log.WithField("bundle", bundle)

	s, err := spec.Read(path)
	if err != nil {
		return err
	}
	if err := spec.Excluded(s); err != nil {
		return err
	}
	mods, err := w.modifiers(ctx, s, log)
	if err != nil {
		return err
	}
	sys, err := w.syscallModifier(ctx, s, a.ContainerID, log)
	if err != nil {
		return err
	}
	if sys != nil {
		mods = append(mods, sys)
	}
	if err := mods.Modify(s); err != nil {
		return fmt.Errorf("edit spec %s: %w", path, err)
	}
	if !s.Changed() {
		log.Debug("spec already has procview's hooks")
		return nil
	}
	b, err := s.Marshal()
	if err != nil {
		return err
	}
	if err := spec.WriteFile(path, b); err != nil {
		return fmt.Errorf("write spec: %w", err)
	}
	log.Info("spec patched with procview hooks")
	return nil
}

// modifiers builds procview's edits for s.
func (w *Wrapper) modifiers(ctx context.Context, s *spec.Spec, log logrus.FieldLogger) (spec.Modifiers, error) {
	hookPath, err := w.hookPath()
	if err != nil {
		return nil, err
	}
	var timeout *int
	if w.Config.HookTimeout > 0 {
		t := w.Config.HookTimeout
		timeout = &t
	}
	env := HookEnv(w.RuncLog, w.RuncLogFormat)
	mods := spec.Modifiers{
		spec.AddHook{Stage: spec.StageCreateRuntime, Hook: specs.Hook{
			Path: hookPath, Args: HookArgs(w.ConfigPath, HookCmdCreateRuntime), Env: env, Timeout: timeout}},
		spec.AddHook{Stage: spec.StagePoststop, Hook: specs.Hook{
			Path: hookPath, Args: HookArgs(w.ConfigPath, HookCmdPoststop), Env: env, Timeout: timeout}},
	}

	if w.Config.TimeNamespace != "auto" || !s.HasLinux() {
		return mods, nil
	}
	nss, err := s.Namespaces()
	if err != nil {
		return nil, fmt.Errorf("read spec namespaces: %w", err)
	}
	for _, ns := range nss {
		if ns.Type == specs.TimeNamespace {
			return mods, nil // the spec chose its own time namespace
		}
	}
	list := w.Namespaces
	if list == nil {
		list = CachedNamespaces(state.Root(w.Config.StateRoot).RuntimeCache())
	}
	rtNss, err := list(ctx, w.Runtime)
	if err != nil {
		// Optional feature: a runtime without "features" (runc < 1.1, crun
		// < 1.9) simply gets no time namespace.
		log.WithError(err).Debug("runtime features unavailable; no time namespace")
		return mods, nil
	}
	if !hasString(rtNss, string(specs.TimeNamespace)) {
		log.Debug("runtime has no time namespace support")
		return mods, nil
	}
	boottime := w.Boottime
	if boottime == nil {
		boottime = Boottime
	}
	secs, err := boottime()
	if err != nil {
		return nil, err
	}
	return append(mods, spec.TimeNamespace{BoottimeOffset: -secs}), nil
}

// ensureDaemon starts procviewd now, before the runtime runs: a daemon the
// hook started would be a descendant of the runtime, and crun, a child
// subreaper in the foreground, would wait for it (launch). Failure is only
// noted: the hook tries again and applies fail_mode.
func (w *Wrapper) ensureDaemon() {
	path := launch.DaemonPath(w.Config.DaemonPath, w.Self)
	cfg := w.ConfigPath
	if cfg == config.DefaultPath {
		cfg = ""
	}
	if err := launch.Ensure(w.Log, state.Root(w.Config.StateRoot), path, cfg); err != nil {
		w.Log.WithError(err).Debug("procviewd not started before the runtime; the hook will retry")
	}
}

// hookPath returns the hook binary, checking that it is executable: a
// missing hook would make runc fail every create.
func (w *Wrapper) hookPath() (string, error) {
	p := w.Config.HookPath
	if p == "" {
		if w.Self == "" {
			return "", errors.New("locate procview-hook: own executable unknown")
		}
		p = filepath.Join(filepath.Dir(w.Self), HookName)
	}
	if _, err := executable(p); err != nil {
		return "", fmt.Errorf("hook binary %s: %w", p, err)
	}
	return p, nil
}

// HookArgs returns a hook's args: argv[0], --config=<path> when the config
// is not at the default path (the hook cannot see the wrapper's environment
// reliably), and the stage subcommand.
func HookArgs(configPath, cmd string) []string {
	args := []string{HookName}
	if configPath != "" && configPath != config.DefaultPath {
		if abs, err := filepath.Abs(configPath); err == nil {
			configPath = abs // hooks run with the bundle as cwd
		}
		args = append(args, "--config="+configPath)
	}
	return append(args, cmd)
}

// HookGoMaxProcs is in every hook's environment: a Go runtime started with
// one P sets up less (per-P caches, idle threads) — measured on a 2-vCPU VM,
// 4–5 ms less CPU for createRuntime and 2–3 ms for poststop. The hook does
// one thing at a time and removes it before it may start procviewd.
const HookGoMaxProcs = "GOMAXPROCS=1"

// HookEnv returns the hooks' environment: HookGoMaxProcs and the caller's
// runc --log and --log-format, so the hook's warnings reach the log the
// engine reads (containerd and docker show its last error). The path is made
// absolute: runc resolves it from its cwd, hooks run in the bundle.
func HookEnv(runcLog, format string) []string {
	env := []string{HookGoMaxProcs}
	if runcLog == "" {
		return env
	}
	if abs, err := filepath.Abs(runcLog); err == nil {
		runcLog = abs
	}
	env = append(env, config.EnvRuncLog+"="+runcLog)
	if format != "" {
		env = append(env, config.EnvRuncLogFormat+"="+format)
	}
	return env
}

// Boottime returns the current CLOCK_BOOTTIME in whole seconds.
func Boottime() (int64, error) {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_BOOTTIME, &ts); err != nil {
		return 0, fmt.Errorf("read CLOCK_BOOTTIME: %w", err)
	}
	return ts.Sec, nil
}

// fail handles a Prepare error. It reports whether the wrapper must stop
// (fail_mode closed) and with which exit code; otherwise the error is
// logged and the real runtime runs on the untouched spec.
func (w *Wrapper) fail(err error, a Args, stderr io.Writer) (code int, stop bool) {
	if errors.Is(err, spec.ErrExcluded) {
		w.Log.WithError(err).Debug("procview not applied")
		return 0, false
	}
	if w.Config.FailMode == config.FailClosed {
		msg := fmt.Sprintf("procview-runc: refusing to %s container %q (fail_mode=closed): %v", a.Command, a.ContainerID, err)
		w.Log.Error(msg)
		fmt.Fprintln(stderr, msg)
		return 1, true
	}
	// Error level so that it shows in the caller's --log even when runc
	// succeeds; runc's own errors come after it, so containerd still
	// reports runc's.
	w.Log.WithError(err).Error("procview-runc: spec not patched, starting without procview (fail_mode=open)")
	return 0, false
}
