//go:build linux

package nsexec

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestParseNamespaces(t *testing.T) {
	got, err := ParseNamespaces("pid,net, net")
	if err != nil || !slices.Equal(got, []string{"net", "pid"}) {
		t.Fatalf("got %v, %v", got, err)
	}
	got, err = ParseNamespaces("all")
	if err != nil || len(got) != len(DefaultNamespaces) {
		t.Fatalf("all: got %v, %v", got, err)
	}
	for _, bad := range []string{"mnt", "user", "time", "bogus"} {
		if _, err := ParseNamespaces(bad); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}

func TestCapSet(t *testing.T) {
	st := []byte("Name:\tsh\nCapEff:\t00000000a80425fb\nCapBnd:\t000001ffffffffff\n")
	if capSet(st, "CapEff", capSysPtrace) {
		t.Error("docker's default CapEff has no CAP_SYS_PTRACE")
	}
	if !capSet(st, "CapBnd", capSysPtrace) {
		t.Error("a full bounding set has CAP_SYS_PTRACE")
	}
	if statusField(st, "Name") != "sh" {
		t.Error("Name")
	}
}

func TestViewBindsParentsFirst(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"meminfo", "online", "pressure/cpu"} {
		os.MkdirAll(filepath.Dir(filepath.Join(dir, f)), 0o755)
		os.WriteFile(filepath.Join(dir, f), nil, 0o644)
	}
	binds, skipped := viewBinds(Target{ViewsDir: dir, Views: []string{"online", "pressure/cpu", "meminfo", "nosuch", "vmstat"}})
	var targets []string
	for _, b := range binds {
		targets = append(targets, b.Target)
	}
	want := []string{"/proc/meminfo", "/proc/pressure/cpu", "/sys/devices/system/cpu/online"}
	if !slices.Equal(targets, want) {
		t.Errorf("targets %v, want %v", targets, want)
	}
	if len(skipped) != 2 {
		t.Errorf("skipped %v, want nosuch and vmstat", skipped)
	}
}

func TestUnescapeMount(t *testing.T) {
	if got := unescapeMount(`/a\040b`); got != "/a b" {
		t.Errorf("got %q", got)
	}
}
