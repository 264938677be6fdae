package agent

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"

	"github.com/procview/procview/internal/seccomp"
	"github.com/procview/procview/internal/state"
)

// File names under the state root.
const (
	SocketName = "seccomp.sock" // the listenerPath put into specs
	LockName   = "agent.lock"
	PidName    = "agent.pid"
	recordDir  = "agent"
)

// SocketPath is the listener socket of the agent for root.
func SocketPath(root state.Root) string { return filepath.Join(string(root), SocketName) }

// PidPath is the holder's pid file.
func PidPath(root state.Root) string { return filepath.Join(string(root), PidName) }

// WorkerFlag runs procview-agent as the worker.
const WorkerFlag = "--worker"

// ErrRunning: another holder serves this state root.
var ErrRunning = errors.New("procview-agent already running")

type held struct {
	Listener
	fd int
}

// Holder accepts hand-overs and keeps every listener fd.
type Holder struct {
	Root state.Root
	Log  logrus.FieldLogger
	// Exe is the binary started as the worker (procview-agent itself).
	Exe string
	// WorkerArgs are extra arguments for the worker (config, state root).
	WorkerArgs []string

	mu        sync.Mutex
	ls        map[int]*held
	freeSlots []int
	nextSlot  int
	serial    uint64
	ctl       int // holder's end of the worker's control socket, -1 when none
	worker    *os.Process
	epfd      int
	record    string
	lock      *os.File
}

// Run takes the lock, listens and serves until it fails.
func (h *Holder) Run() error {
	lock, err := os.OpenFile(filepath.Join(string(h.Root), LockName), os.O_RDWR|os.O_CREATE|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return fmt.Errorf("open agent lock: %w", err)
	}
	if err := unix.Flock(int(lock.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		lock.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return ErrRunning
		}
		return fmt.Errorf("lock agent: %w", err)
	}
	h.lock = lock
	if err := seccomp.CheckSizes(); err != nil {
		return err
	}
	h.ls = map[int]*held{}
	h.ctl = -1
	if h.epfd, err = unix.EpollCreate1(unix.EPOLL_CLOEXEC); err != nil {
		return fmt.Errorf("epoll: %w", err)
	}
	dir := filepath.Join(string(h.Root), recordDir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	h.record = filepath.Join(dir, "record-"+strconv.Itoa(os.Getpid()))
	_ = os.Remove(h.record) // a pid reused from an older holder
	h.removeStaleRecords(dir)

	sock := SocketPath(h.Root)
	_ = os.Remove(sock)
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: sock, Net: "unix"})
	if err != nil {
		return fmt.Errorf("listen %s: %w", sock, err)
	}
	ln.SetUnlinkOnClose(false) // a successor may already have bound it
	if err := os.Chmod(sock, 0o600); err != nil {
		return fmt.Errorf("chmod %s: %w", sock, err)
	}
	if err := os.WriteFile(PidPath(h.Root), []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644); err != nil {
		return fmt.Errorf("write pid file: %w", err)
	}
	go h.watchHangups()
	go h.superviseWorker()
	h.Log.WithField("socket", sock).Info("procview-agent listening")
	for {
		c, err := ln.AcceptUnix()
		if err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				continue
			}
			return fmt.Errorf("accept: %w", err)
		}
		go h.handoff(c)
	}
}

// removeStaleRecords deletes records of holders that are gone, keeping
// those whose orphaned worker may still run (their pid file is checked
// by pid only: a record is 1 MiB of mostly sparse tmpfs).
func (h *Holder) removeStaleRecords(dir string) {
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		base, _, _ := strings.Cut(e.Name(), ".") // record-<pid>[.stalled]
		num, ok := strings.CutPrefix(base, "record-")
		pid, err := strconv.Atoi(num)
		if !ok || err != nil || unix.Kill(pid, 0) == nil {
			continue
		}
		_ = os.Remove(filepath.Join(dir, e.Name()))
	}
}

func (h *Holder) handoff(c *net.UnixConn) {
	defer c.Close()
	ho, err := seccomp.ReadHandoff(c)
	if errors.Is(err, seccomp.ErrEmpty) {
		return
	}
	if err != nil {
		h.Log.WithError(err).Warn("listener hand-over")
		return
	}
	key := ho.State.Metadata
	if key == "" || state.Key(key) != key {
		key = state.Key(ho.State.State.ID)
	}
	h.add(Listener{Key: key, Pid: ho.State.Pid}, ho.Listener)
	h.Log.WithFields(logrus.Fields{"container": key, "pid": ho.State.Pid}).Debug("listener received")
}

func (h *Holder) add(l Listener, fd int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.ls) >= MaxListeners {
		h.Log.WithField("container", l.Key).Error("too many listeners; closing this one (its sysinfo calls fail with ENOSYS)")
		_ = unix.Close(fd)
		return
	}
	if n := len(h.freeSlots); n > 0 {
		l.Slot, h.freeSlots = h.freeSlots[n-1], h.freeSlots[:n-1]
	} else {
		l.Slot = h.nextSlot
		h.nextSlot++
	}
	h.serial++
	l.Serial = h.serial
	hl := &held{Listener: l, fd: fd}
	h.ls[fd] = hl
	// No events asked: EPOLLHUP (the filter has no task left) is always
	// reported.
	if err := unix.EpollCtl(h.epfd, unix.EPOLL_CTL_ADD, fd, &unix.EpollEvent{Fd: int32(fd)}); err != nil {
		h.Log.WithError(err).Warn("watch listener for hang-up")
	}
	h.sendLocked(hl)
}

// sendLocked gives the worker a copy of hl's fd. A failure means the
// worker is dying; its successor gets every fd anyway.
func (h *Holder) sendLocked(hl *held) {
	if h.ctl < 0 {
		return
	}
	b, _ := json.Marshal(hl.Listener)
	if err := unix.Sendmsg(h.ctl, b, unix.UnixRights(hl.fd), nil, 0); err != nil {
		h.Log.WithError(err).Debug("send listener to worker")
	}
}

func (h *Holder) watchHangups() {
	events := make([]unix.EpollEvent, 64)
	for {
		n, err := unix.EpollWait(h.epfd, events, -1)
		if err != nil {
			if errors.Is(err, unix.EINTR) {
				continue
			}
			h.Log.WithError(err).Error("epoll wait")
			return
		}
		h.mu.Lock()
		for _, ev := range events[:n] {
			hl := h.ls[int(ev.Fd)]
			if hl == nil || ev.Events&(unix.EPOLLHUP|unix.EPOLLERR) == 0 {
				continue
			}
			_ = unix.EpollCtl(h.epfd, unix.EPOLL_CTL_DEL, hl.fd, nil)
			_ = unix.Close(hl.fd)
			delete(h.ls, hl.fd)
			h.freeSlots = append(h.freeSlots, hl.Slot)
		}
		h.mu.Unlock()
	}
}

// superviseWorker keeps one worker running, restarting it with every
// listener when it exits.
func (h *Holder) superviseWorker() {
	backoff := 50 * time.Millisecond
	for {
		started := time.Now()
		if err := h.runWorker(); err != nil {
			h.Log.WithError(err).Error("worker")
		}
		if time.Since(started) > 10*time.Second {
			backoff = 50 * time.Millisecond
		} else if backoff < 2*time.Second {
			backoff *= 2
		}
		time.Sleep(backoff)
	}
}

func (h *Holder) runWorker() error {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("socketpair: %w", err)
	}
	child := os.NewFile(uintptr(fds[1]), "agent-control")
	args := append([]string{WorkerFlag, "--record", h.record}, h.WorkerArgs...)
	cmd := exec.Command(h.Exe, args...)
	cmd.ExtraFiles = []*os.File{child} // fd 3
	cmd.Stderr = os.Stderr
	cmd.Dir = "/"
	h.mu.Lock()
	err = cmd.Start()
	child.Close()
	if err != nil {
		h.mu.Unlock()
		_ = unix.Close(fds[0])
		return fmt.Errorf("start worker %s: %w", h.Exe, err)
	}
	h.ctl, h.worker = fds[0], cmd.Process
	for _, hl := range h.ls {
		h.sendLocked(hl)
	}
	h.mu.Unlock()
	h.Log.WithField("pid", cmd.Process.Pid).Info("worker started")
	werr := cmd.Wait()
	h.mu.Lock()
	_ = unix.Close(h.ctl)
	h.ctl, h.worker = -1, nil
	h.mu.Unlock()
	return fmt.Errorf("worker exited: %v", werr)
}
