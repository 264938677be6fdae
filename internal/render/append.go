package render

import (
	"errors"
	"fmt"
	"io"
	"strconv"
)

// errNoHost is returned by renderers that copy or scale host data when the
// Input carries none.
var errNoHost = errors.New("input has no host snapshot")

// write hands one view's bytes to w in a single Write, so a buffered writer
// never holds half a view.
func write(w io.Writer, b []byte, view string) error {
	if _, err := w.Write(b); err != nil {
		return fmt.Errorf("write %s: %w", view, err)
	}
	return nil
}

// scratch returns an empty slice to append a view to before write: w's own
// free space, grown to n, when w is a bytes.Buffer (the daemon renders into
// a reused one), else a new slice of capacity n. Either way write(w, b, …) then hands it over.
func scratch(w io.Writer, n int) []byte {
	if gb, ok := w.(interface {
		Grow(int)
		AvailableBuffer() []byte
	}); ok {
		gb.Grow(n) // no-op once the reused buffer is large enough
		return gb.AvailableBuffer()
	}
	return make([]byte, 0, n)
}

// appendUintWidth appends v right-aligned in width columns (%*d).
func appendUintWidth(b []byte, v uint64, width int) []byte {
	var tmp [20]byte
	d := strconv.AppendUint(tmp[:0], v, 10)
	for i := len(d); i < width; i++ {
		b = append(b, ' ')
	}
	return append(b, d...)
}

// appendHundredths appends v with two decimals, truncated toward zero as the
// kernel prints /proc/uptime ("%lu.%02lu" of whole and hundredths).
func appendHundredths(b []byte, v float64) []byte {
	if v < 0 || v != v {
		v = 0
	}
	c := uint64(v * 100)
	b = strconv.AppendUint(b, c/100, 10)
	b = append(b, '.')
	if c%100 < 10 {
		b = append(b, '0')
	}
	return strconv.AppendUint(b, c%100, 10)
}

// appendFixed2 appends v rounded to two decimals (%.2f), as the kernel prints
// load averages and PSI averages (it adds half a unit before truncating).
func appendFixed2(b []byte, v float64) []byte {
	if v < 0 || v != v {
		v = 0
	}
	return strconv.AppendFloat(b, v, 'f', 2, 64)
}
