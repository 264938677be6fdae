package daemon

import (
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/procview/procview/internal/tasks"
)

// initProbe keeps a container init's /proc/<pid>/stat open so the per-round
// liveness check is one pread. The descriptor is bound to the process, not
// to the pid number: once the process is gone every read fails (ESRCH), even
// if the pid is reused.
type initProbe struct {
	f  fs.File
	fd int
}

// statBufSize holds any /proc/<pid>/stat (at most ~1.1 kB).
const statBufSize = 2048

// startTime returns the process's start time in CLOCK_BOOTTIME ns, like
// tasks.StartTime. statBuf (statBufSize bytes) is scratch space shared by
// the probes of one daemon.
func (p *initProbe) startTime(procFS fs.FS, pid int, statBuf []byte) (uint64, error) {
	if p.f == nil {
		// The init's own task entry: /proc/<pid>/stat sums over every
		// thread of the group, ~100 ms per read next to 50 000 threads.
		name := strconv.Itoa(pid) + "/task/" + strconv.Itoa(pid) + "/stat"
		f, err := procFS.Open(name)
		if err != nil {
			return 0, fmt.Errorf("read %s: %w", name, err)
		}
		fder, ok := f.(interface{ Fd() uintptr })
		if !ok {
			f.Close()
			return tasks.StartTime(procFS, pid)
		}
		p.f, p.fd = f, int(fder.Fd())
	}
	var n int
	var err error
	for {
		n, err = unix.Pread(p.fd, statBuf, 0)
		if !errors.Is(err, syscall.EINTR) {
			break
		}
	}
	if err != nil {
		p.close()
		return 0, fmt.Errorf("read /proc/%d/stat: %w", pid, err)
	}
	t, err := tasks.ParseStartTime(statBuf[:n])
	if err != nil {
		p.close()
		return 0, fmt.Errorf("parse /proc/%d/stat: %w", pid, err)
	}
	return t * (1e9 / 100), nil // USER_HZ is 100 on every Linux ABI
}

func (p *initProbe) close() {
	if p.f != nil {
		p.f.Close()
		p.f = nil
	}
}
