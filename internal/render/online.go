package render

import (
	"fmt"
	"io"
	"strconv"
)

// Online renders /sys/devices/system/cpu/online: "0" for one CPU, else
// "0-(n-1)", the kernel's cpulist format.
func Online(w io.Writer, in *Input) error {
	if in.CPUs < 1 {
		return fmt.Errorf("render online: %d CPUs", in.CPUs)
	}
	b := scratch(w, 16)
	b = append(b, '0')
	if in.CPUs > 1 {
		b = append(b, '-')
		b = strconv.AppendInt(b, int64(in.CPUs-1), 10)
	}
	b = append(b, '\n')
	return write(w, b, "online")
}
