// Package seccomp holds the kernel's seccomp user-notification interface in
// pure Go (no libseccomp, CGO_ENABLED=0): the notification structs, the
// listener ioctls, the sysinfo(2) struct layouts of each caller ABI, and
// the hand-over message a runtime sends to a listenerPath socket.
package seccomp

import (
	"errors"
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Data is struct seccomp_data: the system call as the filter saw it.
type Data struct {
	Nr                 int32
	Arch               uint32
	InstructionPointer uint64
	Args               [6]uint64
}

// Notif is struct seccomp_notif.
type Notif struct {
	ID    uint64
	Pid   uint32
	Flags uint32
	Data  Data
}

// Resp is struct seccomp_notif_resp.
type Resp struct {
	ID    uint64
	Val   int64
	Error int32
	Flags uint32
}

// idValidOld is SECCOMP_IOCTL_NOTIF_ID_VALID as kernels before 5.17
// numbered it (_IOR instead of _IOW); newer kernels accept both, older
// ones only this one (libseccomp src/system.c does the same retry).
const idValidOld = 0x80082102

// CheckSizes asks the kernel for its notification struct sizes
// (SECCOMP_GET_NOTIF_SIZES) and fails when this package's structs are
// smaller: the kernel would write past them.
func CheckSizes() error {
	var sz struct{ Notif, Resp, Data uint16 }
	if _, _, e := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_GET_NOTIF_SIZES, 0, uintptr(unsafe.Pointer(&sz))); e != 0 {
		return fmt.Errorf("seccomp(SECCOMP_GET_NOTIF_SIZES): %w", e)
	}
	if int(sz.Notif) > int(unsafe.Sizeof(Notif{})) || int(sz.Resp) > int(unsafe.Sizeof(Resp{})) || int(sz.Data) > int(unsafe.Sizeof(Data{})) {
		return fmt.Errorf("kernel notification sizes %d/%d/%d exceed ours %d/%d/%d", sz.Notif, sz.Resp, sz.Data,
			unsafe.Sizeof(Notif{}), unsafe.Sizeof(Resp{}), unsafe.Sizeof(Data{}))
	}
	return nil
}

// Recv receives the next notification from listener fd. It blocks unless a
// poll said the fd is readable. ENOENT means the caller went away between
// the poll and the receive.
func Recv(fd int, n *Notif) error {
	*n = Notif{} // the kernel refuses a buffer that is not zeroed
	for {
		err := ioctl(fd, unix.SECCOMP_IOCTL_NOTIF_RECV, unsafe.Pointer(n))
		if !errors.Is(err, unix.EINTR) {
			return err
		}
	}
}

// Send answers notification r.ID. ENOENT means the caller is gone (killed,
// or its call interrupted by a signal): nothing waits for the answer.
func Send(fd int, r *Resp) error {
	for {
		err := ioctl(fd, unix.SECCOMP_IOCTL_NOTIF_SEND, unsafe.Pointer(r))
		if !errors.Is(err, unix.EINTR) {
			return err
		}
	}
}

// IDValid reports whether notification id is still pending on fd (its
// caller is still in the system call). Checked after opening the caller's
// /proc/PID/mem, it proves that file is the caller's and not a process
// that reused the pid.
func IDValid(fd int, id uint64) bool {
	err := ioctl(fd, unix.SECCOMP_IOCTL_NOTIF_ID_VALID, unsafe.Pointer(&id))
	if errors.Is(err, unix.EINVAL) {
		err = ioctl(fd, idValidOld, unsafe.Pointer(&id))
	}
	return err == nil
}

// Continue lets the call run in the kernel as if it was never
// intercepted: the caller gets the host's answer.
func Continue(id uint64) Resp {
	return Resp{ID: id, Flags: unix.SECCOMP_USER_NOTIF_FLAG_CONTINUE}
}

// Fail makes the call return -1 with errno e.
func Fail(id uint64, e unix.Errno) Resp { return Resp{ID: id, Error: -int32(e)} }

// Return makes the call return v.
func Return(id uint64, v int64) Resp { return Resp{ID: id, Val: v} }

func ioctl(fd int, req uint, arg unsafe.Pointer) error {
	if _, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), uintptr(req), uintptr(arg)); e != 0 {
		return e
	}
	return nil
}

// SyncWakeUp asks the kernel (6.6+) to wake the listener and, on reply,
// the caller on the current CPU: a notification round trip then costs
// about a quarter. Older kernels refuse it; that is harmless.
func SyncWakeUp(fd int) error {
	// The flags are the argument itself, not a pointer.
	if _, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), unix.SECCOMP_IOCTL_NOTIF_SET_FLAGS, unix.SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP); e != 0 {
		return e
	}
	return nil
}
