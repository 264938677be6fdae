package render

import (
	"fmt"
	"io"
	"strconv"
)

func appendCPUTimes(b []byte, t CPUTimes) []byte {
	for _, v := range [...]uint64{t.User, t.Nice, t.System, t.Idle, t.IOWait, t.IRQ, t.SoftIRQ, t.Steal, t.Guest, t.GuestNice} {
		b = append(b, ' ')
		b = strconv.AppendUint(b, v, 10)
	}
	return append(b, '\n')
}

// Stat renders /proc/stat (Documentation/filesystems/proc.rst, "1.8
// Miscellaneous kernel statistics in /proc/stat"): the aggregate "cpu" line
// (two spaces, as the kernel prints it) from in.Total, cpu0..cpu(n-1) from
// in.PerCPU, then the task counters.
//
// "intr 0": interrupts are per host IRQ line and say nothing about a
// container, and the per-IRQ columns would name the host's interrupt layout,
// so only a zero total is printed. "softirq" is a zero total and ten zero
// columns (NR_SOFTIRQS) for the same reason.
func Stat(w io.Writer, in *Input) error {
	if in.CPUs < 1 || len(in.PerCPU) != in.CPUs {
		return fmt.Errorf("render stat: %d CPUs with %d per-CPU times", in.CPUs, len(in.PerCPU))
	}
	b := scratch(w, 256+96*in.CPUs)
	b = append(b, "cpu "...)
	b = appendCPUTimes(b, in.Total)
	for i, t := range in.PerCPU {
		b = append(b, "cpu"...)
		b = strconv.AppendInt(b, int64(i), 10)
		b = appendCPUTimes(b, t)
	}
	b = append(b, "intr 0\nctxt "...)
	b = strconv.AppendUint(b, in.ContextSwitches, 10)
	b = append(b, "\nbtime "...)
	b = strconv.AppendUint(b, in.BootTime, 10)
	b = append(b, "\nprocesses "...)
	b = strconv.AppendUint(b, in.Processes, 10)
	b = append(b, "\nprocs_running "...)
	b = strconv.AppendInt(b, int64(in.Running), 10)
	b = append(b, "\nprocs_blocked "...)
	b = strconv.AppendInt(b, int64(in.Blocked), 10)
	b = append(b, "\nsoftirq 0 0 0 0 0 0 0 0 0 0 0\n"...)
	return write(w, b, "stat")
}
