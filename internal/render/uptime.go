package render

import "io"

// Uptime renders /proc/uptime: in.Uptime and in.Idle in seconds with two
// decimals. The kernel truncates to hundredths rather than rounding, and so
// does this, so the file never runs ahead of the clock it reports.
func Uptime(w io.Writer, in *Input) error {
	b := scratch(w, 32)
	b = appendHundredths(b, in.Uptime)
	b = append(b, ' ')
	b = appendHundredths(b, in.Idle)
	b = append(b, '\n')
	return write(w, b, "uptime")
}
