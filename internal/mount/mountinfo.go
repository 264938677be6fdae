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
