package agent

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"strconv"
	"time"

	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"

	"github.com/procview/procview/internal/seccomp"
	"github.com/procview/procview/internal/state"
)

// Listener is one listener fd as the holder hands it to the worker.
type Listener struct {
	Slot   int    `json:"slot"`
	Serial uint64 `json:"serial"`
	Key    string `json:"key"` // the container's state key
	Pid    int    `json:"pid"` // the process the runtime started under it
}

type wlistener struct {
	Listener
	fd  int
	src *source
}

type source struct {
	*Source
	refs int
}

// recoverScan is how many ids after the last one received a restarted
// worker probes: the window between RECV returning and the record noting
// the id.
const recoverScan = 4

// Worker answers notifications on the listeners the holder sends it.
type Worker struct {
	Root state.Root
	Log  logrus.FieldLogger
	// Ctl is the SOCK_SEQPACKET socket from the holder.
	Ctl int
	rec *record
	// Mem opens the caller's memory; nil means /proc/PID/mem.
	openMem func(pid uint32) (int, error)

	epfd      int
	ls        map[int]*wlistener
	sources   map[string]*source
	orphan    bool
	lastError time.Time
	info      seccomp.Info

	recordPath string
	stallAfter int
}

// Run serves until the holder is gone and no listener remains.
func (w *Worker) Run(recordPath string) error {
	if err := seccomp.CheckSizes(); err != nil {
		return err
	}
	rec, err := openRecord(recordPath)
	if err != nil {
		return err
	}
	w.rec, w.recordPath = rec, recordPath
	w.stallAfter, _ = strconv.Atoi(os.Getenv(StallEnv))
	if w.openMem == nil {
		w.openMem = openProcMem
	}
	w.ls = map[int]*wlistener{}
	w.sources = map[string]*source{}
	if w.epfd, err = unix.EpollCreate1(unix.EPOLL_CLOEXEC); err != nil {
		return fmt.Errorf("epoll: %w", err)
	}
	if err := unix.EpollCtl(w.epfd, unix.EPOLL_CTL_ADD, w.Ctl, &unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(w.Ctl)}); err != nil {
		return fmt.Errorf("epoll add control socket: %w", err)
	}
	events := make([]unix.EpollEvent, 64)
	for !w.orphan || len(w.ls) > 0 {
		n, err := unix.EpollWait(w.epfd, events, -1)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return fmt.Errorf("epoll wait: %w", err)
		}
		for _, ev := range events[:n] {
			fd := int(ev.Fd)
			if fd == w.Ctl {
				w.control(ev.Events)
				continue
			}
			l := w.ls[fd]
			if l == nil {
				continue
			}
			if ev.Events&unix.EPOLLIN != 0 {
				w.serve(l)
			}
			if ev.Events&(unix.EPOLLHUP|unix.EPOLLERR) != 0 {
				w.drop(l)
			}
		}
	}
	w.Log.Info("holder gone and no listener left; worker exits")
	return nil
}

// control reads one message from the holder: a listener and its fd.
func (w *Worker) control(events uint32) {
	buf := make([]byte, 4096)
	oob := make([]byte, unix.CmsgSpace(4))
	n, oobn, _, _, err := unix.Recvmsg(w.Ctl, buf, oob, unix.MSG_CMSG_CLOEXEC)
	if err != nil || (n == 0 && oobn == 0) || events&(unix.EPOLLHUP|unix.EPOLLERR) != 0 && n == 0 {
		if errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EINTR) {
			return
		}
		// The holder died: keep answering what we have.
		w.Log.Warn("holder gone; serving the listeners held until they close")
		_ = unix.EpollCtl(w.epfd, unix.EPOLL_CTL_DEL, w.Ctl, nil)
		_ = unix.Close(w.Ctl)
		w.orphan = true
		return
	}
	fds, _ := parseOOB(oob[:oobn])
	var l Listener
	if err := json.Unmarshal(buf[:n], &l); err != nil || len(fds) != 1 {
		w.Log.WithError(err).Warn("bad message from holder")
		for _, fd := range fds {
			_ = unix.Close(fd)
		}
		return
	}
	w.add(l, fds[0])
}

func parseOOB(oob []byte) ([]int, error) {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return nil, err
	}
	var fds []int
	for i := range msgs {
		if got, err := unix.ParseUnixRights(&msgs[i]); err == nil {
			fds = append(fds, got...)
		}
	}
	return fds, nil
}

func (w *Worker) add(l Listener, fd int) {
	src := w.sources[l.Key]
	if src == nil {
		src = &source{Source: NewSource(w.Root.Dir(l.Key))}
		w.sources[l.Key] = src
	}
	src.refs++
	_ = seccomp.SyncWakeUp(fd) // an optimisation; older kernels refuse it
	wl := &wlistener{Listener: l, fd: fd, src: src}
	w.ls[fd] = wl
	w.recoverPending(wl)
	if err := unix.EpollCtl(w.epfd, unix.EPOLL_CTL_ADD, fd, &unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(fd)}); err != nil {
		w.Log.WithError(err).WithField("container", l.Key).Error("watch listener")
		w.drop(wl)
	}
}

// recoverPending answers what a previous worker received on l but did not
// answer: the notification it was handling, in full (the record holds
// it), and any id just after the last one it noted, with CONTINUE (its
// arguments are unknown). ID_VALID only accepts ids that were received
// and not answered, so a probe never answers someone else's call.
func (w *Worker) recoverPending(l *wlistener) {
	if n, ok := w.rec.current(l.Slot); ok {
		if last, ok := w.rec.last(l.Slot, l.Serial); ok && last == n.ID && seccomp.IDValid(l.fd, n.ID) {
			w.Log.WithFields(logrus.Fields{"container": l.Key, "id": n.ID}).Info("answering a notification the previous worker received")
			w.answerAndSend(l, &n)
		}
	}
	last, ok := w.rec.last(l.Slot, l.Serial)
	if !ok {
		return
	}
	for id := last; id <= last+recoverScan; id++ {
		if seccomp.IDValid(l.fd, id) {
			w.Log.WithFields(logrus.Fields{"container": l.Key, "id": id}).Warn("unanswered notification found; letting it continue")
			resp := seccomp.Continue(id)
			_ = seccomp.Send(l.fd, &resp)
		}
	}
}

func (w *Worker) drop(l *wlistener) {
	_ = unix.EpollCtl(w.epfd, unix.EPOLL_CTL_DEL, l.fd, nil)
	_ = unix.Close(l.fd)
	delete(w.ls, l.fd)
	if l.src.refs--; l.src.refs == 0 {
		l.src.Close()
		delete(w.sources, l.Key)
	}
}

// serve receives one notification on l and answers it.
func (w *Worker) serve(l *wlistener) {
	var n seccomp.Notif
	if err := seccomp.Recv(l.fd, &n); err != nil {
		// ENOENT: the caller left between poll and receive.
		if !errors.Is(err, unix.ENOENT) {
			w.rateLog(err, l, "receive notification")
		}
		return
	}
	w.rec.received(l.Slot, l.Serial, &n)
	w.maybeStall()
	w.answerAndSend(l, &n)
}

// StallEnv, for tests only, makes a worker stop answering after the given
// number of notifications, holding one received and unanswered, as if it
// died in the middle of a call (the test then kills it). It writes
// <record>.stalled first; a worker never stalls when that file exists.
const StallEnv = "PROCVIEW_AGENT_TEST_STALL_AFTER"

func (w *Worker) maybeStall() {
	if w.stallAfter <= 0 {
		return
	}
	if w.stallAfter--; w.stallAfter > 0 {
		return
	}
	f, err := os.OpenFile(w.recordPath+".stalled", os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return
	}
	_, _ = f.WriteString(strconv.Itoa(os.Getpid()) + "\n")
	_ = f.Close()
	for { // not select{}: with no other goroutine the runtime would abort
		time.Sleep(time.Hour)
	}
}

func (w *Worker) answerAndSend(l *wlistener, n *seccomp.Notif) {
	resp, ok := w.answer(l, n)
	if ok {
		if err := seccomp.Send(l.fd, &resp); err != nil && !errors.Is(err, unix.ENOENT) {
			w.rateLog(err, l, "send answer")
		}
	}
	w.rec.answered()
}

// answer builds the reply to n; ok false means the call is gone and needs
// none. Internal trouble gives CONTINUE (the host's answer), never ENOSYS.
func (w *Worker) answer(l *wlistener, n *seccomp.Notif) (seccomp.Resp, bool) {
	layout := seccomp.SysinfoLayout(&n.Data)
	if layout == seccomp.LayoutNone {
		return seccomp.Continue(n.ID), true
	}
	if err := l.src.Info(&w.info); err != nil {
		if !errors.Is(err, errNotReady) {
			w.rateLog(err, l, "read container views")
		}
		return seccomp.Continue(n.ID), true
	}
	mem, err := w.openMem(n.Pid)
	if err != nil {
		w.rateLog(err, l, "open caller memory")
		return seccomp.Continue(n.ID), true
	}
	defer unix.Close(mem)
	// Opened first, checked second: the id is still pending, so pid was
	// not reused and mem is the caller's.
	if !seccomp.IDValid(l.fd, n.ID) {
		return seccomp.Resp{}, false
	}
	addr := n.Data.Args[0]
	if layout == seccomp.Layout32 {
		addr &= math.MaxUint32
	}
	b := seccomp.Encode(layout, &w.info)
	if addr == 0 || addr > math.MaxInt64-uint64(len(b)) {
		return seccomp.Fail(n.ID, unix.EFAULT), true
	}
	if k, err := unix.Pwrite(mem, b, int64(addr)); err != nil || k != len(b) {
		// An unmapped or read-only buffer: what the kernel's copy_to_user
		// would have reported.
		return seccomp.Fail(n.ID, unix.EFAULT), true
	}
	return seccomp.Return(n.ID, 0), true
}

func openProcMem(pid uint32) (int, error) {
	return unix.Open("/proc/"+strconv.FormatUint(uint64(pid), 10)+"/mem", unix.O_RDWR|unix.O_CLOEXEC, 0)
}

// rateLog logs at most one error per second.
func (w *Worker) rateLog(err error, l *wlistener, what string) {
	if time.Since(w.lastError) < time.Second {
		return
	}
	w.lastError = time.Now()
	w.Log.WithError(err).WithField("container", l.Key).Warn(what)
}

// WorkerMain runs the worker of the holder that started it (control socket
// on fd 3).
func WorkerMain(root state.Root, log logrus.FieldLogger, recordPath string) error {
	w := &Worker{Root: root, Log: log, Ctl: 3}
	if _, err := unix.FcntlInt(3, unix.F_GETFD, 0); err != nil {
		return fmt.Errorf("no control socket on fd 3: %w", err)
	}
	unix.CloseOnExec(3)
	return w.Run(recordPath)
}
