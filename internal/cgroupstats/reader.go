package cgroupstats

import (
	"errors"
	"fmt"
	"hash/maphash"
	"io/fs"
	"path"
	"reflect"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"

	"golang.org/x/sys/unix"
)

// DefaultFullEvery is how often (in reads) a Reader re-reads the files that
// rarely change: with a 1 s refresh, an operator's limit or cpuset update
// shows within 5 s.
const DefaultFullEvery = 5

// Reader samples one cgroup again and again at a fraction of Read's cost:
//
//   - counter files stay open and are re-read with one pread at offset 0
//     (cgroupfs regenerates the content on every read from offset 0);
//   - limits, cpu quota, cpuset, every ancestor's files, the controller
//     directories and files found absent are re-read only on full rounds,
//     every FullEvery reads, and otherwise served from the last content;
//   - buffers are reused between reads.
//
// A kept descriptor of a removed cgroup fails with ENODEV (ESTALE on some
// filesystems); the Reader then drops every descriptor and does a full read,
// which finds a recreated cgroup or reports fs.ErrNotExist like Read.
//
// v1 cgroup.procs and tasks are never kept open: the kernel caches their pid
// list per open file for as long as it is re-read within a second.
//
// A Reader is not safe for concurrent use; Close releases its descriptors.
type Reader struct {
	fsys   fs.FS
	mode   Mode
	loc    Location
	budget *FDBudget

	// FullEvery is the period of full rounds in reads; <= 1 makes every read
	// full (still reusing open counter files).
	FullEvery int
	// Ancestors, when set, shares the files of ancestor cgroups between
	// the Readers of one round (see AncestorCache).
	Ancestors *AncestorCache
	// StalePidLists lets a read serve cgroup.procs and tasks (cgroup.threads
	// on v2) from the last read that fetched them, and fetch them only on
	// full rounds. Set it for reads whose caller does not need the current
	// lists: procview scans task states every 5 s, and v1 pid lists cost an
	// open each (they cannot be kept open).
	StalePidLists bool

	n      int  // reads since the last full round
	full   bool // the current read is a full round
	forced bool // the next read must be full (after an error)
	files  map[string]*cached
	// scratch receives every file read during one Read; callers parse a
	// file before reading the next, and only rarely read files keep a
	// copy, so a thousand Readers do not each hold a page per file.
	scratch []byte
	dirs    map[string]dirID  // dirExists results, refreshed on full rounds
	ctl     map[string]string // controllerDirs, refreshed on full rounds
	ctlErr  error
	// probes are the usage counter files the last Read found (see
	// reader.probing), probeSum the hash of their contents then or at the
	// last Probe; curProbes collects them during a Read.
	probes, curProbes []string
	probeHash         maphash.Hash
	probeSum          uint64
	// rootFD is the tree's root directory (shared by every Reader of the
	// tree, -1 when fsys gives no descriptors), to openat files
	// relative to it: one syscall, where os.DirFS's Open costs seven
	// (cgroupfs files are pollable, so os.File registers them with epoll).
	rootFD int
}

type cached struct {
	valid bool   // ok (and data for slow files) hold a previous read
	ok    bool   // the file existed
	data  []byte // last content of a slow file
	fd    int    // kept descriptor, else -1
}

var scratchPool = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

// stagger spreads the full rounds of readers created together over the
// FullEvery rounds, so they do not all fall into the same round.
var stagger atomic.Uint32

// NewReader returns a Reader of the cgroup at loc in the tree fsys is rooted
// at. Only descriptors of files opened through an os.DirFS-like fs.FS (one
// returning *os.File) are kept open; others are re-read each time. budget
// may be nil (no limit).
func NewReader(fsys fs.FS, mode Mode, loc Location, budget *FDBudget) *Reader {
	return &Reader{
		fsys: fsys, mode: mode, loc: loc, budget: budget,
		FullEvery: DefaultFullEvery,
		n:         int(stagger.Add(1)) % DefaultFullEvery,
		files:     make(map[string]*cached),
		dirs:      make(map[string]dirID),
		rootFD:    rootFD(fsys),
	}
}

// errStale: a kept descriptor belongs to a removed cgroup.
var errStale = errors.New("cgroup file descriptor is stale")

// Read samples the cgroup; see the package function Read for the meaning of
// the result and errors.
func (c *Reader) Read() (*Stats, error) {
	if c.budget.over() {
		// Others need descriptors more than we save syscalls.
		c.closeFiles()
	}
	defer c.takeScratch()()
	c.n++
	c.curProbes = c.curProbes[:0]
	c.probeHash.Reset()
	c.full = c.forced || c.FullEvery <= 1 || c.n >= c.FullEvery
	if c.full {
		c.n = 0
	}
	st, err := reader{fsys: c.fsys, c: c}.read(c.mode, c.loc)
	if errors.Is(err, errStale) {
		// The cgroup was removed (and maybe recreated): start over.
		c.closeFiles()
		c.full = true
		c.curProbes = c.curProbes[:0]
		c.probeHash.Reset()
		st, err = reader{fsys: c.fsys, c: c}.read(c.mode, c.loc)
	}
	c.forced = err != nil
	if err == nil {
		c.probes, c.curProbes = c.curProbes, c.probes
		c.probeSum = c.probeHash.Sum64()
	}
	if errors.Is(err, errStale) {
		return nil, fmt.Errorf("read cgroup: %w", err)
	}
	return st, err
}

// takeScratch lends the Reader a pooled scratch buffer until the returned
// function gives it back.
func (c *Reader) takeScratch() (giveBack func()) {
	sp := scratchPool.Get().(*[]byte)
	c.scratch = *sp
	return func() {
		*sp = c.scratch[:0]
		c.scratch = nil
		scratchPool.Put(sp)
	}
}

// ForceFull makes the next Read a full round: limits, cpuset, ancestors
// and every other slowly changing file are re-read. For callers that Read
// rarely (a container whose counters did not move), the FullEvery cadence
// counts too few reads to keep those fresh.
func (c *Reader) ForceFull() { c.forced = true }

// Probe re-reads only the cgroup's usage counters found by the last Read
// (memory usage, CPU usage and I/O bytes: memory.usage_in_bytes and
// cpuacct.usage on v1; memory.current, cpu.stat, io.stat on v2), one pread
// each on kept descriptors, and reports whether
// any changed since that Read or the last Probe. A container cannot do
// anything (run, allocate, fork, do I/O) without moving one of them, so an
// unmoved probe means a full Read would find the same usage. Before the
// first Read, after an error, or when a counter cannot be read, it reports
// moved, leaving the diagnosis to Read.
func (c *Reader) Probe() (moved bool) {
	if len(c.probes) == 0 || c.forced {
		return true
	}
	if c.budget.over() {
		c.closeFiles()
	}
	defer c.takeScratch()()
	c.full = false
	c.probeHash.Reset()
	for _, name := range c.probes {
		data, ok, err := c.file(name, false, false, true)
		if err != nil || !ok {
			c.forced = true
			return true
		}
		c.probeHash.Write(data)
	}
	sum := c.probeHash.Sum64()
	moved = sum != c.probeSum
	c.probeSum = sum
	return moved
}

// noteProbe records a usage counter read during a Read.
func (c *Reader) noteProbe(name string, data []byte) {
	if !slices.Contains(c.curProbes, name) {
		c.curProbes = append(c.curProbes, name)
		c.probeHash.Write(data)
	}
}

// Close releases every descriptor the Reader holds.
func (c *Reader) Close() error {
	c.closeFiles()
	return nil
}

// roots holds one open root directory per cgroup tree (fs.FS values of a
// comparable type, such as os.DirFS), for the life of the process: one
// descriptor however many Readers, outside the FDBudget.
var roots sync.Map // fs.FS -> *sharedRoot

type sharedRoot struct {
	once sync.Once
	f    fs.File
	fd   int
}

// rootFD returns the shared root descriptor of fsys, or -1 when fsys does
// not give descriptors (files are then read through fsys).
func rootFD(fsys fs.FS) int {
	if t := reflect.TypeOf(fsys); t == nil || !t.Comparable() {
		return -1
	}
	v, _ := roots.LoadOrStore(fsys, &sharedRoot{fd: -1})
	r := v.(*sharedRoot)
	r.once.Do(func() {
		f, err := fsys.Open(".")
		if err != nil {
			return
		}
		fder, ok := f.(interface{ Fd() uintptr })
		if !ok {
			f.Close()
			return
		}
		r.f, r.fd = f, int(fder.Fd())
	})
	return r.fd
}

// OpenFiles is the number of descriptors the Reader keeps open.
func (c *Reader) OpenFiles() int {
	n := 0
	for _, e := range c.files {
		if e.fd >= 0 {
			n++
		}
	}
	return n
}

// closeFiles drops every descriptor and every cached content, so the next
// read starts from scratch.
func (c *Reader) closeFiles() {
	for name, e := range c.files {
		if e.fd >= 0 {
			unix.Close(e.fd)
			c.budget.release()
		}
		delete(c.files, name)
	}
	clear(c.dirs)
	c.ctl, c.ctlErr = nil, nil
}

func (c *Reader) controllerDirs() (map[string]string, error) {
	if c.ctl == nil || c.full {
		c.ctl, c.ctlErr = controllerDirs(c.fsys)
	}
	return c.ctl, c.ctlErr
}

func (c *Reader) dirExists(name string) (bool, error) {
	d, seen := c.dirs[name]
	if seen && !c.full {
		return d.isDir, nil
	}
	fi, err := fs.Stat(c.fsys, name)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		delete(c.dirs, name)
		return false, fmt.Errorf("stat %s: %w", name, err)
	}
	now := dirID{}
	if err == nil {
		now.isDir = fi.IsDir()
		if st, ok := fi.Sys().(*syscall.Stat_t); ok {
			now.dev, now.ino = uint64(st.Dev), st.Ino
		}
	}
	if seen && d != now && len(c.files) > 0 {
		// Removed and recreated since the last full round: kept
		// descriptors may point into the old directory (cgroupfs would
		// have said ENODEV; other filesystems keep serving old content).
		return false, fmt.Errorf("stat %s: %w", name, errStale)
	}
	c.dirs[name] = now
	return now.isDir, nil
}

// dirID identifies a directory, to notice it was recreated.
type dirID struct {
	isDir    bool
	dev, ino uint64
}

// file returns the content of name (its buffer is reused by the next read).
// With keep, a fresh content is also kept for later slow reads of name.
// probe marks a usage counter, which may keep a descriptor from the
// budget's reserve.
func (c *Reader) file(name string, slow, keep, probe bool) ([]byte, bool, error) {
	e := c.files[name]
	if e == nil {
		e = &cached{fd: -1}
		c.files[name] = e
	}
	if e.valid && !c.full && (slow || !e.ok) {
		return e.data, e.ok, nil
	}
	if e.fd >= 0 {
		data, err := readFD(e.fd, c.scratch[:0])
		if err == nil {
			c.scratch = data[:0]
			if keep {
				e.data = append(e.data[:0], data...)
			}
			return data, true, nil
		}
		if errors.Is(err, syscall.ENODEV) || errors.Is(err, syscall.ESTALE) {
			return nil, false, fmt.Errorf("read %s: %w", name, errStale)
		}
		return nil, false, fmt.Errorf("read %s: %w", name, err)
	}
	data, fd, err := c.open(name, c.scratch[:0])
	if err != nil {
		if absent(err) {
			if e.valid && e.ok && !c.full {
				// It was there last time: the cgroup may be gone, which
				// only a full round (checking the directories) can tell.
				return nil, false, fmt.Errorf("read %s: %w", name, errStale)
			}
			e.valid, e.ok = true, false
			return nil, false, nil
		}
		e.valid = false
		return nil, false, fmt.Errorf("read %s: %w", name, err)
	}
	if cap(data) > cap(c.scratch) {
		c.scratch = data[:0]
	}
	e.valid, e.ok = true, true
	if slow || keep {
		e.data = append(e.data[:0], data...)
	}
	if fd >= 0 {
		if !slow && !pidListV1(c.mode, name) && c.budget.take(probe) {
			e.fd = fd
		} else {
			unix.Close(fd)
		}
	}
	return data, true, nil
}

// open opens and reads name, returning its still open descriptor for the
// caller to keep or close, or -1 when it was read through fsys.
func (c *Reader) open(name string, buf []byte) ([]byte, int, error) {
	if c.rootFD < 0 {
		data, err := fs.ReadFile(c.fsys, name)
		return data, -1, err
	}
	var fd int
	var err error
	for {
		fd, err = unix.Openat(c.rootFD, name, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		return nil, -1, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	data, err := readFD(fd, buf)
	if err != nil {
		unix.Close(fd)
		return nil, -1, &fs.PathError{Op: "read", Path: name, Err: err}
	}
	return data, fd, nil
}

// pidListV1 reports v1 cgroup.procs and tasks files, whose content is
// cached per open file (cgroup_pidlist_start) while it is re-read within a
// second: a kept descriptor would show a stale list forever.
func pidListV1(mode Mode, name string) bool {
	if mode == ModeV2 {
		return false
	}
	base := path.Base(name)
	if base != "cgroup.procs" && base != "tasks" {
		return false
	}
	first, _, _ := cutFirst(name)
	return first != "unified"
}

func cutFirst(name string) (string, string, bool) {
	for i := 0; i < len(name); i++ {
		if name[i] == '/' {
			return name[:i], name[i+1:], true
		}
	}
	return name, "", false
}

// completeBelow: a read from offset 0 that returned fewer bytes than this
// (and than asked for) holds the whole file. A seq_file fills the caller's
// buffer with whole records until its own page-sized buffer overflows, and
// cgroup file records are far shorter than the rest of a page, so a short
// read well under a page is the end; above it, read on until EOF.
const completeBelow = 2048

// readFD reads the whole file at fd from offset 0 into buf's storage.
func readFD(fd int, buf []byte) ([]byte, error) {
	if cap(buf) < 512 {
		buf = make([]byte, 0, 512)
	}
	buf = buf[:cap(buf)]
	n := 0
	for {
		m, err := unix.Pread(fd, buf[n:], int64(n))
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return nil, err
		}
		n += m
		if m == 0 || (n < len(buf) && n < completeBelow) {
			return buf[:n], nil
		}
		if n == len(buf) {
			buf = append(buf, make([]byte, len(buf))...)
			buf = buf[:cap(buf)]
		}
	}
}

// FDBudget caps the descriptors all Readers of a process keep open, so
// caching never starves the view files of descriptors. The zero value
// allows none; a nil *FDBudget allows any number.
type FDBudget struct {
	max     atomic.Int64
	used    atomic.Int64
	reserve atomic.Int64 // of max, for probes only
}

// NewFDBudget allows max kept descriptors.
func NewFDBudget(max int) *FDBudget {
	b := &FDBudget{}
	b.max.Store(int64(max))
	return b
}

// SetMax changes the cap; Readers over it release their descriptors on
// their next read.
func (b *FDBudget) SetMax(max int) {
	if b != nil {
		b.max.Store(int64(max))
	}
}

// Used is the number of descriptors kept open.
func (b *FDBudget) Used() int {
	if b == nil {
		return 0
	}
	return int(b.used.Load())
}

// SetReserve keeps n of the descriptors for usage counters (probes): a
// container that does not change is probed every round and read fully
// rarely, so its counters are the files worth keeping open.
func (b *FDBudget) SetReserve(n int) {
	if b != nil {
		b.reserve.Store(int64(n))
	}
}

func (b *FDBudget) take(probe bool) bool {
	if b == nil {
		return true
	}
	limit := b.max.Load()
	if !probe {
		limit -= b.reserve.Load()
	}
	if b.used.Add(1) > limit {
		b.used.Add(-1)
		return false
	}
	return true
}

func (b *FDBudget) release() {
	if b != nil {
		b.used.Add(-1)
	}
}

func (b *FDBudget) over() bool {
	return b != nil && b.used.Load() > b.max.Load()
}

// AncestorCache shares the files of ancestor cgroups (a parent's limits,
// the root's cpuset) between the Readers of one round: a thousand
// containers under one parent read the parent's files once per round, not
// a thousand times. Only content read afresh (on a Reader's full round) is
// shared, and only until NextRound. Not safe for concurrent use.
type AncestorCache struct {
	round uint64
	files map[string]*ancestorEntry
}

type ancestorEntry struct {
	round uint64
	ok    bool
	data  []byte
}

// NewAncestorCache returns an empty cache at round 1.
func NewAncestorCache() *AncestorCache {
	return &AncestorCache{round: 1, files: map[string]*ancestorEntry{}}
}

// NextRound forgets every shared file; entries no Reader refreshed for
// pruneAfter rounds (a removed parent cgroup) are dropped.
func (a *AncestorCache) NextRound() {
	a.round++
	if a.round%pruneAfter == 0 {
		for name, e := range a.files {
			if a.round-e.round > pruneAfter {
				delete(a.files, name)
			}
		}
	}
}

const pruneAfter = 256

// ancestorFile reads name through the cache.
func (c *Reader) ancestorFile(name string, slow bool) ([]byte, bool, error) {
	a := c.Ancestors
	if e := a.files[name]; e != nil && e.round == a.round {
		return e.data, e.ok, nil
	}
	data, ok, err := c.file(name, slow, false, false)
	if err != nil || !c.full {
		return data, ok, err
	}
	e := a.files[name]
	if e == nil {
		e = &ancestorEntry{}
		a.files[name] = e
	}
	e.round, e.ok, e.data = a.round, ok, append(e.data[:0], data...)
	return e.data, ok, nil
}
