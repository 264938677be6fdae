package views

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FreezeCPUInfo keeps the first cpuinfo while the online CPUs stay the same
// and takes a new one when they change; without it every read is live.
func TestFreezeCPUInfo(t *testing.T) {
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS(filepath.Join(hostsDir, "v2-limit256m-quota0.5-io"))); err != nil {
		t.Fatal(err)
	}
	cpuinfo := filepath.Join(dir, "proc/cpuinfo")
	orig, err := os.ReadFile(cpuinfo)
	if err != nil {
		t.Fatal(err)
	}
	hasMarker := func(s *Sampler) bool {
		h, err := s.Host()
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range h.CPUInfo.Blocks {
			for _, l := range b {
				if strings.Contains(l, "1234.567") {
					return true
				}
			}
		}
		return false
	}
	changed := strings.Replace(string(orig), "cpu MHz", "cpu MHz\t\t: 1234.567\nx", 1)
	for _, freeze := range []bool{false, true} {
		if err := os.WriteFile(cpuinfo, orig, 0o644); err != nil {
			t.Fatal(err)
		}
		s := &Sampler{ProcFS: os.DirFS(filepath.Join(dir, "proc")), SysFS: os.DirFS(filepath.Join(dir, "sys")), FreezeCPUInfo: freeze}
		if hasMarker(s) {
			t.Fatal("marker in the original cpuinfo")
		}
		if err := os.WriteFile(cpuinfo, []byte(changed), 0o644); err != nil {
			t.Fatal(err)
		}
		if got := hasMarker(s); got == freeze {
			t.Errorf("freeze=%v: new MHz seen=%v", freeze, got)
		}
		if freeze {
			online := filepath.Join(dir, "sys/devices/system/cpu/online")
			if err := os.WriteFile(online, []byte("0\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			if !hasMarker(s) {
				t.Error("frozen cpuinfo kept after the online CPUs changed")
			}
		}
	}
}
