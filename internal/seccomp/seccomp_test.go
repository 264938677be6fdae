package seccomp

import (
	"encoding/binary"
	"encoding/json"
	"net"
	"os"
	"runtime"
	"testing"
	"unsafe"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

func TestStructSizes(t *testing.T) {
	if s := unsafe.Sizeof(Notif{}); s != 80 {
		t.Errorf("seccomp_notif: %d bytes", s)
	}
	if s := unsafe.Sizeof(Resp{}); s != 24 {
		t.Errorf("seccomp_notif_resp: %d bytes", s)
	}
	if s := unsafe.Sizeof(Data{}); s != 64 {
		t.Errorf("seccomp_data: %d bytes", s)
	}
	// And the running kernel agrees.
	if err := CheckSizes(); err != nil {
		t.Error(err)
	}
}

var testInfo = Info{
	Uptime:    12345,
	Loads:     [3]uint64{1 << 16, 3 << 15, 65},
	TotalRAM:  256 << 20,
	FreeRAM:   200 << 20,
	SharedRAM: 1 << 20,
	BufferRAM: 2 << 20,
	TotalSwap: 512 << 20,
	FreeSwap:  500 << 20,
	Procs:     7,
}

// TestLayout64 decodes the 64-bit struct with x/sys/unix's own Sysinfo_t,
// generated from the kernel headers (on 64-bit little-endian hosts).
func TestLayout64(t *testing.T) {
	if unsafe.Sizeof(uintptr(0)) != 8 || runtime.GOARCH == "s390x" {
		t.Skip("needs a 64-bit little-endian host")
	}
	b := Encode(Layout64, &testInfo)
	if len(b) != int(unsafe.Sizeof(unix.Sysinfo_t{})) {
		t.Fatalf("%d bytes, unix.Sysinfo_t has %d", len(b), unsafe.Sizeof(unix.Sysinfo_t{}))
	}
	var si unix.Sysinfo_t
	copy(unsafe.Slice((*byte)(unsafe.Pointer(&si)), len(b)), b)
	got := Info{
		Uptime: si.Uptime, Loads: [3]uint64{uint64(si.Loads[0]), uint64(si.Loads[1]), uint64(si.Loads[2])},
		TotalRAM: uint64(si.Totalram), FreeRAM: uint64(si.Freeram), SharedRAM: uint64(si.Sharedram),
		BufferRAM: uint64(si.Bufferram), TotalSwap: uint64(si.Totalswap), FreeSwap: uint64(si.Freeswap),
		Procs: uint64(si.Procs),
	}
	if got != testInfo || si.Unit != 1 || si.Totalhigh != 0 {
		t.Errorf("decoded %+v unit %d, want %+v unit 1", got, si.Unit, testInfo)
	}
}

// compat32 is struct compat_sysinfo (kernel/sys.c), as an i386 caller
// declares struct sysinfo.
type compat32 struct {
	Uptime                                                       int32
	Loads                                                        [3]uint32
	Totalram, Freeram, Sharedram, Bufferram, Totalswap, Freeswap uint32
	Procs, Pad                                                   uint16
	Totalhigh, Freehigh, MemUnit                                 uint32
	F                                                            [8]byte
}

func decode32(t *testing.T, b []byte) compat32 {
	t.Helper()
	var c compat32
	if unsafe.Sizeof(c) != Sysinfo32Size || len(b) != Sysinfo32Size {
		t.Fatalf("sizes: compat %d, encoded %d", unsafe.Sizeof(c), len(b))
	}
	if _, err := binary.Decode(b, binary.LittleEndian, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestLayout32(t *testing.T) {
	c := decode32(t, Encode(Layout32, &testInfo))
	if c.Uptime != 12345 || c.Loads != [3]uint32{1 << 16, 3 << 15, 65} || c.Procs != 7 || c.MemUnit != 1 ||
		c.Totalram != 256<<20 || c.Freeram != 200<<20 || c.Sharedram != 1<<20 || c.Bufferram != 2<<20 ||
		c.Totalswap != 512<<20 || c.Freeswap != 500<<20 {
		t.Errorf("decoded %+v", c)
	}
	// A container bigger than 4 GiB: mem_unit grows so every field fits,
	// and unit*value stays the byte count (rounded down to the unit).
	big := testInfo
	big.TotalRAM, big.FreeRAM, big.TotalSwap = 24<<30, 20<<30+12345, 64<<30
	c = decode32(t, Encode(Layout32, &big))
	if c.MemUnit != 32 || uint64(c.Totalram)*uint64(c.MemUnit) != 24<<30 ||
		uint64(c.Totalswap)*uint64(c.MemUnit) != 64<<30 ||
		uint64(c.Freeram)*uint64(c.MemUnit) != (20<<30+12345)&^31 {
		t.Errorf("scaled: %+v", c)
	}
	// Fields that never fit are clamped, not wrapped.
	huge := Info{Uptime: 1 << 40, Procs: 1 << 20, TotalRAM: 1 << 62}
	c = decode32(t, Encode(Layout32, &huge))
	if c.Uptime != 1<<31-1 || c.Procs != 65535 || uint64(c.Totalram)*uint64(c.MemUnit) != 1<<62 {
		t.Errorf("clamped: %+v", c)
	}
}

func TestSysinfoLayout(t *testing.T) {
	for _, tc := range []struct {
		d    Data
		want Layout
	}{
		{Data{Nr: 99, Arch: unix.AUDIT_ARCH_X86_64}, Layout64},
		{Data{Nr: 99 | 0x40000000, Arch: unix.AUDIT_ARCH_X86_64}, Layout64}, // x32
		{Data{Nr: 116, Arch: unix.AUDIT_ARCH_I386}, Layout32},
		{Data{Nr: 179, Arch: unix.AUDIT_ARCH_AARCH64}, Layout64},
		{Data{Nr: 116, Arch: unix.AUDIT_ARCH_ARM}, LayoutNone},
		{Data{Nr: 116, Arch: unix.AUDIT_ARCH_X86_64}, LayoutNone}, // x86_64 116 is setgroups
		{Data{Nr: 99, Arch: unix.AUDIT_ARCH_I386}, LayoutNone},
	} {
		if got := SysinfoLayout(&tc.d); got != tc.want {
			t.Errorf("%+v: layout %d, want %d", tc.d, got, tc.want)
		}
	}
}

// TestReadHandoff sends what runc sends (state JSON and the listener fd
// in one sendmsg) and reads it back.
func TestReadHandoff(t *testing.T) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	f := os.NewFile(uintptr(fds[1]), "r")
	c, err := net.FileConn(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r, w, _ := os.Pipe()
	defer r.Close()
	defer w.Close()
	msg, _ := json.Marshal(specs.ContainerProcessState{
		Version: "1.0.2", Fds: []string{specs.SeccompFdName}, Pid: 42, Metadata: "key1",
		State: specs.State{ID: "c1", Pid: 42},
	})
	if err := unix.Sendmsg(fds[0], msg, unix.UnixRights(int(w.Fd())), nil, 0); err != nil {
		t.Fatal(err)
	}
	unix.Close(fds[0])
	h, err := ReadHandoff(c.(*net.UnixConn))
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(h.Listener)
	if h.State.Metadata != "key1" || h.State.Pid != 42 || h.State.State.ID != "c1" || h.Listener < 0 {
		t.Errorf("got %+v", h)
	}
	// The received fd is the pipe's write end.
	if _, err := unix.Write(h.Listener, []byte("x")); err != nil {
		t.Errorf("received fd: %v", err)
	}
}

func TestReadHandoffEmptyAndBad(t *testing.T) {
	for _, tc := range []struct {
		msg  string
		want error
	}{{"", ErrEmpty}, {`{"fds":[]}`, nil}, {`not json`, nil}} {
		fds, _ := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM, 0)
		f := os.NewFile(uintptr(fds[1]), "r")
		c, _ := net.FileConn(f)
		f.Close()
		if tc.msg != "" {
			unix.Write(fds[0], []byte(tc.msg))
		}
		unix.Close(fds[0])
		_, err := ReadHandoff(c.(*net.UnixConn))
		c.Close()
		if err == nil || (tc.want != nil && err != tc.want) {
			t.Errorf("%q: err %v", tc.msg, err)
		}
	}
}
