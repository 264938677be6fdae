package layout

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// fieldEnds returns, per line, the byte offsets where each token ends: the
// "columns" a reader sees. A token at column 0 is left-aligned, so its end
// is not an anchor and is left out.
func fieldEnds(b []byte) [][]int {
	var out [][]int
	for _, line := range strings.Split(string(b), "\n") {
		var ends []int
		for i := 0; i < len(line); i++ {
			if line[i] != ' ' && line[i] != '\t' && (i+1 == len(line) || line[i+1] == ' ' || line[i+1] == '\t') {
				if !strings.ContainsAny(line[:i+1], " \t") {
					continue
				}
				ends = append(ends, i+1)
			}
		}
		out = append(out, ends)
	}
	return out
}

func TestLineStartIsNeverPadded(t *testing.T) {
	l := New(Spec{Mode: Aligned, MinNumWidth: 10, Slack: 8}, []byte("1.25 2.50\n"))
	for _, c := range []string{"1.25 2.50\n", "1000.25 2000.50\n", "3.00 4.00\n"} {
		out, grew := l.Apply([]byte(c))
		if grew || out[0] == ' ' {
			t.Fatalf("%q -> %q (grew=%v)", c, out, grew)
		}
		if i := strings.IndexByte(string(out), ' '); string(out[:i]) != strings.Fields(c)[0] {
			t.Errorf("first field %q, want %q", out[:i], strings.Fields(c)[0])
		}
	}
}

// fields returns the whitespace-separated fields of every line.
func fields(b []byte) [][]string {
	var out [][]string
	for _, line := range strings.Split(string(b), "\n") {
		out = append(out, strings.Fields(line))
	}
	return out
}

func meminfoLike(total, free, shmem uint64) []byte {
	return fmt.Appendf(nil, "MemTotal:       %8d kB\nMemFree:        %8d kB\nShmem:          %8d kB\n", total, free, shmem)
}

func TestAlignedKeepsLengthAndColumns(t *testing.T) {
	tests := []struct {
		name    string
		spec    Spec
		renders [][]byte
	}{
		{
			name: "counters cross digit boundaries",
			spec: Spec{Mode: Aligned, Slack: 16},
			renders: [][]byte{
				[]byte("cpu  9 0 9 9\ncpu0 9 0 9 9\nctxt 9\n"),
				[]byte("cpu  10 0 10 10\ncpu0 10 0 10 10\nctxt 10\n"),
				[]byte("cpu  100 0 100 100\ncpu0 100 0 100 100\nctxt 100\n"),
				[]byte("cpu  100 0 100 100\ncpu0 100 0 100 100\nctxt 100\n"),
			},
		},
		{
			name: "meminfo shmem 4 to 6 digits and back",
			spec: Spec{Mode: Aligned, Slack: 16},
			renders: [][]byte{
				meminfoLike(262144, 100000, 1024),
				meminfoLike(262144, 99000, 204800),
				meminfoLike(262144, 150000, 1024),
				meminfoLike(262144, 0, 4),
			},
		},
		{
			name: "psi key=value tokens",
			spec: Spec{Mode: Aligned, Slack: 16},
			renders: [][]byte{
				[]byte("some avg10=0.00 avg60=0.00 avg300=0.00 total=0\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n"),
				[]byte("some avg10=12.50 avg60=3.10 avg300=0.90 total=1234567\nfull avg10=1.00 avg60=0.10 avg300=0.00 total=12345\n"),
				[]byte("some avg10=0.00 avg60=0.00 avg300=0.00 total=1234568\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=12345\n"),
			},
		},
		{
			name: "min width keeps growth out of the slack",
			spec: Spec{Mode: Aligned, MinNumWidth: 8, Slack: 0},
			renders: [][]byte{
				[]byte("0.00 0.00 0.00 1/2 3\n"),
				[]byte("10.25 9.10 1.00 12/345 123456\n"),
				[]byte("0.00 0.00 0.00 1/2 3\n"),
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := New(tt.spec, tt.renders[0])
			var first []byte
			for i, r := range tt.renders {
				out, grew := l.Apply(r)
				if grew {
					t.Fatalf("render %d: grew from %d to %d", i, len(first), len(out))
				}
				if len(out) != l.Size() {
					t.Fatalf("render %d: len %d, Size %d", i, len(out), l.Size())
				}
				if diff := cmp.Diff(fields(r), fields(out)); diff != "" {
					t.Fatalf("render %d changed fields (-content +out):\n%s", i, diff)
				}
				if i == 0 {
					first = bytes.Clone(out)
					continue
				}
				if len(out) != len(first) {
					t.Errorf("render %d: len %d, first was %d", i, len(out), len(first))
				}
				// Columns: every line but the padded last one ends its
				// tokens at the same offsets as the first render did,
				// once the widths have grown.
				if i > 1 {
					prev, _ := l.Apply(tt.renders[i-1])
					got, want := fieldEnds(out), fieldEnds(prev)
					for j := range min(len(got), len(want)) {
						if len(got[j]) == len(want[j]) && !cmp.Equal(got[j], want[j]) {
							t.Errorf("render %d line %d: token ends %v, previous %v", i, j, got[j], want[j])
						}
					}
				}
			}
		})
	}
}

func TestColumnsStableOnceWide(t *testing.T) {
	l := New(Spec{Mode: Aligned, Slack: 32}, []byte("cpu  1 2\ncpu0 1 2\nbtime 5\n"))
	wide, _ := l.Apply([]byte("cpu  100 200\ncpu0 100 200\nbtime 5\n"))
	narrow, grew := l.Apply([]byte("cpu  1 2\ncpu0 1 2\nbtime 5\n"))
	if grew {
		t.Fatal("grew")
	}
	if len(wide) != len(narrow) {
		t.Fatalf("len %d then %d", len(wide), len(narrow))
	}
	w, n := fieldEnds(wide), fieldEnds(narrow)
	for i := range 2 { // the cpu lines; the last line holds the padding
		if !cmp.Equal(w[i], n[i]) {
			t.Errorf("line %d: token ends %v after widening, %v after narrowing", i, w[i], n[i])
		}
	}
}

func TestGrowBeyondSlack(t *testing.T) {
	l := New(Spec{Mode: Aligned, Slack: 4}, []byte("a 1\nb 2\n"))
	size := l.Size()
	out, grew := l.Apply([]byte("a 123456789\nb 2\n"))
	if !grew {
		t.Fatalf("no growth reported; len %d, old size %d", len(out), size)
	}
	if len(out) != l.Size() || l.Size() <= size {
		t.Fatalf("len %d, Size %d, old size %d", len(out), l.Size(), size)
	}
	// The new size carries slack again: a small change fits.
	if _, grew := l.Apply([]byte("a 123456789\nb 20\n")); grew {
		t.Error("grew again within the new slack")
	}
	// New lines fit into slack without growth.
	l = New(Spec{Mode: Aligned, Slack: 64}, []byte(" 254       0 vda 1 2 3\n"))
	if out, grew := l.Apply([]byte(" 254       0 vda 1 2 3\n 254      16 vdb 4 5 6\n")); grew {
		t.Errorf("a second device grew the file to %d (size %d)", len(out), l.Size())
	}
}

func TestEmptyStaysEmpty(t *testing.T) {
	l := New(Spec{Mode: Aligned, Slack: 64}, nil)
	if l.Size() != 0 {
		t.Fatalf("Size %d for empty first render", l.Size())
	}
	out, grew := l.Apply(nil)
	if len(out) != 0 || grew {
		t.Fatalf("empty content: %q grew=%v", out, grew)
	}
	out, grew = l.Apply([]byte("   8       0 sda 1 2 3\n"))
	if !grew || len(out) != l.Size() || l.Size() < len("   8       0 sda 1 2 3\n")+64 {
		t.Fatalf("growth from empty: len %d Size %d grew=%v", len(out), l.Size(), grew)
	}
	out, grew = l.Apply(nil)
	if len(out) != 0 || !grew || l.Size() != 0 {
		t.Fatalf("back to empty: %q grew=%v Size %d", out, grew, l.Size())
	}
}

func TestExact(t *testing.T) {
	l := New(Spec{Mode: Exact}, []byte("0-1\n"))
	if out, grew := l.Apply([]byte("0-1\n")); grew || string(out) != "0-1\n" {
		t.Fatalf("same content: %q grew=%v", out, grew)
	}
	if out, grew := l.Apply([]byte("0\n")); !grew || string(out) != "0\n" || l.Size() != 2 {
		t.Fatalf("fewer CPUs: %q grew=%v size %d", out, grew, l.Size())
	}
	if a := Adopt(Spec{Mode: Exact}, []byte("0-3\n")); a.Size() != 4 {
		t.Fatalf("Adopt size %d", a.Size())
	}
}

func TestPaddingPlacement(t *testing.T) {
	tests := []struct {
		name, in, want string
		size           int
	}{
		{"before last newline", "a 1\nb 2\n", "a 1\nb 2   \n", 11},
		{"no final newline", "a 1\nb 2", "a 1\nb 2   ", 10},
		{"trailing blank line kept last", "p : 0\n\n", "p : 0  \n\n", 9},
		{"already full", "a 1\n", "a 1\n", 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := string(padTail([]byte(tt.in), tt.size)); got != tt.want {
				t.Errorf("padTail(%q, %d) = %q, want %q", tt.in, tt.size, got, tt.want)
			}
		})
	}
}

func TestSelectNone(t *testing.T) {
	first := []byte("processor\t: 0\ncpu MHz\t\t: 800.000\nmodel name\t: AMD EPYC 7763 64-Core Processor\n\n")
	l := New(Spec{Mode: Aligned, Select: SelectNone, Slack: 16}, first)
	out, _ := l.Apply([]byte("processor\t: 0\ncpu MHz\t\t: 3400.123\nmodel name\t: AMD EPYC 7763 64-Core Processor\n\n"))
	if !bytes.Contains(out, []byte("cpu MHz\t\t: 3400.123\n")) || !bytes.Contains(out, []byte(": AMD EPYC 7763 64-Core Processor")) {
		t.Errorf("tokens were padded:\n%q", out)
	}
	if len(out) != l.Size() {
		t.Errorf("len %d, Size %d", len(out), l.Size())
	}
}

func TestAdoptReproducesWidths(t *testing.T) {
	spec := Spec{Mode: Aligned, MinNumWidth: 4, Slack: 32}
	seq := [][]byte{
		[]byte("cpu  1 0 2 3\ncpu0 1 0 2 3\nintr 0\nctxt 9\n"),
		[]byte("cpu  12345 0 2 30\ncpu0 12345 0 2 30\nintr 0\nctxt 99\n"),
	}
	l := New(spec, seq[0])
	var last []byte
	for _, s := range seq {
		last, _ = l.Apply(s)
	}
	a := Adopt(spec, last)
	if a.Size() != l.Size() {
		t.Fatalf("adopted size %d, want %d", a.Size(), l.Size())
	}
	if diff := cmp.Diff(widths(l), widths(a)); diff != "" {
		t.Errorf("adopted widths (-want +got):\n%s", diff)
	}
	for _, s := range seq {
		want, _ := l.Apply(s)
		got, grew := a.Apply(s)
		if grew || !bytes.Equal(got, want) {
			t.Errorf("adopted layout gives %q (grew=%v), want %q", got, grew, want)
		}
	}
}

// widths lists the slot widths of every line key, by occurrence.
func widths(l *Layout) map[uint32][][]uint16 {
	m := map[uint32][][]uint16{}
	for _, ls := range l.slots {
		m[ls.key] = append(m[ls.key], l.widths[ls.off:ls.off+uint32(ls.n)])
	}
	return m
}

func TestPropertyConstantLength(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	render := func() []byte {
		var b bytes.Buffer
		fmt.Fprintf(&b, "cpu  %d %d %d\n", r.Uint64N(1e6), r.Uint64N(1e3), r.Uint64N(1e7))
		for i := range 2 {
			fmt.Fprintf(&b, "cpu%d %d %d %d\n", i, r.Uint64N(1e6), r.Uint64N(1e3), r.Uint64N(1e7))
		}
		fmt.Fprintf(&b, "some avg10=%.2f total=%d\n", r.Float64()*100, r.Uint64N(1e9))
		return b.Bytes()
	}
	l := New(Spec{Mode: Aligned, MinNumWidth: 8, Slack: 64}, render())
	size := l.Size()
	for i := range 2000 {
		c := render()
		out, grew := l.Apply(c)
		if grew {
			t.Fatalf("iteration %d grew to %d from %d", i, len(out), size)
		}
		if len(out) != size {
			t.Fatalf("iteration %d: len %d, want %d", i, len(out), size)
		}
		if diff := cmp.Diff(fields(c), fields(out)); diff != "" {
			t.Fatalf("iteration %d changed fields:\n%s", i, diff)
		}
	}
}

func BenchmarkApply(b *testing.B) {
	var c bytes.Buffer
	for i := range 200 {
		fmt.Fprintf(&c, "nr_key_%d %d\n", i, i*12345)
	}
	l := New(Spec{Mode: Aligned, MinNumWidth: 4, Slack: 512}, c.Bytes())
	b.ReportAllocs()
	for b.Loop() {
		l.Apply(c.Bytes())
	}
}

// TestAdoptLeadingNumber: a line that starts with a number (uptime,
// loadavg) is adopted with its padding attributed to the next field; the
// bytes for the same content are unchanged.
func TestAdoptLeadingNumber(t *testing.T) {
	spec := Spec{Mode: Aligned, MinNumWidth: 5, Slack: 16}
	c := []byte("0.50 0.26 0.00 1/7 42\n")
	l := New(spec, c)
	want, _ := l.Apply(c)
	got, grew := Adopt(spec, want).Apply(c)
	if grew || !bytes.Equal(got, want) {
		t.Errorf("adopted: %q (grew=%v), want %q", got, grew, want)
	}
}

// TestEpochWrap: past 65535 calls the per-call slot marks wrap; lines with
// a repeated key keep their own slots and the output stays the same.
func TestEpochWrap(t *testing.T) {
	c := []byte("a 1\na 22\nb 333\na 4\n")
	l := New(Spec{Mode: Aligned, MinNumWidth: 2, Slack: 8}, c)
	want, _ := l.Apply(c)
	want = bytes.Clone(want)
	for i := range 70000 {
		got, grew := l.Apply(c)
		if grew || !bytes.Equal(got, want) {
			t.Fatalf("call %d: %q (grew=%v), want %q", i, got, grew, want)
		}
	}
	if len(l.slots) != 4 {
		t.Errorf("%d slots after the wrap, want 4 (one per line)", len(l.slots))
	}
}
