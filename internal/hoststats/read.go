package hoststats

import (
	"errors"
	"fmt"
	"io/fs"
	"syscall"
)

// PressureFiles are the PSI files under /proc/pressure that Read collects.
var PressureFiles = []string{"cpu", "memory", "io"}

// Read takes one snapshot of the host files. procFS is rooted at /proc and
// sysFS at /sys (normally os.DirFS("/proc") and os.DirFS("/sys"); fixture
// trees in tests). meminfo, cpuinfo and stat are required; diskstats,
// vmstat, the online CPU list and the pressure files may be absent.
func Read(procFS, sysFS fs.FS) (*Host, error) {
	h := &Host{Pressure: make(map[string][]byte)}
	var err error
	if h.Meminfo, err = required(procFS, "/proc/", "meminfo", ParseMeminfo); err != nil {
		return nil, err
	}
	if h.CPUInfo, err = required(procFS, "/proc/", "cpuinfo", ParseCPUInfo); err != nil {
		return nil, err
	}
	if h.Stat, err = required(procFS, "/proc/", "stat", ParseStat); err != nil {
		return nil, err
	}
	if h.Disks, err = optional(procFS, "/proc/", "diskstats", ParseDiskstats); err != nil {
		return nil, err
	}
	if h.Vmstat, err = optional(procFS, "/proc/", "vmstat", ParseVmstat); err != nil {
		return nil, err
	}
	if h.Online, err = optional(sysFS, "/sys/", "devices/system/cpu/online", ParseCPUList); err != nil {
		return nil, err
	}
	if kb, ok := h.Meminfo.Get("SwapTotal"); ok {
		h.SwapTotal = kb * 1024
	}
	for _, name := range PressureFiles {
		data, err := fs.ReadFile(procFS, "pressure/"+name)
		switch {
		case err == nil:
			h.Pressure[name] = data
		case absent(err):
		default:
			return nil, fmt.Errorf("read /proc/pressure/%s: %w", name, err)
		}
	}
	return h, nil
}

// absent: the file does not exist, or PSI is compiled in but disabled
// (psi=0), which makes /proc/pressure/* fail with EOPNOTSUPP.
func absent(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.EOPNOTSUPP)
}

func required[T any](fsys fs.FS, prefix, name string, parse func([]byte) (T, error)) (T, error) {
	var zero T
	data, err := fs.ReadFile(fsys, name)
	if err != nil {
		return zero, fmt.Errorf("read %s%s: %w", prefix, name, err)
	}
	v, err := parse(data)
	if err != nil {
		return zero, fmt.Errorf("read %s%s: %w", prefix, name, err)
	}
	return v, nil
}

func optional[T any](fsys fs.FS, prefix, name string, parse func([]byte) (T, error)) (T, error) {
	var zero T
	data, err := fs.ReadFile(fsys, name)
	if err != nil {
		if absent(err) {
			return zero, nil
		}
		return zero, fmt.Errorf("read %s%s: %w", prefix, name, err)
	}
	v, err := parse(data)
	if err != nil {
		return zero, fmt.Errorf("read %s%s: %w", prefix, name, err)
	}
	return v, nil
}
