package spec

import (
	"errors"
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/procview/procview/internal/config"
)

// Annotations that mark pod sandboxes (pause containers), which procview
// leaves alone.
var sandboxAnnotations = map[string]string{
	"io.kubernetes.cri.container-type":  "sandbox",    // containerd CRI
	"io.kubernetes.cri-o.ContainerType": "sandbox",    // CRI-O
	"io.kubernetes.docker.type":         "podsandbox", // dockershim / cri-dockerd
}

// Modifier edits a Spec. Implementations are idempotent: applying one twice
// changes nothing the second time.
type Modifier interface {
	Modify(s *Spec) error
}

// Modifiers applies its members in order and stops at the first error.
type Modifiers []Modifier

// Modify implements Modifier.
func (m Modifiers) Modify(s *Spec) error {
	for _, mod := range m {
		if err := mod.Modify(s); err != nil {
			return err
		}
	}
	return nil
}

// AddHook adds Hook to Stage unless a hook with the same path and args is
// there already.
type AddHook struct {
	Stage string
	Hook  specs.Hook
}

var _ Modifier = AddHook{}

// Modify implements Modifier.
func (a AddHook) Modify(s *Spec) error {
	if _, err := s.AddHook(a.Stage, a.Hook); err != nil {
		return fmt.Errorf("add %s hook: %w", a.Stage, err)
	}
	return nil
}

// TimeNamespace puts the container in a new time namespace whose boottime
// clock starts near zero: BoottimeOffset should be minus the host's current
// CLOCK_BOOTTIME seconds. It does nothing when the spec already lists a time
// namespace (new or joined) or has no "linux" object.
type TimeNamespace struct {
	BoottimeOffset int64
}

var _ Modifier = TimeNamespace{}

// Modify implements Modifier.
func (t TimeNamespace) Modify(s *Spec) error {
	if !s.HasLinux() {
		return nil
	}
	nss, err := s.Namespaces()
	if err != nil {
		return fmt.Errorf("add time namespace: %w", err)
	}
	for _, ns := range nss {
		if ns.Type == specs.TimeNamespace {
			return nil
		}
	}
	if _, err := s.SetTimeOffset("boottime", specs.LinuxTimeOffset{Secs: t.BoottimeOffset}); err != nil {
		return fmt.Errorf("set boottime offset: %w", err)
	}
	if _, err := s.AddNamespace(specs.LinuxNamespace{Type: specs.TimeNamespace}); err != nil {
		return fmt.Errorf("add time namespace: %w", err)
	}
	return nil
}

// ErrExcluded is wrapped by Excluded's error when the container must not be
// edited.
var ErrExcluded = errors.New("container excluded from procview")

// Excluded returns an error wrapping ErrExcluded, with the reason, when the
// spec opts out of procview (annotation io.procview.enabled = false/0/no/off)
// or is a pod sandbox. It returns nil when procview applies, and another
// error when the annotations cannot be read.
func Excluded(s *Spec) error {
	ann, err := s.Annotations()
	if err != nil {
		return err
	}
	if v, ok := ann[config.AnnotationEnabled]; ok && IsOptOut(v) {
		return fmt.Errorf("%w: annotation %s=%q", ErrExcluded, config.AnnotationEnabled, v)
	}
	for k, want := range sandboxAnnotations {
		if ann[k] == want {
			return fmt.Errorf("%w: pod sandbox (%s=%s)", ErrExcluded, k, want)
		}
	}
	return nil
}
