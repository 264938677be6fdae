package tasks

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
)

// FuzzParseStat: ParseState and ParseStartTime never panic, fail only with
// ErrParse, and agree on what a well-formed line is.
func FuzzParseStat(f *testing.F) {
	for _, s := range []string{
		"42 (sh) S 1 42 42 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 12345 1000 100 18446744073709551615",
		"7 (a) b) (c) R 1 7 7 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 99 0 0",
		"7 (x) D 1", "", ")", "1 ()", "1 (x) Z 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 -5",
		"1 (x) R 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 99999999999999999999999 0 0",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		st, err1 := ParseState(b)
		start, err2 := ParseStartTime(b)
		for _, err := range []error{err1, err2} {
			if err != nil && !errors.Is(err, ErrParse) {
				t.Fatalf("error %v does not wrap ErrParse", err)
			}
		}
		// Both need "(comm)" followed by fields.
		if (err1 == nil || err2 == nil) && !bytes.Contains(b, []byte(")")) {
			t.Fatalf("parsed state %q / start %d from input without comm", st, start)
		}
	})
}

// FuzzParseStatus: ParseStatus never panics, and a status document built
// from fuzzed numbers gives them back.
func FuzzParseStatus(f *testing.F) {
	f.Add([]byte("Name:\tsh\nNSpid:\t4242\t1\nvoluntary_ctxt_switches:\t10\nnonvoluntary_ctxt_switches:\t3\n"), 7, uint64(1), uint64(2))
	f.Add([]byte("NSpid:\nvoluntary_ctxt_switches: -1\n"), 0, uint64(0), uint64(18446744073709551615))
	f.Add([]byte(":\n::\n\n"), 1<<30, uint64(99999), uint64(0))
	f.Fuzz(func(t *testing.T, b []byte, pid int, vol, nonvol uint64) {
		_ = ParseStatus(b)
		if pid < 0 {
			pid = -pid
		}
		if pid < 0 { // math.MinInt
			pid = 0
		}
		doc := fmt.Sprintf("Name:\tx\nNSpid:\t100\t%d\nvoluntary_ctxt_switches:\t%d\nnonvoluntary_ctxt_switches:\t%d\n", pid, vol, nonvol)
		got := ParseStatus([]byte(doc))
		want := Status{NSPid: pid, Voluntary: vol, Nonvoluntary: nonvol}
		if got != want {
			t.Fatalf("ParseStatus(%q) = %+v, want %+v", doc, got, want)
		}
	})
}

// FuzzParseBoottimeOffset: never panics; a well-formed document gives back
// its offset, and a document with no boottime line gives 0.
func FuzzParseBoottimeOffset(f *testing.F) {
	f.Add([]byte("monotonic 0 0\nboottime -100 5\n"), int64(-12345), int64(999999999))
	f.Add([]byte("7 1 2\n"), int64(0), int64(0))
	f.Add([]byte("boottime x y\n"), int64(9223372036), int64(-1))
	f.Fuzz(func(t *testing.T, b []byte, secs, nsecs int64) {
		_ = ParseBoottimeOffset(b)
		doc := fmt.Sprintf("monotonic 1 2\nboottime %d %d\n", secs, nsecs)
		if got, want := ParseBoottimeOffset([]byte(doc)), secs*1e9+nsecs; got != want {
			t.Fatalf("ParseBoottimeOffset(%q) = %d, want %d", doc, got, want)
		}
		if got := ParseBoottimeOffset([]byte(fmt.Sprintf("monotonic %d %d\n", secs, nsecs))); got != 0 {
			t.Fatalf("no boottime line gave %d", got)
		}
	})
}
