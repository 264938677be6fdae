package daemon

import (
	"math/rand/v2"
	"time"

	"github.com/procview/procview/internal/publish"
	"github.com/procview/procview/internal/readwatch"
	"github.com/procview/procview/internal/views"
)

// A full refresh of a container (read its cgroup files, derive, render,
// write what changed) costs about a hundred times a probe of its usage
// counters, so a round refreshes a container fully only when
//   - its usage counters moved (memory, CPU or I/O: Set.Probe), or
//   - one of its views was read since the views were last written (a
//     one-shot inotify watch on its view directories), or
//   - refresh_max_interval passed since its last full refresh (the safety
//     net for what no counter shows: limit updates, memory.stat shifting
//     between lists, pressure averages decaying, and the views that change
//     with time alone — uptime, idle ticks, load decay).
//
// A change in a container therefore shows within one interval plus a
// round, read or not. Views that change with time alone are rewritten when
// a reader is there to see them (the next round after a read) or at the
// safety net: a container that never reads cannot see them age, and one
// that reads sees them fresh from its second read on (its first read after
// a quiet spell returns content up to refresh_max_interval old).
type schedule struct {
	next uint64 // boottime ns of the next safety-net full refresh
	read bool   // a view was read since the last write
	slow uint64 // boottime ns of the last read of the slow files
}

// slowEvery is how old the limits, cpuset and ancestors' files may be when
// a container is refreshed: a limit update shows at the first refresh at
// least this long after the last (as with a 1 s interval's full rounds,
// cgroupstats.DefaultFullEvery).
const slowEvery = 5 * uint64(time.Second)

// slowIdleEvery is slowEvery for a container that neither moves nor is
// read: nobody sees its limits until it does, and then slowEvery applies.
const slowIdleEvery = 60 * uint64(time.Second)

// startWatch opens the read watch; without one every container is
// refreshed every round (the cost of the old loop, never stale).
func (d *Daemon) startWatch() {
	if d.watch != nil || !d.adaptive() {
		return
	}
	w, err := readwatch.New()
	if err != nil {
		d.Log.WithError(err).Warn("cannot watch view reads; refreshing every container every round")
		return
	}
	d.watch = w
}

// adaptive reports whether containers may skip rounds at all.
func (d *Daemon) adaptive() bool {
	return d.Cfg.RefreshMaxInterval.Duration > d.Cfg.RefreshInterval.Duration
}

func (d *Daemon) now() uint64 {
	if d.Sampler.Now != nil {
		return d.Sampler.Now()
	}
	return views.BootClock()
}

// drainReads marks the containers whose views were read.
func (d *Daemon) drainReads() {
	if d.watch == nil {
		return
	}
	err := d.watch.Drain(func(key string) {
		if sc := d.sched[key]; sc != nil {
			sc.read = true
		}
	})
	if err != nil {
		d.Log.WithError(err).Warn("read view watch; refreshing every container this round")
		for _, sc := range d.sched {
			sc.read = true
		}
	}
}

// due reports whether container key needs a full refresh this round. The
// cheap checks come first: the probe (a few preads) runs only when neither
// a read nor the safety net already decided.
func (d *Daemon) due(key string, s *publish.Set, now uint64) bool {
	sc := d.sched[key]
	if sc == nil || d.watch == nil {
		return true
	}
	active := sc.read || s.Probe()
	if !active && now < sc.next {
		return false
	}
	// The slow files: 5 s old is enough for a container that moves or is
	// read; the safety net of an idle, unread one re-reads them only every
	// slowIdleEvery (they make half or more of a full read's system calls).
	age := slowEvery
	if !active {
		age = slowIdleEvery
	}
	if now >= sc.slow+age {
		s.ForceFull()
		sc.slow = now
	}
	return true
}

// refreshed schedules the next safety-net refresh and re-arms the read
// watch after a full refresh. The first safety net of a container falls at
// a random point of refresh_max_interval, so containers adopted together do
// not come due together ever after. A failed refresh is retried next round.
func (d *Daemon) refreshed(key string, s *publish.Set, now uint64, err error) {
	if d.watch == nil {
		return
	}
	if d.sched == nil {
		d.sched = map[string]*schedule{}
	}
	max := uint64(d.Cfg.RefreshMaxInterval.Duration)
	sc := d.sched[key]
	if sc == nil {
		sc = &schedule{slow: now}
		d.sched[key] = sc
		sc.next = now + rand.Uint64N(max) + uint64(time.Millisecond)
	} else {
		sc.next = now + max
	}
	sc.read = err != nil
	if err := d.watch.Arm(key, s.ViewDirs()); err != nil {
		// Reads would go unseen: refresh it fully every round until a
		// watch can be placed.
		sc.read = true
		if !d.watchWarned {
			d.watchWarned = true
			d.Log.WithError(err).WithField("container", s.Meta.ID).
				Warn("cannot watch view reads (fs.inotify.max_user_watches?); refreshing such containers every round")
		}
	}
}
