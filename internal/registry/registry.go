package registry

import (
	"bytes"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/procview/procview/internal/cgroupstats"
	"github.com/procview/procview/internal/snapshot"
	"github.com/procview/procview/internal/state"
	"github.com/procview/procview/internal/tasks"
	"github.com/procview/procview/internal/views"
)

// DefaultDiscoverEvery is how often, in rounds, the cgroup tree is walked
// for new containers: a new container shows within 5 s at a 1 s refresh,
// and a removed one goes at the next round (its cgroup read fails).
const DefaultDiscoverEvery = 5

// Options says where the registry reads.
type Options struct {
	CgroupFS fs.FS
	Mode     cgroupstats.Mode
	ProcRoot string // /proc, a real directory: bundles are found through /proc/PID/cwd
	// DockerRoot is dockerd's data-root (containers/<id>/config.v2.json);
	// PodmanRoot containers/storage's graph root
	// (<driver>-containers/containers.json).
	DockerRoot, PodmanRoot string
	FDBudget               *cgroupstats.FDBudget
	DiscoverEvery          int
	Log                    logrus.FieldLogger
}

// Managed is one managed container's sample of a round, handed over by the
// daemon: the same Stats its views were rendered from.
type Managed struct {
	Meta         *state.Meta
	Stats        *cgroupstats.Stats // nil when the round could not read it
	ViewMemTotal uint64
	ViewCPUs     int
}

// Registry turns rounds into snapshots. Not safe for concurrent use; the
// snapshots it returns are never modified afterwards.
type Registry struct {
	o      Options
	procFS fs.FS
	info   map[string]Info   // metadata by container id, read once
	found  map[string]*found // discovered (unmanaged) containers by id
	prev   map[string]*snapshot.Container
	prevAt time.Time
	oom    oomKeeper
	rounds int
	podman podmanCache
	// discovery is the last walk's duration.
	discovery time.Duration
}

type found struct {
	pid    int
	cgroup string
	reader *cgroupstats.Reader
	match  Match
	pod    bool // a sandbox shown as its pod: sampled at the pod's cgroup
	// started is the init's start, read once: a /proc read per container
	// and round cost a third of a round.
	started time.Time
}

// New returns an empty registry.
func New(o Options) *Registry {
	if o.DiscoverEvery <= 0 {
		o.DiscoverEvery = DefaultDiscoverEvery
	}
	if o.Log == nil {
		l := logrus.New()
		l.SetOutput(nopWriter{})
		o.Log = l
	}
	return &Registry{o: o, procFS: os.DirFS(o.ProcRoot), info: map[string]Info{}, found: map[string]*found{},
		prev: map[string]*snapshot.Container{}, oom: oomKeeper{base: map[string]uint64{}, last: map[string]uint64{}}}
}

type nopWriter struct{}

func (nopWriter) Write(p []byte) (int, error) { return len(p), nil }

// Close releases the discovered containers' descriptors.
func (r *Registry) Close() {
	for id, f := range r.found {
		f.reader.Close()
		delete(r.found, id)
	}
}

// Round builds the snapshot of this round: the managed containers' samples
// as given, the discovered ones read now (discovery itself every
// DiscoverEvery rounds). hostCPUs is the host's online CPU count.
func (r *Registry) Round(managed []Managed, hostCPUs int, self snapshot.Self) *snapshot.Snapshot {
	now := time.Now()
	managedIDs := make(map[string]bool, len(managed))
	managedCg := make(map[string]bool, len(managed))
	for _, m := range managed {
		managedIDs[m.Meta.ID] = true
		managedCg[displayCgroup(m.Meta.Location)] = true
	}
	if r.rounds%r.o.DiscoverEvery == 0 {
		t := time.Now()
		r.discover(managedIDs, managedCg)
		r.discovery = time.Since(t)
	}
	self.DiscoverySeconds = r.discovery.Seconds()
	r.rounds++
	snap := &snapshot.Snapshot{Time: now, Self: self, Containers: make([]snapshot.Container, 0, len(managed)+len(r.found))}
	for _, m := range managed {
		if m.Stats == nil {
			continue
		}
		in := r.managedInfo(m.Meta)
		c := r.entry(in, m.Meta.Pid, displayCgroup(m.Meta.Location))
		c.Managed = true
		c.Started = bootToWall(m.Meta.InitStartNs, now)
		c.ViewMemTotalBytes, c.ViewCPUs = m.ViewMemTotal, m.ViewCPUs
		r.fill(&c, m.Stats, now, hostCPUs)
		snap.Containers = append(snap.Containers, c)
	}
	for id, f := range r.found {
		if managedIDs[id] {
			f.reader.Close()
			delete(r.found, id)
			continue
		}
		f.reader.StalePidLists = r.rounds%r.o.DiscoverEvery != 1
		st, err := f.reader.Read()
		if err != nil {
			// Removed (or unreadable): gone from this round on.
			f.reader.Close()
			delete(r.found, id)
			continue
		}
		in := r.info[id]
		c := r.entry(in, f.pid, f.cgroup)
		if f.pod {
			c.Kind = snapshot.KindPod
		}
		c.Started = f.started
		r.fill(&c, st, now, hostCPUs)
		snap.Containers = append(snap.Containers, c)
	}
	slices.SortFunc(snap.Containers, func(a, b snapshot.Container) int { return strings.Compare(a.ID, b.ID) })
	r.oom.round(snap.Containers)
	prev := make(map[string]*snapshot.Container, len(snap.Containers))
	for i := range snap.Containers {
		prev[snap.Containers[i].ID] = &snap.Containers[i]
	}
	for id := range r.info {
		if prev[id] == nil && r.found[id] == nil && !managedIDs[id] {
			delete(r.info, id)
		}
	}
	r.prev, r.prevAt = prev, now
	return snap
}

func (r *Registry) entry(in Info, pid int, cg string) snapshot.Container {
	c := snapshot.Container{ID: in.ID, Name: in.Name, Kind: snapshot.KindContainer, Runtime: in.Runtime, Image: in.Image,
		Pod: in.Pod, Namespace: in.Namespace, Container: in.Container, Labels: in.Labels, Pid: pid, Cgroup: cg}
	if in.Sandbox {
		c.Kind = snapshot.KindPod
	}
	return c
}

func (r *Registry) fill(c *snapshot.Container, st *cgroupstats.Stats, now time.Time, hostCPUs int) {
	c.Fill(st, r.prev[c.ID], now, r.prevAt, hostCPUs)
}

// managedInfo is a managed container's metadata: its spec's annotations,
// then docker's or podman's files.
func (r *Registry) managedInfo(m *state.Meta) Info {
	if in, ok := r.info[m.ID]; ok {
		return in
	}
	in := Info{ID: m.ID}
	b, err := os.ReadFile(filepath.Join(m.Bundle, "config.json"))
	if err != nil || m.Bundle == "" {
		// procviewd in a pod: the node's bundle path is not mounted.
		if dir := r.bundleOf(m.Pid, m.ID); dir != "" {
			b, err = os.ReadFile(filepath.Join(dir, "config.json"))
		}
	}
	if err == nil {
		if a, err := ParseSpec(b); err == nil {
			in.merge(a)
		}
	}
	mt, _ := Classify(displayCgroup(m.Location))
	r.enrich(&in, mt)
	r.info[m.ID] = in
	return in
}

// enrich adds what the engines' own files say, and the last resorts.
func (r *Registry) enrich(in *Info, m Match) {
	if in.Runtime == "" {
		in.Runtime = m.Runtime
	}
	if in.PodUID == "" {
		in.PodUID = m.PodUID
	}
	if (in.Runtime == RuntimeDocker || in.Runtime == "") && r.o.DockerRoot != "" {
		if b, err := os.ReadFile(filepath.Join(r.o.DockerRoot, "containers", in.ID, "config.v2.json")); err == nil {
			if d, err := ParseDockerConfig(b); err == nil {
				in.merge(d)
			}
		}
	}
	if (in.Runtime == RuntimePodman || in.Runtime == "") && r.o.PodmanRoot != "" {
		// <graph root>/<driver>-containers/containers.json (overlay, vfs, …)
		files, _ := filepath.Glob(filepath.Join(r.o.PodmanRoot, "*-containers", "containers.json"))
		for _, f := range files {
			if p, ok := r.podman.lookup(f, in.ID); ok {
				in.merge(p)
				break
			}
		}
	}
	if in.Name == "" {
		in.Name = in.ID
	}
}

// discover walks the cgroup tree for containers not yet known.
func (r *Registry) discover(managedIDs, managedCg map[string]bool) {
	base := hierarchyRoot(r.o.CgroupFS, r.o.Mode)
	if base == "" {
		return
	}
	seen := map[string]bool{}
	_ = fs.WalkDir(r.o.CgroupFS, base, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return nil
		}
		cg := "/" + strings.TrimPrefix(strings.TrimPrefix(p, base), "/")
		m, ok := Classify(cg)
		if !ok {
			return nil
		}
		if _, err := fs.Stat(r.o.CgroupFS, path.Join(p, "container", "cgroup.procs")); err == nil && m.Runtime == RuntimePodman {
			cg, p = path.Join(cg, "container"), path.Join(p, "container")
		}
		if !managedIDs[m.ID] && !managedCg[cg] {
			seen[m.ID] = true
			if r.found[m.ID] == nil {
				r.add(m, p, cg)
			}
		}
		return fs.SkipDir
	})
	for id, f := range r.found {
		if !seen[id] {
			f.reader.Close()
			delete(r.found, id)
		}
	}
}

// add starts following a discovered container.
func (r *Registry) add(m Match, dir, cg string) {
	procs, err := fs.ReadFile(r.o.CgroupFS, path.Join(dir, "cgroup.procs"))
	if err != nil {
		return
	}
	pid := firstPid(procs)
	if pid == 0 {
		return // not running
	}
	loc, err := cgroupstats.ReadLocation(r.procFS, pid)
	if err != nil {
		loc = cgroupstats.LocationFromPath(cg)
	}
	in := Info{ID: m.ID}
	if b := r.bundleOf(pid, m.ID); b != "" {
		if data, err := os.ReadFile(filepath.Join(b, "config.json")); err == nil {
			if a, err := ParseSpec(data); err == nil {
				in.merge(a)
			}
		}
	}
	r.enrich(&in, m)
	f := &found{pid: pid, cgroup: cg, match: m}
	if s, err := tasks.StartTime(r.procFS, pid); err == nil {
		f.started = bootToWall(s, time.Now())
	}
	if in.Sandbox && IsPodDir(path.Dir(cg)) {
		// The pod's own cgroup holds the sandbox and every container.
		f.pod, f.cgroup = true, path.Dir(cg)
		loc = parentLocation(loc)
	}
	f.reader = cgroupstats.NewReader(r.o.CgroupFS, r.o.Mode, loc, r.o.FDBudget)
	r.found[m.ID] = f
	r.info[m.ID] = in
	r.o.Log.WithFields(logrus.Fields{"container": m.ID, "name": in.Name, "runtime": in.Runtime, "cgroup": f.cgroup}).Debug("discovered")
}

// bundleOf finds a container's bundle from its ancestors: containerd's shim
// runs in the bundle directory, conmon gets it as --bundle/-b.
func (r *Registry) bundleOf(pid int, id string) string {
	for range 4 {
		ppid := parentPid(r.procFS, pid)
		if ppid <= 1 {
			return ""
		}
		pid = ppid
		// Through /proc/PID/cwd and /proc/PID/root, not the paths they
		// name: procviewd in a pod does not share the node's mounts.
		dir := filepath.Join(r.o.ProcRoot, strconv.Itoa(pid))
		if cwd, err := os.Readlink(filepath.Join(dir, "cwd")); err == nil && strings.Contains(cwd, id) {
			if _, err := os.Stat(filepath.Join(dir, "cwd", "config.json")); err == nil {
				return filepath.Join(dir, "cwd")
			}
		}
		if cmd, err := fs.ReadFile(r.procFS, strconv.Itoa(pid)+"/cmdline"); err == nil {
			args := strings.Split(string(cmd), "\x00")
			for i, a := range args[:max(0, len(args)-1)] {
				if (a == "-b" || a == "--bundle") && strings.Contains(args[i+1], id) {
					return filepath.Join(dir, "root", args[i+1])
				}
			}
		}
	}
	return ""
}

func parentPid(procFS fs.FS, pid int) int {
	b, err := fs.ReadFile(procFS, strconv.Itoa(pid)+"/stat")
	if err != nil {
		return 0
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 2 {
		return 0
	}
	n, _ := strconv.Atoi(f[1])
	return n
}

func firstPid(procs []byte) int {
	line, _, _ := bytes.Cut(procs, []byte("\n"))
	n, _ := strconv.Atoi(string(bytes.TrimSpace(line)))
	return n
}

func parentLocation(l cgroupstats.Location) cgroupstats.Location {
	out := cgroupstats.Location{V1: make(map[string]string, len(l.V1))}
	for c, p := range l.V1 {
		out.V1[c] = path.Dir(p)
	}
	if l.Unified != "" {
		out.Unified = path.Dir(l.Unified)
	}
	return out
}

// hierarchyRoot is the directory (in the cgroup fs) whose tree is walked:
// the unified root on v2, the memory hierarchy on v1 and hybrid.
func hierarchyRoot(fsys fs.FS, mode cgroupstats.Mode) string {
	if mode == cgroupstats.ModeV2 {
		return "."
	}
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return ""
	}
	for _, e := range entries {
		if e.IsDir() && slices.Contains(strings.Split(e.Name(), ","), "memory") {
			return e.Name()
		}
	}
	return ""
}

// displayCgroup is the path an operator knows a container by: the memory
// controller's on v1, else the unified one.
func displayCgroup(l cgroupstats.Location) string {
	if p, ok := l.V1["memory"]; ok {
		return p
	}
	return l.Unified
}

func bootToWall(bootNs uint64, now time.Time) time.Time {
	if bootNs == 0 {
		return time.Time{}
	}
	return now.Add(-time.Duration(views.BootClock() - bootNs))
}

// podmanCache re-reads containers.json only when it changes.
type podmanCache struct {
	file  string
	mtime time.Time
	size  int64
	byID  map[string]Info
}

func (c *podmanCache) lookup(file, id string) (Info, bool) {
	st, err := os.Stat(file)
	if err != nil {
		return Info{}, false
	}
	if file != c.file || !st.ModTime().Equal(c.mtime) || st.Size() != c.size {
		b, err := os.ReadFile(file)
		if err != nil {
			return Info{}, false
		}
		m, err := ParsePodmanContainers(b)
		if err != nil {
			return Info{}, false
		}
		c.byID, c.file, c.mtime, c.size = m, file, st.ModTime(), st.Size()
	}
	in, ok := c.byID[id]
	return in, ok
}

// oomKeeper keeps OOM kill counts across recreation of the same
// container: Kubernetes restarts an OOM-killed container as a new one (new
// id, new cgroup, count back to 0), so the count is kept per
// namespace/pod/container (or runtime/name) and the new container's count
// is added to what its predecessors had.
type oomKeeper struct {
	base map[string]uint64 // sum of finished predecessors' counts
	last map[string]uint64 // id -> last raw count
	key  map[string]string // id -> identity
}

func identity(c *snapshot.Container) string {
	if c.Pod != "" {
		return "k8s/" + c.Namespace + "/" + c.Pod + "/" + c.Container
	}
	return c.Runtime + "/" + c.Name
}

func (k *oomKeeper) round(cs []snapshot.Container) {
	if k.key == nil {
		k.key = map[string]string{}
	}
	live := make(map[string]bool, len(cs))
	for i := range cs {
		c := &cs[i]
		live[c.ID] = true
		key := identity(c)
		raw := c.OOMEvents
		if last, ok := k.last[c.ID]; ok && raw < last {
			raw = last // v1 re-reads oom_control on full rounds only; never go back
		}
		k.last[c.ID], k.key[c.ID] = raw, key
		c.OOMEvents = k.base[key] + raw
	}
	for id, raw := range k.last {
		if !live[id] {
			k.base[k.key[id]] += raw
			delete(k.last, id)
			delete(k.key, id)
		}
	}
}
