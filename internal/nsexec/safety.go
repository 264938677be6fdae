//go:build linux

package nsexec

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

const capSysPtrace = 19

// ptraceRisk names a process of the container that could ptrace the tool
// (and through /proc/<tool>/root reach the host's filesystem): one in the
// container's PID namespace with CAP_SYS_PTRACE in its effective or bounding
// set, while the container shares our user namespace (capabilities of a
// container in its own user namespace count only there, and the tool's
// credentials belong to the host's). The bounding set counts because a
// root process gains any capability in it by exec. "" when there is none.
func ptraceRisk(pid int) (string, error) {
	userNS, err := nsID(pid, "user")
	if err != nil {
		return "", fmt.Errorf("read user namespace of %d: %w", pid, err)
	}
	if self, _ := nsID(os.Getpid(), "user"); userNS != self {
		return "", nil
	}
	pidNS, err := nsID(pid, "pid")
	if err != nil {
		return "", fmt.Errorf("read pid namespace of %d: %w", pid, err)
	}
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return "", err
	}
	var hostRoot unix.Stat_t
	if err := unix.Stat("/", &hostRoot); err != nil {
		return "", err
	}
	for _, e := range ents {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if ns, err := nsID(p, "pid"); err != nil || ns != pidNS {
			continue
		}
		st, err := os.ReadFile("/proc/" + e.Name() + "/status")
		if err != nil || strings.HasPrefix(statusField(st, "State"), "Z") {
			continue
		}
		// A process whose root is the host's (another procview exec tool,
		// a runc exec in progress) gains nothing by ptracing the tool.
		var root unix.Stat_t
		if unix.Stat("/proc/"+e.Name()+"/root", &root) == nil && root.Dev == hostRoot.Dev && root.Ino == hostRoot.Ino {
			continue
		}
		for _, field := range []string{"CapEff", "CapBnd"} {
			if capSet(st, field, capSysPtrace) {
				return fmt.Sprintf("process %d (%s) has CAP_SYS_PTRACE in %s", p, statusField(st, "Name"), field), nil
			}
		}
	}
	return "", nil
}

func statusField(status []byte, name string) string {
	for line := range bytes.SplitSeq(status, []byte("\n")) {
		if v, ok := bytes.CutPrefix(line, []byte(name+":")); ok {
			return strings.TrimSpace(string(v))
		}
	}
	return ""
}

// capSet tells whether capability bit c is set in a hex capability field
// of /proc/PID/status.
func capSet(status []byte, field string, c uint) bool {
	v, err := strconv.ParseUint(statusField(status, field), 16, 64)
	return err == nil && v&(1<<c) != 0
}
