package agent

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/procview/procview/internal/seccomp"
	"github.com/procview/procview/internal/state"
)

// A meminfo view as procview renders it (padded columns, trailing slack).
const testMeminfo = `MemTotal:         262144 kB
MemFree:          261464 kB
MemAvailable:     261464 kB
Buffers:               4 kB
Cached:              120 kB
Shmem:                 8 kB
SwapTotal:        524288 kB
SwapFree:         600000 kB
                          
`

func TestParseMeminfo(t *testing.T) {
	var in seccomp.Info
	if err := ParseMeminfo([]byte(testMeminfo), &in); err != nil {
		t.Fatal(err)
	}
	want := seccomp.Info{TotalRAM: 256 << 20, FreeRAM: 261464 << 10, BufferRAM: 4 << 10, SharedRAM: 8 << 10,
		TotalSwap: 512 << 20, FreeSwap: 512 << 20 /* clamped to the total */}
	if in != want {
		t.Errorf("got %+v\nwant %+v", in, want)
	}
	// Free above total (a limit lowered between two reads of the daemon)
	// is clamped, never wrapped.
	if err := ParseMeminfo([]byte("MemTotal: 10 kB\nMemFree: 20 kB\n"), &in); err != nil || in.FreeRAM != 10<<10 {
		t.Errorf("clamp: %+v %v", in, err)
	}
	for _, bad := range []string{"", "MemTotal: 1 kB\n", "MemTotal: x kB\nMemFree: 1 kB\n", "MemTotal:\nMemFree: 1 kB\n",
		"MemTotal: 99999999999999999999 kB\nMemFree: 1 kB\n"} {
		if err := ParseMeminfo([]byte(bad), &in); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestParseLoadavg(t *testing.T) {
	var in seccomp.Info
	if err := ParseLoadavg([]byte("0.50 1.00 12.34 2/17 4242   \n"), &in); err != nil {
		t.Fatal(err)
	}
	if in.Loads != [3]uint64{32768, 65536, 808714} || in.Procs != 17 {
		t.Errorf("got %+v", in)
	}
	for _, bad := range []string{"", "0.1 0.2 0.3", "a 0.2 0.3 1/2 3", "0.1 0.2 0.3 12 3", "0.1 0.2 0.3 1/x 3", "-1 0 0 1/2 3"} {
		if err := ParseLoadavg([]byte(bad), &in); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestUptime(t *testing.T) {
	for _, tc := range []struct {
		now, start uint64
		want       int64
	}{{10e9, 0, 10}, {10e9 + 1, 0, 11}, {5e9, 6e9, 0}, {7_500_000_000, 2e9, 6}} {
		if got := Uptime(tc.now, tc.start); got != tc.want {
			t.Errorf("Uptime(%d, %d) = %d, want %d", tc.now, tc.start, got, tc.want)
		}
	}
}

// TestSourceInfo reads a state directory laid out as the hook and daemon
// leave it; the source follows in-place rewrites of the views.
func TestSourceInfo(t *testing.T) {
	dir := t.TempDir()
	views := filepath.Join(dir, "views")
	if err := os.MkdirAll(views, 0o755); err != nil {
		t.Fatal(err)
	}
	src := NewSource(dir)
	src.boottime = func() uint64 { return 100e9 }
	var in seccomp.Info
	if err := src.Info(&in); err == nil {
		t.Fatal("no error before the views exist")
	}
	if err := state.WriteMeta(dir, &state.Meta{ID: "c", StartNs: 40e9}); err != nil {
		t.Fatal(err)
	}
	must(t, os.WriteFile(filepath.Join(views, "meminfo"), []byte(testMeminfo), 0o644))
	must(t, os.WriteFile(filepath.Join(views, "loadavg"), []byte("0.25 0.00 0.00 1/3 9\n"), 0o644))
	src.retryAt = src.retryAt.Add(-retryOpen) // don't wait for the retry spacing
	if err := src.Info(&in); err != nil {
		t.Fatal(err)
	}
	if in.TotalRAM != 256<<20 || in.Uptime != 60 || in.Procs != 3 || in.Loads[0] != 16384 {
		t.Errorf("got %+v", in)
	}
	// Rewritten in place, as the daemon does: the open file shows it.
	f, err := os.OpenFile(filepath.Join(views, "loadavg"), os.O_WRONLY, 0)
	must(t, err)
	_, err = f.WriteAt([]byte("1.00 0.00 0.00 1/5 9\n"), 0)
	must(t, err)
	f.Close()
	must(t, src.Info(&in))
	if in.Procs != 5 || in.Loads[0] != 65536 {
		t.Errorf("after rewrite %+v", in)
	}
	src.Close()
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
