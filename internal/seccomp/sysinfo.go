package seccomp

import (
	"encoding/binary"
	"math"

	"golang.org/x/sys/unix"
)

// sysinfo(2)'s number per caller ABI.
const (
	nrSysinfoX8664   = 99
	nrSysinfoI386    = 116
	nrSysinfoAarch64 = 179
	x32Bit           = 0x40000000 // __X32_SYSCALL_BIT
)

// Struct sizes: the native LP64 struct sysinfo, and struct compat_sysinfo
// that the kernel gives 32-bit callers on a 64-bit kernel.
const (
	Sysinfo64Size = 112
	Sysinfo32Size = 64
)

// LoadShift is SI_LOAD_SHIFT: sysinfo's loads are fixed point with 16
// fractional bits.
const LoadShift = 16

// Info is what sysinfo(2) answers, independent of the caller's layout:
// memory in bytes, loads in 1<<LoadShift fixed point.
type Info struct {
	Uptime    int64 // seconds, rounded up as the kernel does
	Loads     [3]uint64
	TotalRAM  uint64
	FreeRAM   uint64
	SharedRAM uint64
	BufferRAM uint64
	TotalSwap uint64
	FreeSwap  uint64
	Procs     uint64
}

// Layout says how a caller's struct sysinfo looks.
type Layout int

// Layouts.
const (
	LayoutNone Layout = iota // not a sysinfo call procview understands
	Layout64                 // x86_64, x32, aarch64: 112 bytes of longs
	Layout32                 // i386 on x86_64: compat_sysinfo, 64 bytes
)

// SysinfoLayout returns the layout a sysinfo call with seccomp data d
// expects, or LayoutNone for any other call or ABI (32-bit ARM among them:
// answered by the kernel).
func SysinfoLayout(d *Data) Layout {
	switch {
	case d.Arch == unix.AUDIT_ARCH_X86_64 && (d.Nr == nrSysinfoX8664 || d.Nr == nrSysinfoX8664|x32Bit):
		// x32 uses the 64-bit entry point and struct (syscall_64.tbl "common").
		return Layout64
	case d.Arch == unix.AUDIT_ARCH_AARCH64 && d.Nr == nrSysinfoAarch64:
		return Layout64
	case d.Arch == unix.AUDIT_ARCH_I386 && d.Nr == nrSysinfoI386:
		return Layout32
	}
	return LayoutNone
}

// Encode lays in out as the caller's struct. The 64-bit struct carries
// bytes (mem_unit 1), like the kernel's. The 32-bit one carries units of
// the smallest power of two that makes every memory field fit 32 bits, so
// a 32-bit caller of a large container gets mem_unit > 1 rather than
// wrapped values (the kernel's compat_sysinfo scales the same way).
func Encode(l Layout, in *Info) []byte {
	switch l {
	case Layout64:
		b := make([]byte, Sysinfo64Size)
		le := binary.LittleEndian
		le.PutUint64(b[0:], uint64(in.Uptime))
		for i, v := range in.Loads {
			le.PutUint64(b[8+8*i:], v)
		}
		for i, v := range in.mem() {
			le.PutUint64(b[32+8*i:], v)
		}
		le.PutUint16(b[80:], clamp16(in.Procs))
		// totalhigh, freehigh: 0 (no highmem on 64-bit).
		le.PutUint32(b[104:], 1) // mem_unit
		return b
	case Layout32:
		b := make([]byte, Sysinfo32Size)
		le := binary.LittleEndian
		up := in.Uptime
		if up > math.MaxInt32 {
			up = math.MaxInt32
		}
		le.PutUint32(b[0:], uint32(int32(up)))
		for i, v := range in.Loads {
			le.PutUint32(b[4+4*i:], uint32(min(v, math.MaxUint32)))
		}
		mem := in.mem()
		shift := memShift(mem[:])
		for i, v := range mem {
			le.PutUint32(b[16+4*i:], uint32(v>>shift))
		}
		le.PutUint16(b[40:], clamp16(in.Procs))
		// totalhigh, freehigh at 44, 48: 0.
		le.PutUint32(b[52:], 1<<shift) // mem_unit
		return b
	}
	return nil
}

// mem returns the six memory fields in struct order.
func (in *Info) mem() [6]uint64 {
	return [6]uint64{in.TotalRAM, in.FreeRAM, in.SharedRAM, in.BufferRAM, in.TotalSwap, in.FreeSwap}
}

// memShift is the smallest shift that makes every value fit in 32 bits.
func memShift(vs []uint64) uint {
	var s uint
	for _, v := range vs {
		for v>>s > math.MaxUint32 {
			s++
		}
	}
	return s
}

func clamp16(v uint64) uint16 { return uint16(min(v, math.MaxUint16)) }
