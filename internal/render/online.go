package render

import (
	"fmt"
	"io"
	"strconv"
)

// Online renders /sys/devices/system/cpu/online: "0" for one CPU, else
// "0-(n-1)", the kernel's cpulist format.
func Online(w io.Writer, in *Input) error { return cpuRange(w, in, "online") }

// Possible renders /sys/devices/system/cpu/possible, as Online: glibc's
// _SC_NPROCESSORS_CONF and lscpu size their CPU sets from it.
func Possible(w io.Writer, in *Input) error { return cpuRange(w, in, "possible") }

// Present renders /sys/devices/system/cpu/present, as Online.
func Present(w io.Writer, in *Input) error { return cpuRange(w, in, "present") }

func cpuRange(w io.Writer, in *Input, view string) error {
	if in.CPUs < 1 {
		return fmt.Errorf("render %s: %d CPUs", view, in.CPUs)
	}
	b := scratch(w, 16)
	b = append(b, '0')
	if in.CPUs > 1 {
		b = append(b, '-')
		b = strconv.AppendInt(b, int64(in.CPUs-1), 10)
	}
	b = append(b, '\n')
	return write(w, b, view)
}
