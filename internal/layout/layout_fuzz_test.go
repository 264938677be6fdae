package layout

import (
	"bytes"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// FuzzLayout checks the invariants the daemon relies on, for any pair of
// renders: Apply's output has Size bytes; it changes length only when it
// says so; it keeps every field and line of the content; and a layout
// adopted from the file on disk (a restarted daemon) writes the same bytes
// for the same content.
func FuzzLayout(f *testing.F) {
	f.Add([]byte("MemTotal:  262144 kB\nShmem:  4 kB\n"), []byte("MemTotal:  262144 kB\nShmem:  123456 kB\n"), uint8(0), uint8(4), uint16(32))
	f.Add([]byte("0.50 0.26 0.00 1/7 42\n"), []byte("10.50 0.26 0.00 12/700 4242\n"), uint8(0), uint8(5), uint16(16))
	f.Add([]byte("cpu  1 0 2 3\ncpu0 1 0 2 3\nintr 0\nctxt 9\n"), []byte("cpu  12345 0 2 30\ncpu0 12345 0 2 30\nintr 0\nctxt 99\n"), uint8(0), uint8(4), uint16(0))
	f.Add([]byte("some avg10=0.00 avg60=0.00 avg300=0.00 total=0\n"), []byte("some avg10=99.99 avg60=1.00 avg300=0.00 total=123456789\n"), uint8(0), uint8(8), uint16(64))
	f.Add([]byte("0-1\n"), []byte("0\n"), uint8(1), uint8(0), uint16(0))
	f.Add([]byte("processor\t: 0\nmodel name\t: AMD EPYC 64-Core\n\n"), []byte(""), uint8(2), uint8(0), uint16(8))
	f.Add([]byte(""), []byte("   8       0 sda 1 2 3\n"), uint8(0), uint8(6), uint16(100))
	f.Fuzz(func(t *testing.T, first, second []byte, mode, minWidth uint8, slack uint16) {
		s := Spec{MinNumWidth: int(minWidth % 24), Slack: int(slack % 4096)}
		switch mode % 3 {
		case 1:
			s.Mode = Exact
		case 2:
			s.Select = SelectNone
		}
		l := New(s, first)
		var last []byte
		for _, c := range [][]byte{first, second, first} {
			before := l.Size()
			out, grew := l.Apply(c)
			if len(out) != l.Size() {
				t.Fatalf("len(out) %d != Size %d", len(out), l.Size())
			}
			if !grew && len(out) != before {
				t.Fatalf("length changed %d -> %d without grew", before, len(out))
			}
			if diff := cmp.Diff(fields(c), fields(out)); s.Mode == Aligned && diff != "" {
				t.Fatalf("fields changed (-content +out):\n%s", diff)
			}
			if s.Mode == Exact && !bytes.Equal(out, c) {
				t.Fatalf("exact mode changed %q to %q", c, out)
			}
			last = out
		}
		a := Adopt(s, last)
		if a.Size() != len(last) {
			t.Fatalf("adopted size %d, file %d", a.Size(), len(last))
		}
		// The same bytes: a line that starts with a number followed by a
		// non-numeric token ("0 A", testdata/fuzz/FuzzLayout/02cb3f66971ad27a)
		// used to be adopted with its padding moved.
		got, grew := a.Apply(first)
		if grew || !bytes.Equal(got, last) {
			t.Fatalf("adopted layout wrote %q (grew=%v), file holds %q", got, grew, last)
		}
	})
}
