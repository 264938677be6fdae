//go:build linux

package mount

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Mounted reports whether something is mounted exactly at target in the mount
// namespace of pid, by reading /proc/<pid>/mountinfo. target is the path as
// seen from pid's root: ROOTFS+"/proc/meminfo" for a container init before
// pivot_root, "/proc/meminfo" after it.
func Mounted(pid int, target string) (bool, error) {
	path := fmt.Sprintf("/proc/%d/mountinfo", pid)
	data, err := os.ReadFile(path)
	if err != nil {
		return false, fmt.Errorf("read %s: %w", path, err)
	}
	points, err := parseMountPoints(data)
	if err != nil {
		return false, fmt.Errorf("parse %s: %w", path, err)
	}
	target = filepath.Clean(target)
	for _, p := range points {
		if p == target {
			return true, nil
		}
	}
	return false, nil
}

// parseMountPoints returns the mount point (field 5) of every mountinfo line,
// with the kernel's octal escapes (\040 for space, …) decoded.
func parseMountPoints(data []byte) ([]string, error) {
	var points []string
	for n, line := range bytes.Split(data, []byte("\n")) {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		fields := strings.Fields(string(line))
		if len(fields) < 5 {
			return nil, fmt.Errorf("line %d: %d fields, want at least 5", n+1, len(fields))
		}
		p, err := unescape(fields[4])
		if err != nil {
			return nil, fmt.Errorf("line %d: mount point %q: %w", n+1, fields[4], err)
		}
		points = append(points, p)
	}
	return points, nil
}

// unescape decodes the \ooo escapes the kernel uses in mountinfo paths.
func unescape(s string) (string, error) {
	if !strings.Contains(s, `\`) {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' {
			b.WriteByte(s[i])
			continue
		}
		if i+4 > len(s) {
			return "", fmt.Errorf("truncated escape at byte %d", i)
		}
		v, err := strconv.ParseUint(s[i+1:i+4], 8, 8)
		if err != nil {
			return "", fmt.Errorf("bad escape at byte %d: %w", i, err)
		}
		b.WriteByte(byte(v))
		i += 3
	}
	return b.String(), nil
}

// mountEntry is what propagation checks need from one mountinfo line.
type mountEntry struct {
	id     int
	point  string
	shared int // peer group, 0 when the mount is not shared
	master int // peer group it receives from, 0 when not a slave
}

// parseMountEntries parses mountinfo lines: mount ID (field 1), mount point
// (field 5) and the optional fields "shared:N" and "master:N" (between
// field 7 and the "-" separator).
func parseMountEntries(data []byte) ([]mountEntry, error) {
	var out []mountEntry
	for n, line := range bytes.Split(data, []byte("\n")) {
		fields := strings.Fields(string(line))
		if len(fields) == 0 {
			continue
		}
		if len(fields) < 7 {
			return nil, fmt.Errorf("line %d: %d fields, want at least 7", n+1, len(fields))
		}
		id, err := strconv.Atoi(fields[0])
		if err != nil {
			return nil, fmt.Errorf("line %d: mount id %q: %w", n+1, fields[0], err)
		}
		e := mountEntry{id: id}
		if e.point, err = unescape(fields[4]); err != nil {
			return nil, fmt.Errorf("line %d: mount point %q: %w", n+1, fields[4], err)
		}
		for _, f := range fields[6:] {
			if f == "-" {
				break
			}
			if v, ok := strings.CutPrefix(f, "shared:"); ok {
				e.shared, _ = strconv.Atoi(v)
			} else if v, ok := strings.CutPrefix(f, "master:"); ok {
				e.master, _ = strconv.Atoi(v)
			}
		}
		out = append(out, e)
	}
	return out, nil
}

// peerGroups returns every peer group the mounts in mountinfo files belong
// to or receive from. Files that cannot be read are skipped.
func peerGroups(paths ...string) map[int]bool {
	groups := map[int]bool{}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		entries, err := parseMountEntries(data)
		if err != nil {
			continue
		}
		for _, e := range entries {
			if e.shared != 0 {
				groups[e.shared] = true
			}
			if e.master != 0 {
				groups[e.master] = true
			}
		}
	}
	return groups
}
