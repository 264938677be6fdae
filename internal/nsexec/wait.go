//go:build linux

package nsexec

import (
	"os"
	"os/signal"
	"runtime"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// terminal is the caller's terminal while the tool holds its foreground.
type terminal struct {
	fd   int
	ours int // procview's process group, foreground before
	tool int
}

// foreground gives the terminal on in to the tool's process group when
// procview is in the terminal's foreground; nil otherwise (no terminal,
// or procview runs in the background).
func foreground(in *os.File, toolPgrp int) *terminal {
	fd := int(in.Fd())
	fg, err := unix.IoctlGetInt(fd, unix.TIOCGPGRP)
	if err != nil || fg != unix.Getpgrp() {
		return nil
	}
	t := &terminal{fd: fd, ours: fg, tool: toolPgrp}
	t.set(toolPgrp)
	return t
}

// set makes pgrp the foreground process group. SIGTTOU is ignored around
// it: procview is a background process once the tool has the terminal.
func (t *terminal) set(pgrp int) {
	signal.Ignore(unix.SIGTTOU)
	unix.IoctlSetPointerInt(t.fd, unix.TIOCSPGRP, pgrp)
	signal.Reset(unix.SIGTTOU)
}

func (t *terminal) restore() {
	if t != nil {
		t.set(t.ours)
	}
}

// wait reaps the tool, forwarding signals procview receives and following
// the tool's stops like a shell (and nsenter): when it stops, procview
// takes the terminal back and stops too; when continued, it hands the
// terminal over again and continues the tool.
func wait(pid int, sigc <-chan os.Signal, tty *terminal) Exit {
	type result struct {
		ws  unix.WaitStatus
		err error
	}
	waitc := make(chan result)
	next := make(chan struct{})
	go func() {
		for {
			var ws unix.WaitStatus
			_, err := unix.Wait4(pid, &ws, unix.WUNTRACED, nil)
			if err == unix.EINTR {
				continue
			}
			waitc <- result{ws, err}
			if err != nil || !ws.Stopped() {
				return
			}
			<-next
		}
	}()
	for {
		select {
		case s := <-sigc:
			unix.Kill(pid, s.(syscall.Signal))
		case r := <-waitc:
			switch {
			case r.err != nil:
				return Exit{Code: CodeSetupFailed}
			case r.ws.Stopped():
				if tty != nil {
					tty.set(tty.ours)
				}
				unix.Kill(os.Getpid(), unix.SIGSTOP)
				if tty != nil {
					tty.set(tty.tool)
				}
				unix.Kill(-pid, unix.SIGCONT)
				next <- struct{}{}
			case r.ws.Signaled():
				return Exit{Signal: r.ws.Signal()}
			default:
				return Exit{Code: r.ws.ExitStatus()}
			}
		}
	}
}

// Reraise ends procview like the tool ended: by the same signal, with its
// default action (core dump included), as nsenter does; it returns the
// shell's 128+signal when the signal does not kill (e.g. a blocked one).
func Reraise(e Exit) int {
	if e.Signal == 0 {
		return e.Code
	}
	runtime.LockOSThread() // unblocked and raised on this very thread
	signal.Reset(e.Signal)
	// Go's own handler would turn SIGQUIT into a goroutine dump and ignore
	// a SIGSEGV sent by kill: install SIG_DFL directly. The zeroed struct
	// is the kernel's sigaction with handler SIG_DFL on every layout.
	var act [4]uint64
	unix.RawSyscall6(unix.SYS_RT_SIGACTION, uintptr(e.Signal), uintptr(unsafe.Pointer(&act)), 0, 8, 0, 0)
	var set unix.Sigset_t
	set.Val[(e.Signal-1)/64] = 1 << ((uint(e.Signal) - 1) % 64)
	unix.PthreadSigmask(unix.SIG_UNBLOCK, &set, nil)
	unix.Tgkill(os.Getpid(), unix.Gettid(), e.Signal)
	return e.Status()
}
