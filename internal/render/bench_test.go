package render

import (
	"bytes"
	"testing"

	"github.com/procview/procview/internal/layout"
)

// BenchmarkRenderAll renders every view of one container (a refresh tick
// without the writes).
func BenchmarkRenderAll(b *testing.B) {
	in := testCases(b)[0].in
	vs := Views()
	var buf bytes.Buffer
	b.ReportAllocs()
	for b.Loop() {
		for _, v := range vs {
			buf.Reset()
			if err := v.Render(&buf, in); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkRenderAndLayoutAll renders every view and lays it out at its
// fixed length: the daemon's whole CPU cost per container and tick.
func BenchmarkRenderAndLayoutAll(b *testing.B) {
	in := testCases(b)[0].in
	vs := Views()
	ls := make([]*layout.Layout, len(vs))
	var buf bytes.Buffer
	for i, v := range vs {
		buf.Reset()
		if err := v.Render(&buf, in); err != nil {
			b.Fatal(err)
		}
		ls[i] = layout.New(v.Layout, buf.Bytes())
	}
	b.ReportAllocs()
	for b.Loop() {
		for i, v := range vs {
			buf.Reset()
			if err := v.Render(&buf, in); err != nil {
				b.Fatal(err)
			}
			ls[i].Apply(buf.Bytes())
		}
	}
}
