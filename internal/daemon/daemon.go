// Package daemon implements procviewd: one process per state root that
// refreshes every registered container's views in place.
package daemon

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"

	"github.com/procview/procview/internal/cgroupstats"
	"github.com/procview/procview/internal/config"
	"github.com/procview/procview/internal/hoststats"
	"github.com/procview/procview/internal/publish"
	"github.com/procview/procview/internal/readwatch"
	"github.com/procview/procview/internal/state"
	"github.com/procview/procview/internal/tasks"
	"github.com/procview/procview/internal/views"
)

// ErrRunning means another daemon holds the state root's lock.
var ErrRunning = errors.New("procviewd already runs on this state root")

// Daemon refreshes views.
type Daemon struct {
	Cfg     config.Config
	Log     logrus.FieldLogger
	Root    state.Root
	Sampler *views.Sampler

	sets    map[string]*publish.Set
	inits   map[string]*initProbe // kept /proc/<init>/stat per container
	failed  map[string]string     // last error per container, to log changes only
	lock    *os.File
	nofile  int    // RLIMIT_NOFILE, to size Sampler.FDBudget
	statBuf []byte // scratch for the init probes
	svc     *services
	// lastHost is the host sample of the last round that read one: the
	// registry's snapshot needs it in rounds where no container was due.
	lastHost *hoststats.Host

	// The adaptive loop (schedule.go).
	sched       map[string]*schedule // when each container needs a full refresh
	watch       *readwatch.Watcher   // reads of views; nil: every container is due every round
	watchWarned bool
}

// New builds a daemon for cfg reading the live system.
func New(cfg config.Config, log logrus.FieldLogger) (*Daemon, error) {
	cgFS := os.DirFS(cfg.CgroupRoot)
	mode, err := cgroupstats.DetectMode(cgFS)
	if err != nil {
		return nil, fmt.Errorf("detect cgroup layout: %w", err)
	}
	return &Daemon{
		Cfg:  cfg,
		Log:  log,
		Root: state.Root(cfg.StateRoot),
		Sampler: &views.Sampler{
			CgroupFS: cgFS, Mode: mode,
			ProcFS: os.DirFS(cfg.ProcRoot),
			SysFS:  os.DirFS(filepath.Join(filepath.Dir(filepath.Clean(cfg.ProcRoot)), "sys")),
			// Sized every round by budgetFDs.
			FDBudget:      cgroupstats.NewFDBudget(0),
			Ancestors:     cgroupstats.NewAncestorCache(),
			FreezeCPUInfo: true,
			TaskBudget:    &tasks.Budget{},
		},
		sets:   map[string]*publish.Set{},
		inits:  map[string]*initProbe{},
		failed: map[string]string{},
		nofile: openFileLimit(),
	}, nil
}

// openFileLimit is the soft RLIMIT_NOFILE (the Go runtime raises it to the
// hard limit at startup).
func openFileLimit() int {
	var rl unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &rl); err != nil || rl.Cur > 1<<30 {
		return 1024
	}
	return int(rl.Cur)
}

// fdsPerContainer is what a container needs beyond cached cgroup files:
// its view files, acct.json and its init's stat file.
const fdsPerContainer = 16

// fdReserve is kept free for logs, listing directories and adopting.
const fdReserve = 256

// budgetFDs gives cgroup file caching whatever descriptors the view files
// of the registered containers leave free.
func (d *Daemon) budgetFDs(containers int) {
	d.Sampler.FDBudget.SetMax(max(0, d.nofile-fdReserve-fdsPerContainer*containers))
	d.Sampler.FDBudget.SetReserve(probesPerContainer * containers)
}

// probesPerContainer bounds the usage counter files of one container
// (memory, CPU, I/O), kept open first: they are read every round.
const probesPerContainer = 3

// Lock takes the state root's lock or returns ErrRunning.
func (d *Daemon) Lock() error {
	f, held, err := d.Root.TryLock()
	if err != nil {
		return err
	}
	if held {
		return ErrRunning
	}
	d.lock = f
	if err := os.WriteFile(d.Root.PidFile(), []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644); err != nil {
		d.Log.WithError(err).Warn("write pid file")
	}
	return nil
}

// Run refreshes every interval until ctx ends.
func (d *Daemon) Run(ctx context.Context) error {
	if d.lock == nil {
		if err := d.Lock(); err != nil {
			return err
		}
	}
	defer d.shutdown()
	t := time.NewTicker(d.Cfg.RefreshInterval.Duration)
	defer t.Stop()
	d.startWatch()
	d.Log.WithFields(logrus.Fields{"state_root": d.Root, "interval": d.Cfg.RefreshInterval,
		"max_interval": d.Cfg.RefreshMaxInterval}).Info("procviewd running")
	for {
		d.Round()
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

func (d *Daemon) shutdown() {
	for k, s := range d.sets {
		d.drop(k, s)
	}
	d.watch.Close()
	d.watch = nil
	if d.lock != nil {
		// Remove the pid file only while still holding the lock, so a new
		// daemon's pid file is never deleted.
		_ = os.Remove(d.Root.PidFile())
		d.lock.Close()
		d.lock = nil
	}
}

// Round adopts new containers, drops removed ones and refreshes those that
// need it (see due): the cost of a round follows what changed and what was
// read, not the number of containers.
func (d *Daemon) Round() {
	start := time.Now()
	keys, err := d.Root.List()
	if err != nil {
		d.Log.WithError(err).Warn("list containers")
		return
	}
	seen := make(map[string]bool, len(keys))
	for _, k := range keys {
		seen[k] = true
	}
	for k, s := range d.sets {
		if !seen[k] {
			d.drop(k, s)
			delete(d.failed, k)
		}
	}
	if d.nofile > 0 {
		d.budgetFDs(len(keys))
	}
	d.drainReads()
	if d.Sampler.Ancestors != nil {
		d.Sampler.Ancestors.NextRound()
	}
	// Task-scan budget: scans after the first half of the interval read
	// only a small sample, so one container's threads cannot push every
	// other container's refresh past the next tick (tasks.Budget).
	d.Sampler.TaskBudget.StartRound(d.Cfg.RefreshInterval.Duration / 2)
	now := d.now()
	var host *hoststats.Host // read once, by the first container due
	var hostErr error
	for _, k := range keys {
		s := d.sets[k]
		if s != nil && d.replaced(k, s) {
			d.Log.WithField("container", s.Meta.ID).Info("state directory replaced (same id re-created); adopting the new one")
			d.drop(k, s)
			s = nil
		}
		if s == nil {
			s, err = publish.Adopt(d.Root, k)
			if errors.Is(err, publish.ErrIncomplete) {
				continue // the hook is still creating it
			}
			if err != nil {
				d.note(k, err)
				continue
			}
			s.SlowByAge = d.watch != nil // the schedule forces them (due)
			d.sets[k] = s
			d.Log.WithField("container", s.Meta.ID).Debug("adopted")
		}
		if !d.due(k, s, now) {
			continue
		}
		if d.gone(k, s) {
			d.Log.WithField("container", s.Meta.ID).Info("container gone without poststop; removing its state")
			d.drop(k, s)
			_ = d.Root.RemoveIf(k, s.DirID)
			continue
		}
		if host == nil && hostErr == nil {
			if host, hostErr = d.Sampler.Host(); hostErr != nil {
				d.Log.WithError(hostErr).Warn("read host")
			} else {
				d.lastHost = host
			}
		}
		if hostErr != nil {
			d.refreshed(k, s, now, hostErr) // retried next round
			continue
		}
		grew, err := s.Refresh(d.Sampler, host)
		if len(grew) > 0 {
			d.Log.WithFields(logrus.Fields{"container": s.Meta.ID, "views": grew}).Info("view length grew beyond its slack")
		}
		d.note(k, err)
		d.refreshed(k, s, now, err)
	}
	d.observe(d.lastHost, start)
}

// replaced reports whether key's directory is no longer the one s was
// opened from: the hook re-created the container (same id) since.
func (d *Daemon) replaced(key string, s *publish.Set) bool {
	id, err := d.Root.Ident(key)
	return err == nil && id != s.DirID
}

// note logs a container's error when it changes, not every round.
func (d *Daemon) note(key string, err error) {
	msg := ""
	if err != nil {
		msg = err.Error()
	}
	if d.failed[key] == msg {
		return
	}
	d.failed[key] = msg
	if err != nil {
		d.Log.WithError(err).WithField("container", key).Warn("refresh failed")
	} else {
		d.Log.WithField("container", key).Info("refresh recovered")
	}
}

// drop forgets a container and releases its descriptors.
func (d *Daemon) drop(key string, s *publish.Set) {
	s.Close()
	delete(d.sets, key)
	delete(d.sched, key)
	if d.watch != nil {
		d.watch.Forget(key)
	}
	if p := d.inits[key]; p != nil {
		p.close()
		delete(d.inits, key)
	}
}

// gone reports whether the container's init has exited and its cgroup is
// empty (runc deleted it, or the container stopped and poststop was missed).
func (d *Daemon) gone(key string, s *publish.Set) bool {
	if d.inits == nil {
		d.inits = map[string]*initProbe{}
	}
	p := d.inits[key]
	if p == nil {
		p = &initProbe{}
		d.inits[key] = p
	}
	if d.statBuf == nil {
		d.statBuf = make([]byte, statBufSize)
	}
	if start, err := p.startTime(d.Sampler.ProcFS, s.Meta.Pid, d.statBuf); err == nil && start == s.Meta.InitStartNs {
		return false // init alive (and not a reused pid)
	}
	p.close() // reopen next time: the pid may be reused by the time it matters
	st, err := cgroupstats.Read(d.Sampler.CgroupFS, d.Sampler.Mode, s.Meta.Location)
	if errors.Is(err, fs.ErrNotExist) {
		return true // the cgroup directory is gone in every hierarchy
	}
	if err != nil {
		return false
	}
	return len(st.Pids.Procs) == 0
}
