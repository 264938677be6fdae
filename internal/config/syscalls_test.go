package config

import (
	"slices"
	"testing"
)

func TestSyscallsConfig(t *testing.T) {
	if d := Default(); !slices.Equal(d.Syscalls, []string{"sysinfo"}) {
		t.Errorf("default syscalls %v", d.Syscalls)
	}
	c := Default()
	if err := Parse([]byte("syscalls = []\n"), &c); err != nil || len(c.Syscalls) != 0 {
		t.Errorf("syscalls = []: %v %v", c.Syscalls, err)
	}
	c = Default()
	if err := Parse([]byte(`syscalls = ["sysinfo", "uname"]`), &c); err == nil {
		t.Error("unknown syscall accepted")
	}
}

func TestParseSyscalls(t *testing.T) {
	for in, want := range map[string][]string{
		"":                nil,
		"[]":              nil,
		"none":            nil,
		"sysinfo":         {"sysinfo"},
		` ["sysinfo"] `:   {"sysinfo"},
		"sysinfo,sysinfo": {"sysinfo", "sysinfo"},
	} {
		got, err := ParseSyscalls(in)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("%q: %v %v, want %v", in, got, err, want)
		}
	}
	if _, err := ParseSyscalls("sysinfo,reboot"); err == nil {
		t.Error("unknown name accepted")
	}
}
