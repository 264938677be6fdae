package render

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"

	"github.com/procview/procview/internal/hoststats"
)

// TestFixtureLoaderMatchesHoststats checks the tests' minimal fixture loader
// against the real parsers, so golden files rest on the Host values the
// daemon builds.
func TestFixtureLoaderMatchesHoststats(t *testing.T) {
	proc := fstest.MapFS{}
	for _, name := range []string{"meminfo", "cpuinfo", "stat", "diskstats", "vmstat", "pressure/cpu", "pressure/memory", "pressure/io"} {
		b, err := os.ReadFile(filepath.Join("testdata", "host", filepath.FromSlash(name)))
		if err != nil {
			t.Fatal(err)
		}
		proc[name] = &fstest.MapFile{Data: b}
	}
	online, err := os.ReadFile(filepath.Join("testdata", "host", "online"))
	if err != nil {
		t.Fatal(err)
	}
	sys := fstest.MapFS{"devices/system/cpu/online": &fstest.MapFile{Data: online}}
	want, err := hoststats.Read(proc, sys)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, loadHost(t)); diff != "" {
		t.Errorf("fixture loader (-hoststats.Read +loadHost):\n%s", diff)
	}
}

// TestHostPassthroughFormats renders views with only the host snapshot and
// compares them with the host's own files: the formats must be the kernel's
// byte for byte.
func TestHostPassthroughFormats(t *testing.T) {
	h := loadHost(t)
	for _, name := range []string{"meminfo", "vmstat", "swaps", "pressure/cpu", "pressure/memory", "pressure/io"} {
		v, _ := Lookup(name)
		var b bytesBuffer
		if err := v.Render(&b, &Input{Host: h}); err != nil {
			t.Fatal(err)
		}
		want, err := os.ReadFile(filepath.Join("testdata", "host", filepath.FromSlash(name)))
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(string(want), string(b)); diff != "" {
			t.Errorf("%s differs from the host file (-host +got):\n%s", name, diff)
		}
	}
}

// TestDiskstatsLineFormat compares the fixed-width head of a rendered line
// ("%4d %7d %s") with the host's line for the same device.
func TestDiskstatsLineFormat(t *testing.T) {
	in := testCases(t)[0].in
	var b bytesBuffer
	if err := Diskstats(&b, in); err != nil {
		t.Fatal(err)
	}
	host, err := os.ReadFile(filepath.Join("testdata", "host", "diskstats"))
	if err != nil {
		t.Fatal(err)
	}
	var hostLine string
	for _, l := range lines(host) {
		if len(l) > 16 && l[:16] == string(b)[:16] {
			hostLine = l
		}
	}
	if hostLine == "" {
		t.Fatalf("no host line starts like %q", string(b)[:16])
	}
	if n, m := len(strings.Fields(lines(b)[0])), len(strings.Fields(hostLine)); n != m {
		t.Errorf("rendered line has %d fields, host line %d", n, m)
	}
}

type bytesBuffer []byte

func (b *bytesBuffer) Write(p []byte) (int, error) { *b = append(*b, p...); return len(p), nil }
