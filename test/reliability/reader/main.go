// Command reader hammers procview's view files from inside a container and
// counts reads that a monitoring agent would get wrong: empty, truncated
// (no final newline), of a length the file never had, or with a line that
// does not match the view's grammar.
//
// Two access patterns: "open" (open, read to EOF, close: cat, psutil) and
// "seek" (one fd kept open, lseek(0) then read: procps' top and free).
// It is built static (CGO_ENABLED=0) and copied into the container's rootfs.
//
//	reader -mode open -reads 1000000 /proc/meminfo /proc/stat ...
//
// The last line of its output is a JSON summary; up to -samples bad reads are
// printed before it.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"syscall"
	"time"
)

// grammars: every line of a view (after trimming the padding procview adds)
// must match its view's pattern. Lines are matched without the newline.
var grammars = map[string]*regexp.Regexp{
	"meminfo":   regexp.MustCompile(`^[A-Za-z0-9_()]+: +[0-9]+( kB)? *$`),
	"stat":      regexp.MustCompile(`^(cpu[0-9]* +[0-9]+( +[0-9]+){9}|(intr|softirq)( +[0-9]+)+|(ctxt|btime|processes|procs_running|procs_blocked) +[0-9]+) *$`),
	"uptime":    regexp.MustCompile(`^[0-9]+\.[0-9]{2} +[0-9]+\.[0-9]{2} *$`),
	"loadavg":   regexp.MustCompile(`^[0-9]+\.[0-9]{2} +[0-9]+\.[0-9]{2} +[0-9]+\.[0-9]{2} +[0-9]+/[0-9]+ +[0-9]+ *$`),
	"vmstat":    regexp.MustCompile(`^[a-z0-9_]+ +-?[0-9]+ *$`),
	"cpu":       regexp.MustCompile(`^(some|full) +avg10=[0-9]+\.[0-9]{2} +avg60=[0-9]+\.[0-9]{2} +avg300=[0-9]+\.[0-9]{2} +total=[0-9]+ *$`),
	"online":    regexp.MustCompile(`^[0-9]+(-[0-9]+)?(,[0-9]+(-[0-9]+)?)*$`),
	"diskstats": regexp.MustCompile(`^ *[0-9]+ +[0-9]+ +[^ ]+( +[0-9]+){11,17} *$`),
	"swaps":     regexp.MustCompile(`^(Filename\s+Type\s+Size\s+Used\s+Priority|[^ \t]+\s+[a-z]+\s+[0-9]+\s+[0-9]+\s+-?[0-9]+)\s*$`),
	"cpuinfo":   regexp.MustCompile(`^([A-Za-z][A-Za-z0-9 _]*\t*: ?.*)?$`),
}

func grammarFor(path string) *regexp.Regexp {
	base := filepath.Base(path)
	switch base {
	case "memory", "io": // /proc/pressure/*
		base = "cpu"
	case "possible", "present": // /sys/devices/system/cpu/*: CPU lists
		base = "online"
	}
	return grammars[base]
}

// Counts is the summary line.
type Counts struct {
	Mode        string  `json:"mode"`
	Reads       int64   `json:"reads"`
	Empty       int64   `json:"empty"`
	Truncated   int64   `json:"truncated"`
	BadLength   int64   `json:"bad_length"`
	Unparseable int64   `json:"unparseable"`
	Errors      int64   `json:"errors"`
	Bad         int64   `json:"bad"`
	Seconds     float64 `json:"seconds"`
	Distinct    int64   `json:"distinct_contents"` // how often consecutive reads of a file differed
}

type file struct {
	path    string
	grammar *regexp.Regexp
	fd      int
	last    []byte
}

func main() {
	mode := flag.String("mode", "open", "open (open+read+close) or seek (lseek(0)+read on one fd)")
	reads := flag.Int64("reads", 100000, "total reads, spread over the files in turn")
	duration := flag.Duration("duration", 0, "stop after this long even if reads are left (0: no limit)")
	samples := flag.Int("samples", 5, "bad reads to print")
	flag.Parse()
	if flag.NArg() == 0 || (*mode != "open" && *mode != "seek") {
		fmt.Fprintln(os.Stderr, "usage: reader [-mode open|seek] [-reads N] FILE...")
		os.Exit(2)
	}
	var files []*file
	for _, p := range flag.Args() {
		g := grammarFor(p)
		if g == nil {
			fmt.Fprintf(os.Stderr, "reader: no grammar for %s\n", p)
			os.Exit(2)
		}
		f := &file{path: p, grammar: g, fd: -1}
		if *mode == "seek" {
			fd, err := syscall.Open(p, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
			if err != nil {
				fmt.Fprintf(os.Stderr, "reader: open %s: %v\n", p, err)
				os.Exit(1)
			}
			f.fd = fd
		}
		files = append(files, f)
	}

	c := Counts{Mode: *mode}
	buf := make([]byte, 1<<20)
	start := time.Now()
	printed := 0
	for i := int64(0); i < *reads; i++ {
		if *duration > 0 && i%1024 == 0 && time.Since(start) > *duration {
			break
		}
		f := files[i%int64(len(files))]
		n, sizeBefore, sizeAfter, err := readOnce(f, buf)
		c.Reads++
		if err != nil {
			c.Errors++
			c.Bad++
			if printed < *samples {
				printed++
				fmt.Printf("BAD %s: error: %v\n", f.path, err)
			}
			continue
		}
		got := buf[:n]
		why := check(f, got, sizeBefore, sizeAfter, &c)
		if why != "" {
			c.Bad++
			if printed < *samples {
				printed++
				fmt.Printf("BAD %s: %s (%d bytes, size %d/%d): %q\n", f.path, why, n, sizeBefore, sizeAfter, clip(got))
			}
		}
		if !bytes.Equal(got, f.last) {
			c.Distinct++
			f.last = append(f.last[:0], got...)
		}
	}
	c.Seconds = time.Since(start).Seconds()
	out, _ := json.Marshal(c)
	fmt.Println(string(out))
	if c.Bad > 0 {
		os.Exit(1)
	}
}

// readOnce reads the whole file and fstat's its size before and after.
func readOnce(f *file, buf []byte) (n int, before, after int64, err error) {
	fd := f.fd
	if fd < 0 {
		fd, err = syscall.Open(f.path, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
		if err != nil {
			return 0, 0, 0, fmt.Errorf("open: %w", err)
		}
		defer syscall.Close(fd)
	} else if _, err = syscall.Seek(fd, 0, io.SeekStart); err != nil {
		return 0, 0, 0, fmt.Errorf("lseek: %w", err)
	}
	var st syscall.Stat_t
	if err = syscall.Fstat(fd, &st); err != nil {
		return 0, 0, 0, fmt.Errorf("fstat: %w", err)
	}
	before = st.Size
	// Read to EOF like cat and Python; procps reads once into a big buffer,
	// which with a 1 MiB buffer is the same first read.
	for n < len(buf) {
		m, rerr := syscall.Read(fd, buf[n:])
		if rerr == syscall.EINTR {
			continue
		}
		if rerr != nil {
			return n, before, 0, fmt.Errorf("read: %w", rerr)
		}
		if m == 0 {
			break
		}
		n += m
	}
	if err = syscall.Fstat(fd, &st); err != nil {
		return n, before, 0, fmt.Errorf("fstat: %w", err)
	}
	return n, before, st.Size, nil
}

// check classifies one read; "" when it is good.
func check(f *file, b []byte, before, after int64, c *Counts) string {
	switch {
	case len(b) == 0:
		c.Empty++
		return "empty"
	case b[len(b)-1] != '\n':
		c.Truncated++
		return "truncated"
	case int64(len(b)) != before && int64(len(b)) != after:
		c.BadLength++
		return "length differs from the file's"
	}
	body := b[:len(b)-1]
	for len(body) > 0 {
		line, rest, _ := bytes.Cut(body, []byte{'\n'})
		body = rest
		// The padding procview adds before the last newline is blanks only.
		if !f.grammar.Match(line) && len(bytes.TrimRight(line, " ")) > 0 && !f.grammar.Match(bytes.TrimRight(line, " ")) {
			c.Unparseable++
			return fmt.Sprintf("line %q does not match the grammar", line)
		}
	}
	return ""
}

func clip(b []byte) []byte {
	if len(b) > 300 {
		return b[:300]
	}
	return b
}
