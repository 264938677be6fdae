//go:build linux

package nsexec

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"slices"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/procview/procview/internal/tasks"
)

// Exit is how the tool ended: an exit code, or the signal that killed it.
type Exit struct {
	Code   int
	Signal syscall.Signal
}

// Status is the shell's view of e: the code, or 128+signal.
func (e Exit) Status() int {
	if e.Signal != 0 {
		return 128 + int(e.Signal)
	}
	return e.Code
}

// Exit codes for failures of procview itself, as docker and runc use them.
const (
	CodeSetupFailed   = 125 // procview could not set up the tool
	CodeNotExecutable = 126
	CodeNotFound      = 127
)

// StageError is a failure before the tool ran, with the exit code to use.
type StageError struct {
	Code int
	Msg  string
}

func (e *StageError) Error() string { return e.Msg }

// nsFile is a namespace of the target to join.
type nsFile struct {
	name string
	flag int
	f    *os.File
}

// runner holds what Run opened before doing anything.
type runner struct {
	o       *Options
	pidfd   int
	joins   []nsFile
	shared  []string // requested namespaces the container shares with us
	mntNS   *os.File // the container's mount namespace (--root, --etc)
	cgroups []cgroupDir
	cgFD    *os.File
	userNS  bool // the container has its own user namespace
	plan    plan
	notes   []string
}

func (r *runner) close() {
	for _, n := range r.joins {
		n.f.Close()
	}
	if r.mntNS != nil {
		r.mntNS.Close()
	}
	if r.cgFD != nil {
		r.cgFD.Close()
	}
	if r.pidfd > 0 {
		unix.Close(r.pidfd)
	}
}

// Run runs o.Args in o.Target's namespaces and returns how it ended. A
// *StageError says procview failed before the tool ran.
func Run(o Options) (Exit, error) {
	if o.Stdin == nil {
		o.Stdin = os.Stdin
	}
	if o.Stdout == nil {
		o.Stdout = os.Stdout
	}
	if o.Stderr == nil {
		o.Stderr = os.Stderr
	}
	if o.Namespaces == nil {
		o.Namespaces = DefaultNamespaces
	}
	if o.Cgroup == "" {
		o.Cgroup = CgroupContainer
	}
	r, err := prepare(&o)
	if r != nil {
		defer r.close()
	}
	if err != nil {
		return Exit{}, &StageError{CodeSetupFailed, err.Error()}
	}
	if o.Explain {
		r.explain(o.Stdout)
		return Exit{}, nil
	}
	return r.run()
}

func prepare(o *Options) (*runner, error) {
	if len(o.Args) == 0 {
		return nil, errors.New("no command given (procview exec CONTAINER -- CMD [ARGS...])")
	}
	if o.AsContainer {
		return nil, errors.New("--as-container is not implemented yet: the tool would run with the container's user, capabilities, no_new_privs and seccomp; use `runc exec` (or the engine's exec) for a confined process")
	}
	if o.Cgroup != CgroupContainer && o.Cgroup != CgroupNone {
		return nil, fmt.Errorf("--cgroup %q: want container or none", o.Cgroup)
	}
	if os.Geteuid() != 0 {
		return nil, errors.New("procview exec needs root (joining namespaces and mounting a procfs need CAP_SYS_ADMIN; a rootless container's owner would have to join its user namespace first, which procview does not do)")
	}
	if o.Root != "" {
		if !strings.HasPrefix(o.Root, "/") {
			return nil, fmt.Errorf("--root %s: give an absolute path", o.Root)
		}
		if st, err := os.Stat(o.Root); err != nil || !st.IsDir() {
			return nil, fmt.Errorf("--root %s: must be an existing directory (procview creates nothing on the host)", o.Root)
		}
	}
	t := o.Target
	r := &runner{o: o}
	// The pidfd pins the process: namespace files opened while it is alive
	// are its own, not those of a later process reusing the pid.
	fd, err := unix.PidfdOpen(t.Pid, 0)
	if err != nil {
		return r, fmt.Errorf("open pidfd of %d: %w", t.Pid, err)
	}
	r.pidfd = fd
	if t.StartNs != 0 {
		if s, err := tasks.StartTime(os.DirFS("/proc"), t.Pid); err != nil || s != t.StartNs {
			return r, fmt.Errorf("container %s: its init (pid %d) is gone (pid reused or container stopped)", t.Name, t.Pid)
		}
	}
	for _, name := range o.Namespaces {
		f, same, err := openNS(t.Pid, name)
		if err != nil {
			return r, err
		}
		if same {
			f.Close()
			r.shared = append(r.shared, name)
			continue
		}
		r.joins = append(r.joins, nsFile{name, nsFlags[name], f})
	}
	if o.Root != "" || o.Etc {
		f, same, err := openNS(t.Pid, "mnt")
		if err != nil {
			return r, err
		}
		if same {
			f.Close()
			return r, fmt.Errorf("container %s shares the host's mount namespace: --root and --etc would show the host's own files", t.Name)
		}
		r.mntNS = f
	}
	if _, same, err := openNSClose(t.Pid, "user"); err == nil && !same {
		r.userNS = true
		r.notes = append(r.notes, "the container has its own user namespace; it is not joined: the tool keeps the host's root credentials (ps shows the container's users by host uid)")
	}
	if err := unix.PidfdSendSignal(r.pidfd, 0, nil, 0); err != nil {
		return r, fmt.Errorf("container %s: pid %d exited while opening its namespaces", t.Name, t.Pid)
	}
	if r.joinsPid() {
		risk, err := ptraceRisk(t.Pid)
		if err != nil {
			return r, err
		}
		if risk != "" && !o.Force {
			return r, fmt.Errorf("refusing: %s, so the container could ptrace the tool, which runs with the host's root privileges and root directory (its /proc/PID/root is the host's filesystem); --force runs anyway", risk)
		}
		if risk != "" {
			r.notes = append(r.notes, "--force: "+risk+"; the container can ptrace the tool")
		}
	}
	if o.Cgroup == CgroupContainer {
		if r.cgroups, err = containerCgroups(t.Pid); err != nil {
			return r, err
		}
		if err := checkNotFrozen(r.cgroups); err != nil {
			return r, err
		}
		if r.cgFD, err = openUnified(r.cgroups); err != nil {
			return r, err
		}
	}
	r.plan = plan{Proc: true, Sys: r.joinsNet(), Args: o.Args}
	if !o.NoViews {
		var skipped []string
		r.plan.Binds, skipped = viewBinds(t)
		if t.ViewsDir == "" {
			r.notes = append(r.notes, "no procview views for this container (not started through procview): /proc shows the host's memory and CPUs")
		}
		if len(skipped) > 0 {
			r.notes = append(r.notes, "views not bound: "+strings.Join(skipped, ", "))
		}
	}
	return r, nil
}

func (r *runner) joinsPid() bool {
	return slices.ContainsFunc(r.joins, func(n nsFile) bool { return n.name == "pid" })
}

func (r *runner) joinsNet() bool {
	return slices.ContainsFunc(r.joins, func(n nsFile) bool { return n.name == "net" })
}

// openNS opens /proc/PID/ns/NAME and tells whether it is ours too.
func openNS(pid int, name string) (*os.File, bool, error) {
	p := fmt.Sprintf("/proc/%d/ns/%s", pid, name)
	f, err := os.Open(p)
	if err != nil {
		return nil, false, fmt.Errorf("open %s: %w", p, err)
	}
	var a, b unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &a); err != nil {
		f.Close()
		return nil, false, fmt.Errorf("stat %s: %w", p, err)
	}
	if err := unix.Stat("/proc/self/ns/"+name, &b); err != nil {
		f.Close()
		return nil, false, fmt.Errorf("stat own %s namespace: %w", name, err)
	}
	return f, a.Ino == b.Ino && a.Dev == b.Dev, nil
}

func openNSClose(pid int, name string) (*os.File, bool, error) {
	f, same, err := openNS(pid, name)
	if err == nil {
		f.Close()
	}
	return nil, same, err
}

// explain prints the plan.
func (r *runner) explain(w io.Writer) {
	t, o := r.o.Target, r.o
	p := func(format string, a ...any) { fmt.Fprintf(w, format+"\n", a...) }
	id := t.ID
	if id == "" {
		id = "-"
	}
	p("target: %s (id %s, found by %s), pid %d", t.Name, id, t.Source, t.Pid)
	p("1. open a pidfd of %d and its namespace files; check it still runs", t.Pid)
	p("2. on a locked OS thread: unshare the mount namespace, make / rprivate (nothing propagates to the host)")
	step := 3
	if r.mntNS != nil {
		var what []string
		if o.Root != "" {
			what = append(what, "clone its root tree read-only onto "+o.Root)
		}
		if o.Etc {
			what = append(what, "clone "+strings.Join(EtcFiles, ", ")+" (resolved inside its root) read-only over the host's")
		}
		p("%d. enter the container's mount namespace on that thread, %s, come back", step, strings.Join(what, "; "))
		step++
	}
	var names []string
	for _, n := range r.joins {
		names = append(names, n.name)
	}
	p("%d. join namespaces: %s", step, strings.Join(names, ","))
	if len(r.shared) > 0 {
		p("   already shared with the host (nothing to join): %s", strings.Join(r.shared, ","))
	}
	step++
	switch {
	case o.Cgroup == CgroupNone:
		p("%d. start stage 2 (procview re-executed) in procview's own cgroup (--cgroup none)", step)
	default:
		p("%d. start stage 2 (procview re-executed) in the container's cgroup:", step)
		for _, d := range r.cgroups {
			how := "cgroup.procs write before the tool starts"
			if d.unified() {
				how = "CLONE_INTO_CGROUP"
			}
			p("   %s (%s)", d.Dir, how)
		}
	}
	step++
	p("%d. stage 2, inside the PID namespace: mount a fresh procfs on /proc", step)
	if r.plan.Sys {
		p("   mount a fresh sysfs of the network namespace on /sys (the host's /sys submounts, e.g. /sys/fs/cgroup, cloned back)")
	}
	for _, b := range r.plan.Binds {
		p("   bind %s over %s (read-only)", b.Source, b.Target)
	}
	step++
	p("%d. close inherited fds, exec %s from the host's PATH with the caller's environment, on the caller's terminal", step, strings.Join(o.Args, " "))
	p("%d. forward signals; exit with the tool's status (a fatal signal is re-raised)", step+1)
	for _, n := range r.notes {
		p("note: %s", n)
	}
}

// forwarded are the signals procview passes on to the tool.
var forwarded = []os.Signal{
	unix.SIGHUP, unix.SIGINT, unix.SIGQUIT, unix.SIGTERM, unix.SIGUSR1, unix.SIGUSR2,
	unix.SIGALRM, unix.SIGWINCH, unix.SIGCONT, unix.SIGTSTP,
}

func (r *runner) run() (Exit, error) {
	sigc := make(chan os.Signal, 16)
	signal.Notify(sigc, forwarded...)
	defer signal.Stop(sigc)

	cwd, err := os.Getwd()
	if err != nil {
		cwd = "/"
	}
	parent, child, err := socketPair()
	if err != nil {
		return Exit{}, &StageError{CodeSetupFailed, err.Error()}
	}
	defer parent.Close()
	cmd := &exec.Cmd{
		Path:       "/proc/self/exe",
		Args:       []string{"procview", stageArg},
		Env:        os.Environ(),
		Dir:        cwd,
		Stdin:      r.o.Stdin,
		Stdout:     r.o.Stdout,
		Stderr:     r.o.Stderr,
		ExtraFiles: []*os.File{child},
		// Its own process group, given the terminal's foreground below:
		// Ctrl-C reaches the tool once, from the terminal, and a signal
		// sent to procview once, forwarded.
		SysProcAttr: &syscall.SysProcAttr{Setpgid: true},
	}
	if r.cgFD != nil {
		cmd.SysProcAttr.UseCgroupFD = true
		cmd.SysProcAttr.CgroupFD = int(r.cgFD.Fd())
	}
	startc := make(chan error)
	done := make(chan struct{})
	defer close(done)
	go r.startOnThread(cmd, startc, done)
	err = <-startc
	child.Close()
	if err != nil {
		return Exit{}, &StageError{CodeSetupFailed, err.Error()}
	}
	pid := cmd.Process.Pid
	kill := func() {
		unix.Kill(pid, unix.SIGKILL)
		var ws unix.WaitStatus
		unix.Wait4(pid, &ws, 0, nil)
	}
	if r.o.Cgroup == CgroupContainer {
		if err := joinCgroups(r.cgroups, pid, r.cgFD != nil); err != nil {
			kill()
			return Exit{}, &StageError{CodeSetupFailed, err.Error() + " (--cgroup none runs the tool outside the container's cgroup)"}
		}
	}
	tty := foreground(r.o.Stdin, pid)
	defer tty.restore()
	if err := sendPlan(parent, &r.plan); err != nil {
		kill()
		return Exit{}, &StageError{CodeSetupFailed, err.Error()}
	}
	// Stage 2 writes an error here and exits, or execs the tool, which
	// closes its end (close-on-exec): EOF without a message.
	msg, _ := io.ReadAll(parent)
	exit := wait(pid, sigc, tty)
	if len(msg) > 0 {
		return exit, &StageError{exit.Code, string(msg)}
	}
	return exit, nil
}

// startOnThread enters the namespaces on a locked OS thread and starts
// stage 2 from it, so stage 2 inherits them. The thread is never unlocked:
// when the goroutine returns, Go ends the thread instead of reusing it in
// foreign namespaces. It stays until done: it is stage 2's parent, whose
// exit sends stage 2 (and the tool) the parent-death SIGKILL.
func (r *runner) startOnThread(cmd *exec.Cmd, startc chan<- error, done <-chan struct{}) {
	runtime.LockOSThread()
	err := r.enter()
	if err == nil {
		err = cmd.Start()
	}
	startc <- err
	<-done
}

func (r *runner) enter() error {
	// CLONE_NEWNS implies CLONE_FS: this thread gets its own root and cwd.
	if err := unix.Unshare(unix.CLONE_NEWNS); err != nil {
		return fmt.Errorf("unshare mount namespace: %w", err)
	}
	// Before anything is mounted: nothing may propagate to the host.
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("make / rprivate: %w", err)
	}
	if r.mntNS != nil {
		if err := r.attachContainerFiles(); err != nil {
			return err
		}
	}
	for _, n := range r.joins {
		if err := unix.Setns(int(n.f.Fd()), n.flag); err != nil {
			return fmt.Errorf("join %s namespace of %d: %w", n.name, r.o.Target.Pid, err)
		}
	}
	return nil
}

func socketPair() (parent, child *os.File, err error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("socketpair: %w", err)
	}
	return os.NewFile(uintptr(fds[0]), "nsexec-parent"), os.NewFile(uintptr(fds[1]), "nsexec-child"), nil
}

func sendPlan(f *os.File, p *plan) error {
	b, err := json.Marshal(p)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		return fmt.Errorf("send plan to stage 2: %w", err)
	}
	return unix.Shutdown(int(f.Fd()), unix.SHUT_WR)
}
