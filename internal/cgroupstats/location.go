package cgroupstats

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strconv"
	"strings"
)

// V1Controllers are the v1 controllers Read uses.
var V1Controllers = []string{"memory", "cpu", "cpuacct", "cpuset", "blkio", "pids"}

// DetectMode tells the cgroup layout of the tree fsys is rooted at (normally
// os.DirFS("/sys/fs/cgroup")): cgroup.controllers at the root means v2,
// unified/cgroup.controllers means hybrid, and v1 controller directories
// alone mean v1.
func DetectMode(fsys fs.FS) (Mode, error) {
	if ok, err := exists(fsys, "cgroup.controllers"); err != nil {
		return 0, err
	} else if ok {
		return ModeV2, nil
	}
	if ok, err := exists(fsys, "unified/cgroup.controllers"); err != nil {
		return 0, err
	} else if ok {
		return ModeHybrid, nil
	}
	dirs, err := controllerDirs(fsys)
	if err != nil {
		return 0, err
	}
	if len(dirs) > 0 {
		return ModeV1, nil
	}
	return 0, fmt.Errorf("detect cgroup mode: %w: no cgroup.controllers and no v1 controller directories", fs.ErrNotExist)
}

func exists(fsys fs.FS, name string) (bool, error) {
	_, err := fs.Stat(fsys, name)
	if err == nil {
		return true, nil
	}
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	return false, fmt.Errorf("stat %s: %w", name, err)
}

// controllerDirs maps each known v1 controller to the root directory of its
// hierarchy: the directory whose comma-separated name contains the controller
// ("cpu,cpuacct" serves both cpu and cpuacct). Real directories win over the
// "cpu -> cpu,cpuacct" symlinks; a symlink named exactly after the
// controller is used when no directory matches.
func controllerDirs(fsys fs.FS) (map[string]string, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("read cgroup root: %w", err)
	}
	dirs := make(map[string]string)
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		for c := range strings.SplitSeq(e.Name(), ",") {
			if isV1Controller(c) {
				if _, dup := dirs[c]; !dup {
					dirs[c] = e.Name()
				}
			}
		}
	}
	for _, e := range entries {
		if e.Type()&fs.ModeSymlink != 0 && isV1Controller(e.Name()) {
			if _, ok := dirs[e.Name()]; !ok {
				dirs[e.Name()] = e.Name()
			}
		}
	}
	return dirs, nil
}

func isV1Controller(c string) bool {
	for _, k := range V1Controllers {
		if c == k {
			return true
		}
	}
	return false
}

// ParseProcCgroup parses /proc/PID/cgroup: "id:ctrl1,ctrl2:path" lines for v1
// hierarchies and "0::path" for the unified one. Named hierarchies
// (name=systemd) are ignored.
func ParseProcCgroup(data []byte) (Location, error) {
	loc := Location{V1: make(map[string]string)}
	for line := range strings.SplitSeq(string(data), "\n") {
		line = strings.TrimRight(line, "\r")
		if strings.TrimSpace(line) == "" {
			continue
		}
		id, rest, ok1 := strings.Cut(line, ":")
		ctrls, p, ok2 := strings.Cut(rest, ":")
		if !ok1 || !ok2 || !strings.HasPrefix(p, "/") {
			return Location{}, fmt.Errorf("parse /proc/PID/cgroup: %w: line %q", ErrParse, line)
		}
		if _, err := strconv.ParseUint(id, 10, 32); err != nil {
			return Location{}, fmt.Errorf("parse /proc/PID/cgroup: %w: bad hierarchy id in %q", ErrParse, line)
		}
		if ctrls == "" {
			if id == "0" {
				loc.Unified = p
			}
			continue
		}
		for c := range strings.SplitSeq(ctrls, ",") {
			if c == "" || strings.HasPrefix(c, "name=") {
				continue
			}
			loc.V1[c] = p
		}
	}
	return loc, nil
}

// ReadLocation reads /proc/<pid>/cgroup from procFS (rooted at /proc).
func ReadLocation(procFS fs.FS, pid int) (Location, error) {
	name := strconv.Itoa(pid) + "/cgroup"
	data, err := fs.ReadFile(procFS, name)
	if err != nil {
		return Location{}, fmt.Errorf("read /proc/%s: %w", name, err)
	}
	loc, err := ParseProcCgroup(data)
	if err != nil {
		return Location{}, fmt.Errorf("read /proc/%s: %w", name, err)
	}
	return loc, nil
}

// LocationFromPath is the location of a cgroup an operator names by one path
// ("/docker/abc"), assumed to be the same in every v1 hierarchy and in the
// unified tree.
func LocationFromPath(p string) Location {
	p = path.Clean("/" + p)
	loc := Location{V1: make(map[string]string), Unified: p}
	for _, c := range V1Controllers {
		loc.V1[c] = p
	}
	return loc
}

// relDir turns an absolute cgroup path inside the hierarchy rooted at base
// into an fs.FS path. Paths escaping the hierarchy are an error.
func relDir(base, cgPath string) (string, error) {
	for _, el := range strings.Split(cgPath, "/") {
		if el == ".." {
			return "", fmt.Errorf("cgroup path %q: %w: leaves the hierarchy", cgPath, ErrParse)
		}
	}
	rel := path.Join(base, strings.TrimPrefix(path.Clean("/"+cgPath), "/"))
	if !fs.ValidPath(rel) {
		return "", fmt.Errorf("cgroup path %q: %w: not a valid path", cgPath, ErrParse)
	}
	return rel, nil
}

// chain lists dir and its ancestors up to and including root, leaf first.
func chain(root, dir string) []string {
	out := []string{dir}
	for dir != root && dir != "." {
		dir = path.Dir(dir)
		out = append(out, dir)
	}
	return out
}
