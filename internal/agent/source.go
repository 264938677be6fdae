// Package agent is procview-agent: it answers system calls of procview's
// containers through seccomp user notification (sysinfo(2) today) from the
// views procviewd renders, without procviewd on the path.
//
// Two processes: the holder accepts the runtimes' hand-overs on the
// listener socket and keeps every listener fd; the worker, its child,
// receives copies and answers the notifications. Either may die without
// the other's containers noticing more than a delay: a dead worker is
// restarted by the holder with every fd again and finds the notification
// it was answering in a shared record; a dead holder leaves the worker
// serving its listeners until they close. See docs/syscalls.md.
package agent

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"golang.org/x/sys/unix"

	"github.com/procview/procview/internal/seccomp"
	"github.com/procview/procview/internal/state"
)

// Source reads one container's sysinfo answer from its rendered views:
// meminfo and loadavg are the files the container's /proc shows, so
// sysinfo and /proc agree by construction, and the uptime is computed
// from the same start the uptime view uses.
type Source struct {
	dir      string
	meminfo  *os.File
	loadavg  *os.File
	startNs  uint64
	buf      []byte
	boottime func() uint64
	retryAt  time.Time
}

// NewSource returns the source of the container whose state directory is
// dir. Files are opened on first use: the hand-over can arrive before the
// hook has rendered the views.
func NewSource(dir string) *Source {
	return &Source{dir: dir, buf: make([]byte, 8192), boottime: boottimeNs}
}

// errNotReady: the container's views are not there (yet).
var errNotReady = errors.New("container views not rendered")

// retryOpen spaces attempts to open missing views.
const retryOpen = 100 * time.Millisecond

func (s *Source) open() error {
	if s.meminfo != nil {
		return nil
	}
	if time.Now().Before(s.retryAt) {
		return errNotReady
	}
	s.retryAt = time.Now().Add(retryOpen)
	m, err := state.ReadMeta(s.dir)
	if err != nil {
		return fmt.Errorf("%w: %v", errNotReady, err)
	}
	views := filepath.Join(s.dir, "views")
	mi, err := os.Open(filepath.Join(views, "meminfo"))
	if err != nil {
		return fmt.Errorf("%w: %v", errNotReady, err)
	}
	// loadavg may be configured off: the host's loads then.
	la, _ := os.Open(filepath.Join(views, "loadavg"))
	s.meminfo, s.loadavg, s.startNs = mi, la, m.StartNs
	if m.HostUptime {
		// uptime = "host" (or "auto" without a time namespace): the
		// container's /proc/uptime is the kernel's, so is sysinfo's.
		s.startNs = 0
	}
	return nil
}

// Close releases the open views.
func (s *Source) Close() {
	for _, f := range []*os.File{s.meminfo, s.loadavg} {
		if f != nil {
			_ = f.Close()
		}
	}
	s.meminfo, s.loadavg = nil, nil
}

// Info returns the container's sysinfo answer now.
func (s *Source) Info(out *seccomp.Info) error {
	if err := s.open(); err != nil {
		return err
	}
	b, err := pread(s.meminfo, s.buf)
	if err != nil {
		return err
	}
	if err := ParseMeminfo(b, out); err != nil {
		return err
	}
	if s.loadavg != nil {
		b, err := pread(s.loadavg, s.buf)
		if err != nil {
			return err
		}
		if err := ParseLoadavg(b, out); err != nil {
			return err
		}
	} else {
		var si unix.Sysinfo_t
		if err := unix.Sysinfo(&si); err != nil {
			return fmt.Errorf("host sysinfo: %w", err)
		}
		out.Loads = [3]uint64{uint64(si.Loads[0]), uint64(si.Loads[1]), uint64(si.Loads[2])}
		out.Procs = uint64(si.Procs)
	}
	out.Uptime = Uptime(s.boottime(), s.startNs)
	return nil
}

// Uptime is the container's uptime in whole seconds, rounded up like the
// kernel's sysinfo: the uptime view shows the same span truncated to
// hundredths.
func Uptime(nowNs, startNs uint64) int64 {
	if nowNs <= startNs {
		return 0
	}
	d := nowNs - startNs
	return int64((d + 999_999_999) / 1e9)
}

func pread(f *os.File, buf []byte) ([]byte, error) {
	n, err := f.ReadAt(buf, 0)
	if n == 0 && err != nil {
		return nil, fmt.Errorf("read %s: %w", f.Name(), err)
	}
	return buf[:n], nil
}

func boottimeNs() uint64 {
	var ts unix.Timespec
	_ = unix.ClockGettime(unix.CLOCK_BOOTTIME, &ts)
	return uint64(ts.Sec)*1e9 + uint64(ts.Nsec)
}

// ParseMeminfo fills the memory fields of out from a /proc/meminfo view.
// MemTotal and MemFree are required; free never exceeds total and swap
// free never exceeds swap total (no wrap).
func ParseMeminfo(b []byte, out *seccomp.Info) error {
	var total, free, buffers, shmem, swapTotal, swapFree uint64
	var seen int
	for len(b) > 0 {
		line := b
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			line, b = b[:i], b[i+1:]
		} else {
			b = nil
		}
		colon := bytes.IndexByte(line, ':')
		if colon < 0 {
			continue
		}
		var dst *uint64
		switch string(line[:colon]) { // no allocation: compared in place
		case "MemTotal":
			dst = &total
			seen |= 1
		case "MemFree":
			dst = &free
			seen |= 2
		case "Buffers":
			dst = &buffers
		case "Shmem":
			dst = &shmem
		case "SwapTotal":
			dst = &swapTotal
		case "SwapFree":
			dst = &swapFree
		default:
			continue
		}
		f := bytes.Fields(line[colon+1:])
		if len(f) == 0 {
			return fmt.Errorf("meminfo %s: no value", line[:colon])
		}
		v, err := strconv.ParseUint(string(f[0]), 10, 64)
		if err != nil || v > math.MaxUint64/1024 {
			return fmt.Errorf("meminfo %s: bad value %q", line[:colon], f[0])
		}
		*dst = v * 1024
	}
	if seen != 3 {
		return errors.New("meminfo without MemTotal and MemFree")
	}
	out.TotalRAM = total
	out.FreeRAM = min(free, total)
	out.BufferRAM = min(buffers, total)
	out.SharedRAM = min(shmem, total)
	out.TotalSwap = swapTotal
	out.FreeSwap = min(swapFree, swapTotal)
	return nil
}

// ParseLoadavg fills loads and procs from a /proc/loadavg view
// ("0.52 0.58 0.59 1/234 5678"): the loads in sysinfo's 1<<16 fixed point,
// procs the thread count after the slash (the kernel's nr_threads).
func ParseLoadavg(b []byte, out *seccomp.Info) error {
	f := bytes.Fields(b)
	if len(f) < 4 {
		return fmt.Errorf("loadavg: %d fields", len(f))
	}
	for i := range 3 {
		v, err := strconv.ParseFloat(string(f[i]), 64)
		if err != nil || v < 0 || v > 1e9 {
			return fmt.Errorf("loadavg: bad load %q", f[i])
		}
		out.Loads[i] = uint64(math.Round(v * (1 << seccomp.LoadShift)))
	}
	slash := bytes.IndexByte(f[3], '/')
	if slash < 0 {
		return fmt.Errorf("loadavg: bad tasks %q", f[3])
	}
	n, err := strconv.ParseUint(string(f[3][slash+1:]), 10, 64)
	if err != nil {
		return fmt.Errorf("loadavg: bad tasks %q", f[3])
	}
	out.Procs = n
	return nil
}
