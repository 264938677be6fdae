package agent

import (
	"fmt"
	"os"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/procview/procview/internal/seccomp"
)

// The record is a small file on the state root's tmpfs, mapped shared by
// the worker, that survives the worker: what a restarted worker needs to
// answer the notifications its predecessor received but did not answer
// (their callers would otherwise block forever). It costs a few memory
// stores per call, no system call.
//
//	[0,8)    slot+1 of the notification being answered, 0 when none
//	[8,88)   that notification (struct seccomp_notif)
//	[128+16*i, +16)  listener slot i: serial, last id received
const (
	recCurrent = 0
	recNotif   = 8
	recSlots   = 128
	slotSize   = 16
	// MaxListeners bounds the listener fds one agent holds.
	MaxListeners = 1 << 16
	recordSize   = recSlots + slotSize*MaxListeners
)

type record struct{ mem []byte }

func openRecord(path string) (*record, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open record: %w", err)
	}
	defer f.Close()
	if err := f.Truncate(recordSize); err != nil {
		return nil, fmt.Errorf("size record: %w", err)
	}
	mem, err := unix.Mmap(int(f.Fd()), 0, recordSize, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("map record: %w", err)
	}
	return &record{mem: mem}, nil
}

func (r *record) u64(off int) *uint64 { return (*uint64)(unsafe.Pointer(&r.mem[off])) }

// received notes that listener slot (serial) received n and is answering it.
func (r *record) received(slot int, serial uint64, n *seccomp.Notif) {
	s := recSlots + slotSize*slot
	atomic.StoreUint64(r.u64(s), serial)
	atomic.StoreUint64(r.u64(s+8), n.ID)
	*(*seccomp.Notif)(unsafe.Pointer(&r.mem[recNotif])) = *n
	atomic.StoreUint64(r.u64(recCurrent), uint64(slot)+1)
}

// answered clears the current notification.
func (r *record) answered() { atomic.StoreUint64(r.u64(recCurrent), 0) }

// current returns the notification being answered when the last worker
// stopped, if it was on slot.
func (r *record) current(slot int) (seccomp.Notif, bool) {
	if atomic.LoadUint64(r.u64(recCurrent)) != uint64(slot)+1 {
		return seccomp.Notif{}, false
	}
	return *(*seccomp.Notif)(unsafe.Pointer(&r.mem[recNotif])), true
}

// last returns the last id received on slot, when the slot still belongs
// to the listener with serial.
func (r *record) last(slot int, serial uint64) (uint64, bool) {
	s := recSlots + slotSize*slot
	if atomic.LoadUint64(r.u64(s)) != serial {
		return 0, false
	}
	return atomic.LoadUint64(r.u64(s + 8)), true
}
