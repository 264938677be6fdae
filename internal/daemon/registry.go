package daemon

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/procview/procview/internal/hoststats"
	"github.com/procview/procview/internal/metrics"
	"github.com/procview/procview/internal/registry"
	"github.com/procview/procview/internal/render"
	"github.com/procview/procview/internal/snapshot"
)

// services is procviewd's view of the whole node (issue 13): the registry
// of every container, the snapshot of the last round, and the servers that
// hand it out (Prometheus metrics, the ps socket). Rounds feed it through
// one call, observe.
type services struct {
	reg          *registry.Registry
	snap         atomic.Pointer[snapshot.Snapshot]
	rounds       uint64
	viewsWritten uint64
	errors       uint64
}

func (d *Daemon) services() *services {
	if d.svc == nil {
		d.svc = &services{reg: registry.New(registry.Options{
			CgroupFS: d.Sampler.CgroupFS, Mode: d.Sampler.Mode, ProcRoot: d.Cfg.ProcRoot,
			DockerRoot: d.Cfg.DockerRoot, PodmanRoot: d.Cfg.PodmanRoot,
			FDBudget: d.Sampler.FDBudget, Log: d.Log,
		})}
	}
	return d.svc
}

// Snapshot is the last round's snapshot (nil before the first).
func (d *Daemon) Snapshot() *snapshot.Snapshot { return d.services().snap.Load() }

// observe hands the round's samples to the registry and publishes the
// snapshot: managed containers as sampled for their views, the others read
// by the registry.
func (d *Daemon) observe(host *hoststats.Host, start time.Time) {
	s := d.services()
	managed := make([]registry.Managed, 0, len(d.sets))
	for _, set := range d.sets {
		m := registry.Managed{Meta: set.Meta, Stats: set.Last}
		if set.Last != nil && host != nil {
			m.ViewCPUs = set.LastCPUs
			m.ViewMemTotal = render.MemTotal(&render.Input{Host: host, Cgroup: set.Last})
		}
		s.viewsWritten += set.Written
		set.Written = 0
		managed = append(managed, m)
	}
	s.rounds++
	s.errors = 0
	for _, msg := range d.failed {
		if msg != "" {
			s.errors++
		}
	}
	self := snapshot.Self{RoundSeconds: time.Since(start).Seconds(), Rounds: s.rounds, ViewsWritten: s.viewsWritten, RefreshErrors: s.errors}
	hostCPUs := 1
	if host != nil {
		hostCPUs = max(1, len(host.Online))
	}
	s.snap.Store(s.reg.Round(managed, hostCPUs, self))
}

// Serve starts the metrics server (metrics_address, unless empty) and the
// ps socket in the state root. Either failing is logged, never fatal: the
// views matter more.
func (d *Daemon) Serve(ctx context.Context) {
	load := d.Snapshot
	if err := snapshot.Serve(ctx, snapshot.SocketPath(string(d.Root)), load); err != nil {
		d.Log.WithError(err).Warn("ps socket")
	}
	if d.Cfg.MetricsAddress == "" {
		return
	}
	done, err := metrics.Serve(ctx, d.Cfg.MetricsAddress, load)
	if err != nil {
		d.Log.WithError(err).WithField("address", d.Cfg.MetricsAddress).Warn("metrics disabled")
		return
	}
	d.Log.WithField("address", d.Cfg.MetricsAddress).Info("serving metrics")
	go func() {
		if err := <-done; err != nil {
			d.Log.WithError(err).Warn("metrics server stopped")
		}
	}()
}
