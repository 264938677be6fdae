package wrapper

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"

	"github.com/procview/procview/internal/agent"
	"github.com/procview/procview/internal/config"
	"github.com/procview/procview/internal/spec"
	"github.com/procview/procview/internal/state"
)

// minKernel is the first kernel whose listener reports POLLHUP once no
// task uses the filter (5.9), which the agent relies on to close fds;
// user notification itself (5.0) and pidfd_getfd, which runc uses to
// fetch the listener (5.6), are older.
var minKernel = [2]int{5, 9}

// RuntimeSeccompNotify runs "<runtime> features" and reports whether the
// runtime has seccomp with SCMP_ACT_NOTIFY (runc >= 1.1 built with
// libseccomp >= 2.5). Cached per binary by CachedSeccompNotify.
func RuntimeSeccompNotify(ctx context.Context, runtime string) (bool, error) {
	out, err := runFeatures(ctx, runtime)
	if err != nil {
		return false, err
	}
	return parseSeccompNotify(out)
}

func parseSeccompNotify(b []byte) (bool, error) {
	var f struct {
		Linux *struct {
			Seccomp *struct {
				Enabled *bool    `json:"enabled"`
				Actions []string `json:"actions"`
			} `json:"seccomp"`
		} `json:"linux"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		return false, fmt.Errorf("decode runtime features: %w", err)
	}
	if f.Linux == nil || f.Linux.Seccomp == nil || f.Linux.Seccomp.Enabled == nil || !*f.Linux.Seccomp.Enabled {
		return false, nil
	}
	return slices.Contains(f.Linux.Seccomp.Actions, spec.ActNotify), nil
}

// CachedSeccompNotify is RuntimeSeccompNotify with the answer kept in dir.
func CachedSeccompNotify(dir string) func(ctx context.Context, runtime string) (bool, error) {
	return cachedFeature(dir, "seccomp-", RuntimeSeccompNotify)
}

// containerSyscalls is the configured list, or the annotation's.
func containerSyscalls(cfg config.Config, s *spec.Spec) ([]string, error) {
	ann, err := s.Annotations()
	if err != nil {
		return nil, err
	}
	if v, ok := ann[config.AnnotationSyscalls]; ok {
		return config.ParseSyscalls(v)
	}
	return cfg.Syscalls, nil
}

// syscallModifier returns the edit that makes the container's configured
// system calls notify procview-agent, or nil when they stay with the
// kernel: none configured, a runtime or kernel without support, or an
// agent that does not accept connections (the container then starts
// without it, fail-open; fail_mode closed refuses).
func (w *Wrapper) syscallModifier(ctx context.Context, s *spec.Spec, id string, log logrus.FieldLogger) (spec.Modifier, error) {
	names, err := containerSyscalls(w.Config, s)
	if err != nil {
		return nil, err
	}
	if len(names) == 0 || !s.HasLinux() {
		return nil, nil
	}
	if ok, why := kernelAtLeast(minKernel); !ok {
		log.WithField("kernel", why).Debug("kernel too old for seccomp user notification; system calls stay the host's")
		return nil, nil
	}
	root := state.Root(w.Config.StateRoot)
	ask := w.SeccompNotify
	if ask == nil {
		ask = CachedSeccompNotify(root.RuntimeCache())
	}
	if ok, err := ask(ctx, w.Runtime); err != nil || !ok {
		log.WithError(err).Debug("runtime has no seccomp notify support; system calls stay the host's")
		return nil, nil
	}
	path := w.Config.AgentPath
	if path == "" {
		path = filepath.Join(filepath.Dir(w.Self), agent.Name)
	}
	cfg := w.ConfigPath
	if cfg == config.DefaultPath {
		cfg = ""
	}
	if err := agent.Ensure(log, root, path, cfg); err != nil {
		if w.Config.FailMode == config.FailClosed {
			return nil, fmt.Errorf("procview-agent: %w", err)
		}
		log.WithError(err).Warn("procview-agent not accepting; container starts with the host's system calls")
		return nil, nil
	}
	return loggedModifier{
		mod: spec.NotifySyscalls{
			Syscalls:      names,
			ListenerPath:  agent.SocketPath(root),
			Metadata:      state.Key(id),
			Architectures: spec.HostArchitectures(),
		},
		log: log.WithField("syscalls", names),
	}, nil
}

// loggedModifier applies a NotifySyscalls and logs why it left the spec
// alone, if it did.
type loggedModifier struct {
	mod spec.NotifySyscalls
	log logrus.FieldLogger
}

func (m loggedModifier) Modify(s *spec.Spec) error {
	var reason string
	m.mod.Skipped = &reason
	if err := m.mod.Modify(s); err != nil {
		return err
	}
	if reason != "" {
		m.log.WithField("reason", reason).Info("system calls not intercepted")
	} else {
		m.log.Debug("system calls answered by procview-agent")
	}
	return nil
}

// kernelAtLeast compares the running kernel's release with want.
func kernelAtLeast(want [2]int) (bool, string) {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return false, "unknown"
	}
	rel := unix.ByteSliceToString(u.Release[:])
	f := strings.FieldsFunc(rel, func(r rune) bool { return r < '0' || r > '9' })
	if len(f) < 2 {
		return false, rel
	}
	maj, _ := strconv.Atoi(f[0])
	mnr, _ := strconv.Atoi(f[1])
	return maj > want[0] || maj == want[0] && mnr >= want[1], rel
}

// ensureAgentForExec starts procview-agent before `runc exec` when the
// agent's socket exists but does not accept: runc connects to a
// container's listenerPath for every exec and fails the exec when
// nothing accepts.
func ensureAgentForExec(cfg config.Config, cfgPath, self string, log logrus.FieldLogger) {
	root := state.Root(cfg.StateRoot)
	if _, err := os.Stat(agent.SocketPath(root)); err != nil {
		return // no agent ever ran here: no container has its listener
	}
	path := cfg.AgentPath
	if path == "" {
		path = filepath.Join(filepath.Dir(self), agent.Name)
	}
	if cfgPath == config.DefaultPath {
		cfgPath = ""
	}
	if err := agent.Ensure(log, root, path, cfgPath); err != nil {
		log.WithError(err).Warn("procview-agent not accepting; an exec into a container it serves fails")
	}
}
