//go:build linux

package nsexec

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// cgroupDir is one hierarchy's directory of the container's cgroup.
type cgroupDir struct {
	Controllers string // "memory", "cpu,cpuacct", "name=systemd", "" for cgroup2
	Dir         string // absolute path under the hierarchy's mount point
}

func (c cgroupDir) unified() bool { return c.Controllers == "" }

// containerCgroups lists the directories of pid's cgroup in every
// hierarchy mounted in our mount namespace. Hierarchies where the process
// sits at the root (a hybrid host's empty unified tree) are left out:
// moving the tool there would change nothing.
func containerCgroups(pid int) ([]cgroupDir, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	if err != nil {
		return nil, fmt.Errorf("read cgroup of %d: %w", pid, err)
	}
	mounts, err := cgroupMounts()
	if err != nil {
		return nil, err
	}
	var out []cgroupDir
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		f := strings.SplitN(line, ":", 3)
		if len(f) != 3 || !strings.HasPrefix(f[2], "/") || strings.Contains(f[2], "/..") {
			continue
		}
		if f[2] == "/" {
			continue
		}
		mnt, ok := mounts[f[1]]
		if !ok {
			continue
		}
		out = append(out, cgroupDir{Controllers: f[1], Dir: filepath.Join(mnt, f[2])})
	}
	return out, nil
}

// cgroupMounts maps a hierarchy's controller list ("cpu,cpuacct",
// "name=systemd", "" for cgroup2) to its first mount point whose root is the
// hierarchy's root.
func cgroupMounts() (map[string]string, error) {
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return nil, fmt.Errorf("read mountinfo: %w", err)
	}
	out := make(map[string]string)
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		pre, post, ok := strings.Cut(sc.Text(), " - ")
		if !ok {
			continue
		}
		pf, qf := strings.Fields(pre), strings.Fields(post)
		if len(pf) < 5 || len(qf) < 3 || pf[3] != "/" {
			continue
		}
		var key string
		switch qf[0] {
		case "cgroup2":
		case "cgroup":
			var ctrls []string
			for o := range strings.SplitSeq(qf[2], ",") {
				if o != "rw" && o != "ro" && !strings.HasPrefix(o, "clone_children") && o != "noprefix" && !strings.HasPrefix(o, "release_agent") && o != "xattr" && o != "cpuset_v2_mode" && o != "favordynmods" {
					ctrls = append(ctrls, o)
				}
			}
			key = strings.Join(ctrls, ",")
		default:
			continue
		}
		if _, dup := out[key]; !dup {
			out[key] = unescapeMount(pf[4])
		}
	}
	return out, nil
}

// unescapeMount undoes mountinfo's octal escapes (\040 for space).
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// ErrFrozen is returned for a frozen (or freezing) container: a tool
// placed in its cgroup would hang until it is thawed.
var ErrFrozen = errors.New("container is frozen")

// checkNotFrozen reads cgroup.events (v2) or freezer.state (v1).
func checkNotFrozen(dirs []cgroupDir) error {
	for _, d := range dirs {
		switch {
		case d.unified():
			b, err := os.ReadFile(filepath.Join(d.Dir, "cgroup.events"))
			if err == nil && bytes.Contains(b, []byte("frozen 1")) {
				return fmt.Errorf("%w (%s/cgroup.events says frozen 1; thaw it or use --cgroup none)", ErrFrozen, d.Dir)
			}
			if b, err := os.ReadFile(filepath.Join(d.Dir, "cgroup.freeze")); err == nil && strings.TrimSpace(string(b)) == "1" {
				return fmt.Errorf("%w (%s/cgroup.freeze is 1; thaw it or use --cgroup none)", ErrFrozen, d.Dir)
			}
		case strings.Contains(","+d.Controllers+",", ",freezer,"):
			b, err := os.ReadFile(filepath.Join(d.Dir, "freezer.state"))
			if s := strings.TrimSpace(string(b)); err == nil && s != "THAWED" {
				return fmt.Errorf("%w (%s/freezer.state is %s; thaw it or use --cgroup none)", ErrFrozen, d.Dir, s)
			}
		}
	}
	return nil
}

// openUnified opens the container's cgroup2 directory for
// CLONE_INTO_CGROUP (SysProcAttr.UseCgroupFD); nil when it has none.
func openUnified(dirs []cgroupDir) (*os.File, error) {
	for _, d := range dirs {
		if d.unified() {
			f, err := os.OpenFile(d.Dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
			if err != nil {
				return nil, fmt.Errorf("open cgroup %s: %w", d.Dir, err)
			}
			return f, nil
		}
	}
	return nil, nil
}

// joinCgroups writes pid into cgroup.procs of every v1 hierarchy (the
// unified one was entered at clone time). Stage 2 does nothing but wait for
// its plan until then, so the tool starts inside.
func joinCgroups(dirs []cgroupDir, pid int, skipUnified bool) error {
	for _, d := range dirs {
		if d.unified() && skipUnified {
			continue
		}
		p := filepath.Join(d.Dir, "cgroup.procs")
		if err := os.WriteFile(p, []byte(strconv.Itoa(pid)), 0); err != nil {
			return fmt.Errorf("move the tool into %s: %w", p, err)
		}
	}
	return nil
}
