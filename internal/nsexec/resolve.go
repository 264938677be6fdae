//go:build linux

package nsexec

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"

	"github.com/procview/procview/internal/state"
	"github.com/procview/procview/internal/tasks"
)

// Target is the process whose namespaces the tool joins, and where its
// container's views are.
type Target struct {
	// Name is what the operator typed (id, name, "pid N").
	Name string
	// ID is the container's id, when known.
	ID string
	// Pid is a host pid of a process of the container (normally its init).
	Pid int
	// StartNs is that process's start time (tasks.StartTime), 0 when
	// unknown: it tells the process from a reused pid.
	StartNs uint64
	// Source says who resolved it: "procview", "docker", "podman", "pid".
	Source string
	// ViewsDir holds the container's view files ("" without views), Views
	// the view names in it (meta.json's list).
	ViewsDir string
	Views    []string
}

// Resolver turns a container id or name into a Target. The container
// registry implements it for every engine; NewResolver is the stand-in.
type Resolver interface {
	Resolve(name string) (Target, error)
}

// ErrNotFound is returned by resolvers that do not know the name.
var ErrNotFound = errors.New("no such container")

// ErrAmbiguous is returned when an id prefix matches several containers.
var ErrAmbiguous = errors.New("ambiguous container id prefix")

// NewResolver resolves procview-managed containers from the state root
// first, then docker and podman names through their CLIs, and attaches the
// state root's views to whatever it finds.
func NewResolver(root state.Root) Resolver {
	st := StateResolver{Root: root}
	return chain{state: st, engines: []Resolver{
		EngineResolver{Engine: "docker"},
		EngineResolver{Engine: "podman"},
	}}
}

type chain struct {
	state   StateResolver
	engines []Resolver
}

func (c chain) Resolve(name string) (Target, error) {
	t, err := c.state.Resolve(name)
	if err == nil || !errors.Is(err, ErrNotFound) {
		return t, err
	}
	var tried []string
	for _, r := range c.engines {
		t, err := r.Resolve(name)
		if err != nil {
			tried = append(tried, err.Error())
			continue
		}
		c.state.AttachViews(&t)
		return t, nil
	}
	return Target{}, fmt.Errorf("%w: %q (procview state root %s; %s)", ErrNotFound, name, c.state.Root, strings.Join(tried, "; "))
}

// StateResolver finds containers registered in a procview state root by
// id, key or unique id prefix.
type StateResolver struct{ Root state.Root }

type entry struct {
	key  string
	meta *state.Meta
}

func (s StateResolver) entries() []entry {
	keys, _ := s.Root.List()
	var out []entry
	for _, k := range keys {
		m, err := state.ReadMeta(s.Root.Dir(k))
		if err != nil || m.Pid <= 0 {
			continue
		}
		out = append(out, entry{k, m})
	}
	return out
}

// Resolve implements Resolver.
func (s StateResolver) Resolve(name string) (Target, error) {
	var prefix []entry
	for _, e := range s.entries() {
		if e.meta.ID == name || e.key == name {
			return s.target(name, e), nil
		}
		if len(name) >= 3 && strings.HasPrefix(e.meta.ID, name) {
			prefix = append(prefix, e)
		}
	}
	switch len(prefix) {
	case 0:
		return Target{}, fmt.Errorf("%w in state root %s: %q", ErrNotFound, s.Root, name)
	case 1:
		return s.target(name, prefix[0]), nil
	}
	return Target{}, fmt.Errorf("%w: %q matches %d containers", ErrAmbiguous, name, len(prefix))
}

func (s StateResolver) target(name string, e entry) Target {
	return Target{
		Name: name, ID: e.meta.ID, Pid: e.meta.Pid, StartNs: e.meta.InitStartNs,
		Source: "procview", ViewsDir: s.Root.ViewsDir(e.key), Views: e.meta.Views,
	}
}

// AttachViews fills t's views from the state root entry of the same
// container: same id, or an init in the same PID namespace.
func (s StateResolver) AttachViews(t *Target) {
	pidNS, _ := nsID(t.Pid, "pid")
	if self, _ := nsID(os.Getpid(), "pid"); pidNS == self {
		pidNS = "" // a host process: only an id match counts
	}
	for _, e := range s.entries() {
		same := t.ID != "" && e.meta.ID == t.ID
		if !same && pidNS != "" {
			ns, err := nsID(e.meta.Pid, "pid")
			same = err == nil && ns == pidNS
		}
		if same {
			t.ViewsDir, t.Views = s.Root.ViewsDir(e.key), e.meta.Views
			if t.ID == "" {
				t.ID = e.meta.ID
			}
			return
		}
	}
}

// PidTarget is the target for --pid: any process, with the views of the
// procview container it belongs to, if any.
func PidTarget(root state.Root, pid int) (Target, error) {
	if pid <= 0 {
		return Target{}, fmt.Errorf("bad pid %d", pid)
	}
	start, err := tasks.StartTime(os.DirFS("/proc"), pid)
	if err != nil {
		return Target{}, fmt.Errorf("process %d: %w", pid, err)
	}
	t := Target{Name: "pid " + strconv.Itoa(pid), Pid: pid, StartNs: start, Source: "pid"}
	StateResolver{Root: root}.AttachViews(&t)
	return t, nil
}

// EngineResolver asks an engine's CLI (docker, podman) for a running
// container's init pid. The CLI's usual environment applies (DOCKER_HOST,
// CONTAINER_HOST, CONTAINERS_STORAGE_CONF…).
type EngineResolver struct {
	Engine string
	// Args are global flags put before "inspect" (e.g. podman --root).
	Args []string
}

// Resolve implements Resolver.
func (e EngineResolver) Resolve(name string) (Target, error) {
	bin, err := exec.LookPath(e.Engine)
	if err != nil {
		return Target{}, fmt.Errorf("%s: not installed", e.Engine)
	}
	args := append(append([]string(nil), e.Args...), "inspect", "--type", "container",
		"--format", "{{.Id}} {{.State.Pid}} {{.State.Running}}", "--", name)
	var stderr bytes.Buffer
	cmd := exec.Command(bin, args...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return Target{}, fmt.Errorf("%s inspect %s: %v: %s", e.Engine, name, err, strings.TrimSpace(firstLine(stderr.String())))
	}
	f := strings.Fields(string(out))
	if len(f) != 3 {
		return Target{}, fmt.Errorf("%s inspect %s: unexpected output %q", e.Engine, name, out)
	}
	pid, err := strconv.Atoi(f[1])
	if err != nil || pid <= 0 || f[2] != "true" {
		return Target{}, fmt.Errorf("%s: container %s is not running", e.Engine, name)
	}
	start, err := tasks.StartTime(os.DirFS("/proc"), pid)
	if err != nil {
		return Target{}, fmt.Errorf("%s container %s: init %d: %w", e.Engine, name, pid, err)
	}
	return Target{Name: name, ID: f[0], Pid: pid, StartNs: start, Source: e.Engine}, nil
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}

// nsID is the namespace's identity as readlink shows it ("pid:[4026531836]").
func nsID(pid int, ns string) (string, error) {
	return os.Readlink("/proc/" + strconv.Itoa(pid) + "/ns/" + ns)
}
