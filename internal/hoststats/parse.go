package hoststats

import (
	"errors"
	"fmt"
	"github.com/procview/procview/internal/cpulist"
	"strconv"
	"strings"
)

// ErrParse is wrapped by every error about malformed host file content.
var ErrParse = errors.New("malformed host file")

func parseErr(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrParse, fmt.Sprintf(format, args...))
}

// lines splits data into lines without a length limit (/proc/stat's intr
// line is long on machines with many interrupts).
func lines(data []byte) []string {
	s := strings.TrimSuffix(string(data), "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// ParseMeminfo parses /proc/meminfo ("MemTotal:  24684084 kB"; HugePages_*
// lines carry no unit), keeping the file's line order.
func ParseMeminfo(data []byte) (Meminfo, error) {
	var m Meminfo
	for _, line := range lines(data) {
		if strings.TrimSpace(line) == "" {
			continue
		}
		key, rest, ok := strings.Cut(line, ":")
		f := strings.Fields(rest)
		if !ok || key == "" || len(f) < 1 || len(f) > 2 || (len(f) == 2 && f[1] != "kB") {
			return Meminfo{}, parseErr("bad meminfo line %q", line)
		}
		v, err := strconv.ParseUint(f[0], 10, 64)
		if err != nil {
			return Meminfo{}, parseErr("bad value in meminfo line %q", line)
		}
		m.Lines = append(m.Lines, MeminfoLine{Key: key, Value: v, KB: len(f) == 2})
	}
	if len(m.Lines) == 0 {
		return Meminfo{}, parseErr("empty meminfo")
	}
	return m, nil
}

// ParseCPUInfo splits /proc/cpuinfo into blocks at blank lines. Lines are
// kept verbatim (tabs included) so renderers can copy them.
func ParseCPUInfo(data []byte) (CPUInfo, error) {
	var c CPUInfo
	var block []string
	for _, line := range lines(data) {
		if strings.TrimSpace(line) == "" {
			if len(block) > 0 {
				c.Blocks = append(c.Blocks, block)
				block = nil
			}
			continue
		}
		block = append(block, line)
	}
	if len(block) > 0 {
		c.Blocks = append(c.Blocks, block)
	}
	if len(c.Blocks) == 0 {
		return CPUInfo{}, parseErr("empty cpuinfo")
	}
	return c, nil
}

// ParseStat parses /proc/stat: btime, plus every line kept verbatim.
func ParseStat(data []byte) (Stat, error) {
	s := Stat{Lines: lines(data)}
	found := false
	for _, line := range s.Lines {
		f := strings.Fields(line)
		if len(f) >= 1 && f[0] == "btime" {
			if len(f) != 2 {
				return Stat{}, parseErr("bad btime line %q", line)
			}
			v, err := strconv.ParseUint(f[1], 10, 64)
			if err != nil {
				return Stat{}, parseErr("bad btime line %q", line)
			}
			s.BootTime, found = v, true
		}
	}
	if !found {
		return Stat{}, parseErr("no btime line in stat")
	}
	return s, nil
}

// ParseDiskstats parses the device columns (major minor name) of
// /proc/diskstats, in file order.
func ParseDiskstats(data []byte) ([]DiskStat, error) {
	disks := []DiskStat{}
	for _, line := range lines(data) {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if len(f) < 3 {
			return nil, parseErr("bad diskstats line %q", line)
		}
		maj, err1 := strconv.ParseUint(f[0], 10, 32)
		minor, err2 := strconv.ParseUint(f[1], 10, 32)
		if err1 != nil || err2 != nil {
			return nil, parseErr("bad device numbers in diskstats line %q", line)
		}
		disks = append(disks, DiskStat{Major: uint32(maj), Minor: uint32(minor), Name: f[2]})
	}
	return disks, nil
}

// ParseVmstat parses /proc/vmstat "key value" lines in file order.
func ParseVmstat(data []byte) ([]VmstatLine, error) {
	out := []VmstatLine{}
	for _, line := range lines(data) {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if len(f) != 2 {
			return nil, parseErr("bad vmstat line %q", line)
		}
		v, err := strconv.ParseUint(f[1], 10, 64)
		if err != nil {
			return nil, parseErr("bad value in vmstat line %q", line)
		}
		out = append(out, VmstatLine{Key: f[0], Value: v})
	}
	return out, nil
}

// ParseCPUList parses a kernel CPU list such as "0-3,8,10-11" into sorted,
// de-duplicated CPU numbers. An empty list gives an empty, non-nil slice.
func ParseCPUList(data []byte) ([]int, error) {
	cpus, err := cpulist.Parse(strings.TrimSpace(string(data)))
	if err != nil {
		return nil, parseErr("%s", err.Error())
	}
	return cpus, nil
}
