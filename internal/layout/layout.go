// Package layout keeps a rendered view file at a constant length across
// refreshes.
//
// The daemon rewrites each view file in place with one pwrite of the whole
// content. A bind mount pins the file's inode, so the file cannot be replaced,
// and a change of length opens a window where a reader sees the new size with
// old bytes or the other way round (docs/views.md, "Fixed length"). A Layout
// turns every render of a view into bytes of the same length:
//
//   - Aligned mode gives every numeric token a slot (line, token) with a width
//     that only grows. The token is right-aligned in its slot by spaces
//     inserted in the whitespace before it, so columns never move (a number
//     at the very start of a line is left-aligned instead, so the line never
//     starts with a space the kernel would not print, and gets a slot only
//     when a numeric token follows it, which takes its padding). The whole
//     file is then padded to Size with spaces inserted before the newline of
//     its last non-blank line. Size carries slack, so widening slots and new
//     lines fit without a change of length.
//   - Exact mode leaves the content as it is, for files whose parsers stop at
//     trailing spaces (/sys/devices/system/cpu/online: glibc's get_nprocs
//     returns 0 on "0-1 \n" and falls back to counting /proc/stat lines).
//     A change of length is reported.
//
// Empty content stays empty in both modes: a file with only blank space is
// not a valid /proc/diskstats for psutil, which raises on a line without
// fields. Growing from or shrinking to empty is reported as a change of size.
package layout

import (
	"bytes"
	"slices"
	"sync"
)

// Mode says how a view keeps its length.
type Mode int

const (
	// Aligned pads numeric tokens to slot widths and the file to Size.
	Aligned Mode = iota
	// Exact writes the content unpadded; any change of length is reported.
	Exact
)

// Select says which tokens of an Aligned view get slots.
type Select int

const (
	// SelectNumeric aligns every numeric token: one that starts with a digit
	// or '-' and a digit ("4096", "1/93", "-2"), or "key=value" with such a
	// value ("avg10=0.55", "total=12").
	SelectNumeric Select = iota
	// SelectNone aligns no token; only the whole-file padding applies. For
	// cpuinfo, whose "key\t: value" values are parsed by splitting at ": "
	// (prometheus/procfs would reject " 2200.000") and whose model names hold
	// digit-led words such as "64-Core".
	SelectNone
)

// Spec is how one view keeps a constant length.
type Spec struct {
	Mode Mode
	// MinNumWidth is the smallest width of a numeric token's slot, not
	// counting its separator. It sizes counters up front, so they cross digit
	// boundaries without widening the file.
	MinNumWidth int
	// Slack is the least number of spare bytes in Size; 10% of the content is
	// used when that is more.
	Slack int
	// Select chooses the tokens that get slots (Aligned only).
	Select Select
}

// Layout holds the slot widths and the size of one view file. It is not safe
// for concurrent use. It is kept small (a daemon holds one per view of
// every container): a line's slots are found by the line's index as long as
// lines keep their places, and by a scan otherwise.
type Layout struct {
	spec   Spec
	size   int
	slots  []lineSlots // one per line key and occurrence, in creation order
	widths []uint16    // the field widths of every slot; lineSlots index it
	byLine []int32     // the slots used for each line index by the last call
	epoch  uint16
}

// lineSlots are the slot widths of one line: the occurrence of a line key
// (the line's first non-numeric token) that the line was first seen as.
type lineSlots struct {
	key   uint32 // FNV-1a of the line key (a collision only shares widths)
	off   uint32 // widths[off : off+n], one per token (0: not a slot)
	n     uint16
	epoch uint16 // the align call that last used it (wraps; see align)
}

// token is one whitespace-separated token and the whitespace before it, as
// offsets into its line: line[sep:start] and line[start:end]. Offsets, not
// slices: a token buffer without pointers costs no GC write barriers.
type token struct {
	sep, start, end int32
	slot            bool
}

// tokPool holds token buffers shared by every Layout.
var tokPool = sync.Pool{New: func() any { b := make([]token, 0, 32); return &b }}

// New sizes a Layout from the first render of a view. Pass first to Apply
// to get the bytes to write.
func New(s Spec, first []byte) *Layout {
	l := &Layout{spec: s}
	if s.Mode == Exact {
		l.size = len(first)
		return l
	}
	if len(first) == 0 {
		return l
	}
	out := l.align(nil, first, true)
	l.size = len(out) + l.slack(len(out))
	l.compact()
	return l
}

// Adopt re-derives a Layout from a file written by an earlier Layout with the
// same Spec, so a restarted daemon keeps the file's length and columns. Every
// slot's width is the width of its field on disk (separator and padding and
// token); Size is the file's length.
func Adopt(s Spec, existing []byte) *Layout {
	l := &Layout{spec: s, size: len(existing)}
	if s.Mode == Exact || len(existing) == 0 {
		return l
	}
	l.align(nil, existing, false)
	l.compact()
	return l
}

// compact drops the spare capacity that growing the slices left: a Layout
// lives as long as its container, and later calls rarely add slots.
func (l *Layout) compact() {
	l.slots = slices.Clone(l.slots)
	l.widths = slices.Clone(l.widths)
	l.byLine = slices.Clone(l.byLine)
}

// Size is the length of the bytes Apply returns.
func (l *Layout) Size() int { return l.size }

// Apply lays content out at the fixed length. grew is true when len(out)
// differs from the Size before the call: in Aligned mode when the content no
// longer fits in the slack (Size then grows again with new slack), when the
// content becomes empty (Size 0) or stops being empty; in Exact mode on any
// change of length. The caller must then change the file's length itself.
// In Exact mode, and for empty content, out is content itself.
func (l *Layout) Apply(content []byte) (out []byte, grew bool) {
	old := l.size
	if l.spec.Mode == Exact {
		l.size = len(content)
		return content, len(content) != old
	}
	if len(content) == 0 {
		l.size = 0
		return content, old != 0
	}
	out = l.align(make([]byte, 0, max(old, len(content)+len(content)/4)), content, true)
	if len(out) > l.size {
		l.size = len(out) + l.slack(len(out))
	}
	return padTail(out, l.size), l.size != old
}

func (l *Layout) slack(n int) int {
	return max(l.spec.Slack, n/10)
}

// align appends content with every slot right-aligned to dst. With widen,
// slots grow to fit and new slots get MinNumWidth; without it (Adopt), every
// slot takes exactly the width it has in content.
func (l *Layout) align(dst, content []byte, widen bool) []byte {
	l.epoch++
	if l.epoch == 0 {
		// Wrapped: forget which slots earlier calls used.
		for i := range l.slots {
			l.slots[i].epoch = 0
		}
		l.epoch = 1
	}
	tp := tokPool.Get().(*[]token)
	defer tokPool.Put(tp)
	for n := 0; len(content) > 0; n++ {
		line, rest, nl := bytes.Cut(content, []byte{'\n'})
		content = rest
		dst = l.alignLine(dst, tp, n, line, widen)
		if nl {
			dst = append(dst, '\n')
		}
	}
	return dst
}

// slotsFor returns the index of the slots for line n with key hash key and
// ntok tokens, marking them used in this call. The slots line n used last
// time are kept when the key matches; otherwise the first slots of that key
// not used yet in this call (the next occurrence of the key), or new ones.
func (l *Layout) slotsFor(n int, key uint32, ntok int) int {
	i := -1
	if n < len(l.byLine) {
		if c := l.byLine[n]; l.slots[c].key == key && l.slots[c].epoch != l.epoch {
			i = int(c)
		}
	}
	if i < 0 {
		for j := range l.slots {
			if l.slots[j].key == key && l.slots[j].epoch != l.epoch {
				i = j
				break
			}
		}
	}
	if i < 0 {
		l.slots = append(l.slots, lineSlots{key: key, off: uint32(len(l.widths))})
		i = len(l.slots) - 1
	}
	for len(l.byLine) <= n {
		l.byLine = append(l.byLine, 0)
	}
	l.byLine[n] = int32(i)
	ls := &l.slots[i]
	ls.epoch = l.epoch
	if int(ls.n) < ntok {
		// More tokens than before: extend in place at the arena's end, or
		// move the widths there (rare: a line gained fields).
		if int(ls.off)+int(ls.n) != len(l.widths) {
			l.widths = append(l.widths, l.widths[ls.off:ls.off+uint32(ls.n)]...)
			ls.off = uint32(len(l.widths)) - uint32(ls.n)
		}
		for range ntok - int(ls.n) {
			l.widths = append(l.widths, 0)
		}
		ls.n = uint16(ntok)
	}
	return i
}

func (l *Layout) alignLine(dst []byte, tp *[]token, n int, line []byte, widen bool) []byte {
	toks, trail := l.tokenize(tp, line)
	if len(toks) > maxTokens {
		// Not a /proc file: keep it as it is.
		return append(dst, line...)
	}
	if len(toks) > 0 && toks[0].slot && toks[0].sep == toks[0].start && (len(toks) == 1 || !toks[1].slot) {
		// A number at column 0 is left-aligned, its padding written before
		// the next token. Only a slot can take that padding back on Adopt
		// (as part of its width); before text ("0 A") or the line's end it
		// would be read as a wider separator or trailing blanks, and a
		// restarted daemon would move it. Such a number gets no slot: the
		// file's tail padding absorbs its changes of width.
		toks[0].slot = false
	}
	key := uint32(2166136261) // FNV-1a offset basis
	for _, t := range toks {
		if !t.slot {
			for _, c := range line[t.start:t.end] {
				key = (key ^ uint32(c)) * 16777619
			}
			break
		}
	}
	ls := l.slots[l.slotsFor(n, key, len(toks))]
	ws := l.widths[ls.off : ls.off+uint32(ls.n)]

	carry := 0 // padding of a column-0 number, written after the next separator
	for i, t := range toks {
		sep, tok := line[t.sep:t.start], line[t.start:t.end]
		dst = append(dst, sep...)
		if !t.slot {
			dst = append(dst, tok...)
			continue
		}
		need := len(sep) + len(tok)
		w := int(ws[i])
		switch {
		case !widen:
			w = need
		case w == 0:
			minSep := 1
			if i == 0 {
				minSep = 0
			}
			w = max(need, minSep+l.spec.MinNumWidth)
		case need > w:
			w = need
		}
		ws[i] = uint16(min(w, 0xffff))
		if i == 0 && len(sep) == 0 {
			// A number that starts the line is left-aligned: "cut -d' '
			// -f1 /proc/uptime" and other column-0 readers must not see a
			// leading space. The padding goes with the next token's (a
			// slot, see above), after its separator, where Adopt reads it
			// back as part of that slot even when the separator is a tab.
			dst = append(dst, tok...)
			carry = w - need
			continue
		}
		dst = appendSpaces(dst, w-need+carry)
		carry = 0
		dst = append(dst, tok...)
	}
	return append(dst, trail...)
}

// maxTokens bounds the tokens of a line that gets slots (lineSlots.n).
const maxTokens = 0xffff

const spaces = "                                                                "

// appendSpaces appends n spaces to dst.
func appendSpaces(dst []byte, n int) []byte {
	for n > len(spaces) {
		dst = append(dst, spaces...)
		n -= len(spaces)
	}
	if n > 0 {
		dst = append(dst, spaces[:n]...)
	}
	return dst
}

// tokenize splits a line into tokens and the trailing whitespace. The
// token buffer *tp is reused between calls.
func (l *Layout) tokenize(tp *[]token, line []byte) ([]token, []byte) {
	toks := (*tp)[:0]
	numeric := l.spec.Select == SelectNumeric
	i := 0
	for i < len(line) {
		start := i
		for i < len(line) && isSpace(line[i]) {
			i++
		}
		if i == len(line) {
			*tp = toks
			return toks, line[start:]
		}
		ts := i
		for i < len(line) && !isSpace(line[i]) {
			i++
		}
		toks = append(toks, token{sep: int32(start), start: int32(ts), end: int32(i),
			slot: numeric && isNumeric(line[ts:i])})
	}
	*tp = toks
	return toks, nil
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' }

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// isNumeric reports whether tok starts a number: "12", "-2", "0.55", "1/93",
// or "key=value" with such a value.
func isNumeric(tok []byte) bool {
	for i, c := range tok {
		if c == '=' {
			tok = tok[i+1:]
			break
		}
	}
	if len(tok) > 1 && tok[0] == '-' {
		tok = tok[1:]
	}
	return len(tok) > 0 && isDigit(tok[0])
}

// padTail pads b to size with spaces inserted before the newline that ends
// the last non-blank line (at the end when that line has no newline), so no
// blank line is ever added.
func padTail(b []byte, size int) []byte {
	n := size - len(b)
	if n <= 0 {
		return b
	}
	last := len(b) - 1
	for last >= 0 && (isSpace(b[last]) || b[last] == '\n') {
		last--
	}
	at := len(b)
	for i := last + 1; i < len(b); i++ {
		if b[i] == '\n' {
			at = i
			break
		}
	}
	b = append(b, make([]byte, n)...)
	copy(b[at+n:], b[at:len(b)-n])
	for i := at; i < at+n; i++ {
		b[i] = ' '
	}
	return b
}
