// Package hook implements procview-hook: at createRuntime it registers the
// container, renders its views and bind-mounts them into the container's
// mount namespace; at poststop it removes the container's state.
package hook

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"

	"github.com/procview/procview/internal/cgroupstats"
	"github.com/procview/procview/internal/config"
	"github.com/procview/procview/internal/launch"
	"github.com/procview/procview/internal/mount"
	"github.com/procview/procview/internal/publish"
	"github.com/procview/procview/internal/render"
	"github.com/procview/procview/internal/state"
	"github.com/procview/procview/internal/tasks"
	"github.com/procview/procview/internal/views"
)

// Stages the hook understands (argv[1] of the hook entry).
const (
	StageCreateRuntime = "create-runtime"
	StagePoststop      = "poststop"
)

// maxStateSize bounds the OCI state read from stdin and config.json.
const (
	maxStateSize  = 1 << 20
	maxConfigSize = 16 << 20
)

// Hook holds what every stage needs.
type Hook struct {
	Cfg        config.Config
	ConfigPath string // passed on to the daemon it starts
	Log        logrus.FieldLogger
	// DaemonPath is the procviewd binary to start when none runs.
	DaemonPath string
}

// ReadState decodes the OCI state from r.
func ReadState(r io.Reader) (*specs.State, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxStateSize+1))
	if err != nil {
		return nil, fmt.Errorf("read state: %w", err)
	}
	return ParseState(b)
}

// ParseState decodes and checks an OCI state document.
func ParseState(b []byte) (*specs.State, error) {
	if len(b) > maxStateSize {
		return nil, fmt.Errorf("state is larger than %d bytes", maxStateSize)
	}
	var st specs.State
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, fmt.Errorf("decode state: %w", err)
	}
	if st.ID == "" {
		return nil, errors.New("state has no container id")
	}
	return &st, nil
}

// bundleSpec is the part of config.json the hook needs.
type bundleSpec struct {
	Root *struct {
		Path string `json:"path"`
	} `json:"root"`
	Annotations map[string]string `json:"annotations"`
}

func readBundle(bundle string) (*bundleSpec, error) {
	f, err := os.Open(filepath.Join(bundle, "config.json"))
	if err != nil {
		return nil, fmt.Errorf("open bundle config: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxConfigSize+1))
	if err != nil {
		return nil, fmt.Errorf("read bundle config: %w", err)
	}
	if len(b) > maxConfigSize {
		return nil, fmt.Errorf("bundle config is larger than %d bytes", maxConfigSize)
	}
	var s bundleSpec
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("decode bundle config: %w", err)
	}
	return &s, nil
}

// OptedOut reports whether annotations disable procview for the container.
func OptedOut(a map[string]string) bool {
	switch strings.ToLower(a[config.AnnotationEnabled]) {
	case "false", "0", "no", "off":
		return true
	}
	return false
}

// CreateRuntime registers the container and mounts its views.
func (h *Hook) CreateRuntime(st *specs.State) error {
	log := h.Log.WithField("container", st.ID)
	lp := newLaps()
	if st.Pid <= 0 {
		return fmt.Errorf("state of %s has no pid", st.ID)
	}
	if st.Bundle == "" {
		return fmt.Errorf("state of %s has no bundle", st.ID)
	}
	bs, err := readBundle(st.Bundle)
	if err != nil {
		return err
	}
	ann := map[string]string{}
	for k, v := range bs.Annotations {
		ann[k] = v
	}
	for k, v := range st.Annotations {
		ann[k] = v
	}
	if OptedOut(ann) {
		log.Debug("opted out by annotation")
		return nil
	}
	if bs.Root == nil || bs.Root.Path == "" {
		return errors.New("bundle config has no root.path")
	}
	rootfs := bs.Root.Path
	if !filepath.IsAbs(rootfs) {
		rootfs = filepath.Join(st.Bundle, rootfs)
	}

	lp.lap("spec")
	procFS := os.DirFS(h.Cfg.ProcRoot)
	cgFS := os.DirFS(h.Cfg.CgroupRoot)
	mode, err := cgroupstats.DetectMode(cgFS)
	if err != nil {
		return fmt.Errorf("detect cgroup layout: %w", err)
	}
	loc, err := cgroupstats.ReadLocation(procFS, st.Pid)
	if err != nil {
		return fmt.Errorf("find cgroup of pid %d: %w", st.Pid, err)
	}
	start, err := tasks.StartTime(procFS, st.Pid)
	if err != nil {
		return fmt.Errorf("start time of pid %d: %w", st.Pid, err)
	}
	initStart := start
	off := tasks.BoottimeOffset(procFS, st.Pid)
	if off < 0 {
		// The container has its own boottime (procview-runc's time
		// namespace): make the uptime view equal it, so sysinfo(2) and ps
		// elapsed times agree with /proc/uptime.
		start = uint64(-off)
	}
	cpuView := h.Cfg.CPUView
	if v := ann[config.AnnotationCPUView]; v == config.CPUViewQuota || v == config.CPUViewCpuset {
		cpuView = v
	}
	var names []string
	for _, v := range render.Views() {
		if h.Cfg.ViewEnabled(v.Name) {
			names = append(names, v.Name)
		}
	}
	blockNames, blockTargets := blockStatViews(log, h.Cfg, sysRoot(h.Cfg.ProcRoot))
	names = append(names, blockNames...)
	meta := &state.Meta{
		ID: st.ID, Pid: st.Pid, Bundle: st.Bundle, Rootfs: rootfs,
		Location: loc, StartNs: start, InitStartNs: initStart, CPUView: cpuView, Views: names,
		Created: time.Now().UTC(),
	}
	meta.HostUptime, meta.TimeNamespace = hostUptime(log, h.Cfg, ann, off < 0), off < 0
	lp.lap("locate")
	root := state.Root(h.Cfg.StateRoot)
	key := state.Key(st.ID)
	if _, err := os.Stat(root.Dir(key)); err == nil {
		// Left over from a container with the same id whose poststop never ran.
		log.Warn("replacing stale state")
		if err := root.Remove(key); err != nil {
			return err
		}
	}
	smp := &views.Sampler{CgroupFS: cgFS, Mode: mode, ProcFS: procFS, SysFS: os.DirFS(sysRoot(h.Cfg.ProcRoot))}
	host, err := smp.Host()
	if err != nil {
		return err
	}
	lp.lap("host")
	activateBlkio(log, h.Cfg.CgroupRoot, sysRoot(h.Cfg.ProcRoot), mode, loc, host.Disks)
	lp.lap("blkio")
	set, err := publish.Create(root, key, meta, smp, host)
	if err != nil {
		return fmt.Errorf("create views: %w", err)
	}
	defer set.Close()
	lp.lap("render")

	var binds []mount.Bind
	for _, name := range names {
		v, _ := render.Lookup(name)
		if t, ok := blockTargets[name]; ok {
			v.Target = t
		}
		if !mountView(meta, name) {
			continue
		}
		binds = append(binds, mount.Bind{Source: set.Path(v.Name), Target: v.Target})
	}
	binds = h.mountCPUDir(log, st.Pid, rootfs, set, cgFS, mode, loc, host, cpuView, binds)
	res, err := mount.BindInto(log, st.Pid, rootfs, binds)
	if err != nil {
		_ = root.Remove(key)
		return fmt.Errorf("mount views: %w", err)
	}
	for _, r := range res {
		l := log.WithFields(logrus.Fields{"target": r.Target, "result": r.Status.String()})
		if r.Err != nil {
			l = l.WithError(r.Err)
		}
		l.Debug("view")
	}
	lp.lap("mount")
	if err := launch.Ensure(h.Log, root, h.DaemonPath, h.ConfigPath); err != nil {
		if h.Cfg.FailMode == config.FailClosed {
			// Views that never refresh are wrong views: refuse, like any
			// other failure in closed mode.
			_ = root.Remove(key)
			return fmt.Errorf("views would never refresh: %w", err)
		}
		// The views are mounted and correct now; they only go stale.
		log.WithError(err).Error("could not start procviewd; views will not refresh")
	}
	lp.lap("daemon")
	log.WithFields(lp.fields).Debug("registered")
	return nil
}

// Poststop removes the container's state.
func (h *Hook) Poststop(st *specs.State) error {
	root := state.Root(h.Cfg.StateRoot)
	key := state.Key(st.ID)
	if _, err := os.Stat(root.Dir(key)); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err := root.Remove(key); err != nil {
		return err
	}
	h.Log.WithField("container", st.ID).Debug("unregistered")
	return nil
}

// sysRoot guesses /sys next to the proc root ("/proc" -> "/sys").
func sysRoot(procRoot string) string {
	return filepath.Join(filepath.Dir(filepath.Clean(procRoot)), "sys")
}
