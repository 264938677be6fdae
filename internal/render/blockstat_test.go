package render

import (
	"bytes"
	"strings"
	"testing"

	"github.com/procview/procview/internal/cgroupstats"
	"github.com/procview/procview/internal/layout"
)

// TestBlockStat: the kernel's 17 columns of width 8, the cgroup's counters
// for that device only, zeros for any other; the layout keeps the length
// when counters grow and the line still parses as 17 numbers.
func TestBlockStat(t *testing.T) {
	in := &Input{Cgroup: &cgroupstats.Stats{IO: cgroupstats.IO{Devices: []cgroupstats.DeviceIO{
		{Major: 254, Minor: 0, ReadBytes: 10 * mib, WriteBytes: 64 * mib, ReadIOs: 320, WriteIOs: 77, DiscardBytes: 4096, DiscardIOs: 1},
		{Major: 8, Minor: 0, ReadBytes: 512, ReadIOs: 1},
	}}}}
	v, ok := Lookup(BlockStatName(254, 0))
	if !ok || v.Name != "block/254:0" || v.Target != "" {
		t.Fatalf("Lookup: %+v %v", v, ok)
	}
	for _, bad := range []string{"block/254", "block/x:0", "block/254:0:1", "block/0254:0"} {
		if _, ok := Lookup(bad); ok {
			t.Errorf("Lookup(%q) found a view", bad)
		}
	}
	var buf bytes.Buffer
	if err := v.Render(&buf, in); err != nil {
		t.Fatal(err)
	}
	want := "     320        0    20480        0       77        0   131072        0        0        0        0        1        0        8        0        0        0\n"
	if buf.String() != want {
		t.Errorf("got  %q\nwant %q", buf.String(), want)
	}
	other, _ := Lookup(BlockStatName(7, 3))
	buf.Reset()
	if err := other.Render(&buf, in); err != nil {
		t.Fatal(err)
	}
	if f := strings.Fields(buf.String()); len(f) != 17 || strings.Trim(buf.String(), " 0\n") != "" {
		t.Errorf("untouched device: %q", buf.String())
	}
	l := layout.New(v.Layout, []byte(want))
	first, _ := l.Apply([]byte(want))
	size := len(first)
	in.Cgroup.IO.Devices[0].WriteBytes = 1 << 40 // 2^31 sectors: 10 digits
	buf.Reset()
	if err := v.Render(&buf, in); err != nil {
		t.Fatal(err)
	}
	out, _ := l.Apply(buf.Bytes())
	if len(out) != size {
		t.Errorf("length %d after growth, was %d", len(out), size)
	}
	if f := strings.Fields(string(out)); len(f) != 17 || f[6] != "2147483648" {
		t.Errorf("laid out: %q", out)
	}
}
