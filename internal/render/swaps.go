package render

import (
	"fmt"
	"io"
	"strconv"
)

// swapsHeader is the kernel's header line, tabs included.
const swapsHeader = "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n"

// Swaps renders /proc/swaps: the header, then, when the container's
// SwapTotal (as in meminfo) is above 0, one line for a pseudo device "none"
// of type "virtual" with Size = SwapTotal and Used = SwapTotal - SwapFree in
// kB and priority -2 (the kernel's first automatic priority). Columns follow
// the kernel's swap_show: the name padded to 40 columns, tabs between
// fields, and an extra tab after Size and Used when they are below 10000000.
// The container cannot know which host devices hold its pages, hence one
// virtual line.
func Swaps(w io.Writer, in *Input) error {
	if in.Host == nil {
		return fmt.Errorf("render swaps: %w", errNoHost)
	}
	m := newMemView(in)
	b := append(scratch(w, 128), swapsHeader...)
	if size := m.swapTotal / 1024; size > 0 {
		used := sub(m.swapTotal, m.swapFree) / 1024
		const name = "none"
		b = append(b, name...)
		for range 40 - len(name) {
			b = append(b, ' ')
		}
		b = append(b, "virtual\t"...)
		b = strconv.AppendUint(b, size, 10)
		b = append(b, '\t')
		if size < 10000000 {
			b = append(b, '\t')
		}
		b = strconv.AppendUint(b, used, 10)
		b = append(b, '\t')
		if used < 10000000 {
			b = append(b, '\t')
		}
		b = append(b, "-2\n"...)
	}
	return write(w, b, "swaps")
}
