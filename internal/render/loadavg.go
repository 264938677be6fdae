package render

import (
	"io"
	"strconv"
)

// Loadavg renders /proc/loadavg: "%.2f %.2f %.2f running/threads lastpid".
func Loadavg(w io.Writer, in *Input) error {
	b := scratch(w, 48)
	for _, l := range in.Load {
		b = appendFixed2(b, l)
		b = append(b, ' ')
	}
	b = strconv.AppendInt(b, int64(in.Running), 10)
	b = append(b, '/')
	b = strconv.AppendInt(b, int64(in.Threads), 10)
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(in.LastPID), 10)
	b = append(b, '\n')
	return write(w, b, "loadavg")
}
