package cpudir

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// fakeSys makes a /sys/devices/system/cpu with host CPUs 0..n-1.
func fakeSys(t *testing.T, n int) string {
	t.Helper()
	sys := t.TempDir()
	for i := 0; i < n; i++ {
		if err := os.MkdirAll(filepath.Join(sys, "cpu"+string(rune('0'+i)), "topology"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range []string{"cpufreq", "vulnerabilities", "smt"} {
		if err := os.Mkdir(filepath.Join(sys, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for name, v := range map[string]string{"kernel_max": "255\n", "online": "0-3\n", "possible": "0-3\n", "present": "0-3\n", "offline": "\n", "modalias": "cpu:x\n"} {
		if err := os.WriteFile(filepath.Join(sys, name), []byte(v), 0o444); err != nil {
			t.Fatal(err)
		}
	}
	return sys
}

func names(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		out = append(out, e.Name())
	}
	return out
}

func TestBuildAndArrange(t *testing.T) {
	sys := fakeSys(t, 4)
	state := t.TempDir()
	views := map[string]string{}
	for _, v := range Linked {
		p := filepath.Join(state, v)
		if err := os.WriteFile(p, []byte("0\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		views[v] = p
	}
	d := Dir(filepath.Join(state, Name))
	ents, err := Build(d, sys, []int{1, 2, 3}, views)
	if err != nil {
		t.Fatal(err)
	}
	var targets []string
	for _, e := range ents {
		targets = append(targets, e.Target)
	}
	want := []string{Target + "/cpufreq", Target + "/smt", Target + "/vulnerabilities",
		Target + "/online", Target + "/possible", Target + "/present", Target + "/h1", Target + "/h2", Target + "/h3"}
	if !slices.Equal(targets, want) {
		t.Errorf("binds %q, want %q", targets, want)
	}
	if b, _ := os.ReadFile(filepath.Join(d.Visible(), "kernel_max")); string(b) != "255\n" {
		t.Errorf("kernel_max copy %q", b)
	}
	if b, _ := os.ReadFile(filepath.Join(d.Visible(), "offline")); string(b) != "\n" {
		t.Errorf("offline %q, want empty list", b)
	}
	if ents[3].Source != views["online"] {
		t.Errorf("online is bound from %s, want the view file", ents[3].Source)
	}
	cpus := func() []string {
		var out []string
		for _, n := range names(t, d.Visible()) {
			if cpuName.MatchString(n) || n[0] == 'h' {
				out = append(out, n)
			}
		}
		return out
	}
	// Placeholders keep an identity marker so the test can tell which host
	// CPU moved where (the real thing has a mount on each).
	for _, k := range []string{"1", "2", "3"} {
		if err := os.WriteFile(filepath.Join(d.Visible(), "h"+k, "id"), []byte(k), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	id := func(i int) string {
		b, _ := os.ReadFile(filepath.Join(d.Visible(), "cpu"+string(rune('0'+i)), "id"))
		return string(b)
	}
	for _, step := range []struct {
		want []int
		ids  []string
	}{
		{[]int{1}, []string{"1"}},
		{[]int{1}, []string{"1"}},
		{[]int{1, 2, 3}, []string{"1", "2", "3"}},
		{[]int{2}, []string{"2"}},
		{[]int{2, 0}, []string{"2", ""}}, // cpu0 was never stashed: empty directory
		{[]int{3}, []string{"3"}},
	} {
		m, err := Arrange(d, step.want)
		if err != nil {
			t.Fatalf("Arrange(%v): %v", step.want, err)
		}
		var wantNames []string
		for i := range step.want {
			wantNames = append(wantNames, "cpu"+string(rune('0'+i)))
		}
		if got := cpus(); !slices.Equal(got, wantNames) {
			t.Fatalf("Arrange(%v): entries %q, want %q", step.want, got, wantNames)
		}
		for i, w := range step.ids {
			if got := id(i); got != w {
				t.Errorf("Arrange(%v): cpu%d is host %q, want %q", step.want, i, got, w)
			}
		}
		if !slices.Equal(m.Want, step.want) {
			t.Errorf("mapping %v, want %v", m.Want, step.want)
		}
		if back, _ := ReadMapping(d); !slices.Equal(back.Want, step.want) {
			t.Errorf("stored mapping %v, want %v", back.Want, step.want)
		}
	}
}
