// Package tasks reads per-process facts from procfs: task states for load
// and procs_running, PIDs as seen in the container's PID namespace, context
// switches, and process start times.
package tasks

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"strconv"
)

// Summary is one scan of a container's tasks.
type Summary struct {
	Running      int    // state R
	Blocked      int    // state D
	Threads      int    // tasks that still exist
	LastPID      int    // highest PID in the innermost PID namespace among the processes
	CtxtSwitches uint64 // voluntary + nonvoluntary switches of the threads
}

// Scan reads /proc/<tid>/status of every thread (state, context switches)
// and of every process (its PID in the container's namespace). Tasks that
// exit during the scan are skipped.
//
// Not /proc/<tid>/stat: /proc/<tid> of a thread is served like its thread
// group's directory, so its stat sums over every thread of the group (one
// read costs ~30 ms of CPU with 50 000 threads, the scan grows with the
// square of the threads). status reports the task itself.
func Scan(procFS fs.FS, procs, threads []int) Summary {
	var s Summary
	for _, tid := range threads {
		b, err := fs.ReadFile(procFS, strconv.Itoa(tid)+"/status")
		if err != nil {
			continue
		}
		st := ParseStatus(b)
		if st.State == 0 {
			continue
		}
		s.Threads++
		switch st.State {
		case 'R':
			s.Running++
		case 'D':
			s.Blocked++
		}
		s.CtxtSwitches += st.Voluntary + st.Nonvoluntary
	}
	for _, pid := range procs {
		b, err := fs.ReadFile(procFS, strconv.Itoa(pid)+"/status")
		if err != nil {
			continue
		}
		if st := ParseStatus(b); st.NSPid > s.LastPID {
			s.LastPID = st.NSPid
		}
	}
	return s
}

// ErrParse marks malformed procfs content.
var ErrParse = errors.New("malformed procfs file")

// statFields returns the fields after "(comm)" in /proc/PID/stat; comm may
// contain spaces and parentheses, so split at the last ')'.
func statFields(b []byte) ([][]byte, error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 || i+2 > len(b) {
		return nil, fmt.Errorf("%w: stat without comm", ErrParse)
	}
	return bytes.Fields(b[i+1:]), nil
}

// ParseState returns the state letter of /proc/PID/stat.
func ParseState(b []byte) (byte, error) {
	f, err := statFields(b)
	if err != nil {
		return 0, err
	}
	if len(f) < 1 || len(f[0]) != 1 {
		return 0, fmt.Errorf("%w: stat state", ErrParse)
	}
	return f[0][0], nil
}

// ParseStartTime returns field 22 of /proc/PID/stat: start time in clock
// ticks since boot.
func ParseStartTime(b []byte) (uint64, error) {
	f, err := statFields(b)
	if err != nil {
		return 0, err
	}
	// Fields after comm start at field 3 (state); starttime is field 22.
	const idx = 22 - 3
	if len(f) <= idx {
		return 0, fmt.Errorf("%w: stat has %d fields", ErrParse, len(f)+2)
	}
	v, err := strconv.ParseUint(string(f[idx]), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: starttime: %w", ErrParse, err)
	}
	return v, nil
}

// StartTime reads the start of pid in nanoseconds since boot (CLOCK_BOOTTIME).
func StartTime(procFS fs.FS, pid int) (uint64, error) {
	p := strconv.Itoa(pid) + "/stat"
	b, err := fs.ReadFile(procFS, p)
	if err != nil {
		return 0, fmt.Errorf("read %s: %w", p, err)
	}
	t, err := ParseStartTime(b)
	if err != nil {
		return 0, fmt.Errorf("parse %s: %w", p, err)
	}
	return t * (1e9 / 100), nil // USER_HZ is 100 on every Linux ABI
}

// Status is the part of /proc/PID/status procview uses.
type Status struct {
	State        byte // letter of the State line ('R', 'S', 'D', ...), 0 if absent
	NSPid        int  // last NSpid entry: the PID in the innermost namespace
	Voluntary    uint64
	Nonvoluntary uint64
}

// ParseStatus parses /proc/PID/status; unknown lines are ignored.
func ParseStatus(b []byte) Status {
	var s Status
	for len(b) > 0 {
		var line []byte
		line, b, _ = bytes.Cut(b, []byte{'\n'})
		k, v, ok := bytes.Cut(line, []byte{':'})
		if !ok {
			continue
		}
		switch string(k) {
		case "State":
			if f := bytes.TrimSpace(v); len(f) > 0 {
				s.State = f[0]
			}
		case "NSpid":
			f := bytes.Fields(v)
			if len(f) > 0 {
				s.NSPid, _ = strconv.Atoi(string(f[len(f)-1]))
			}
		case "voluntary_ctxt_switches":
			s.Voluntary, _ = strconv.ParseUint(string(bytes.TrimSpace(v)), 10, 64)
		case "nonvoluntary_ctxt_switches":
			s.Nonvoluntary, _ = strconv.ParseUint(string(bytes.TrimSpace(v)), 10, 64)
		}
	}
	return s
}

// BoottimeOffset reads the boottime offset (ns) of pid's time namespace from
// /proc/PID/timens_offsets; 0 when there is none or the kernel lacks time
// namespaces.
func BoottimeOffset(procFS fs.FS, pid int) int64 {
	b, err := fs.ReadFile(procFS, strconv.Itoa(pid)+"/timens_offsets")
	if err != nil {
		return 0
	}
	return ParseBoottimeOffset(b)
}

// ParseBoottimeOffset parses timens_offsets ("boottime <secs> <nanosecs>").
func ParseBoottimeOffset(b []byte) int64 {
	for len(b) > 0 {
		var line []byte
		line, b, _ = bytes.Cut(b, []byte{'\n'})
		f := bytes.Fields(line)
		if len(f) != 3 || (string(f[0]) != "boottime" && string(f[0]) != "7") {
			continue
		}
		s, err1 := strconv.ParseInt(string(f[1]), 10, 64)
		ns, err2 := strconv.ParseInt(string(f[2]), 10, 64)
		if err1 != nil || err2 != nil {
			return 0
		}
		return s*1e9 + ns
	}
	return 0
}
