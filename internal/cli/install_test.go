package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The CLI commands end to end on temp files: flags reach the install
// package, the report names the file, and install + uninstall restores it.
func TestInstallUninstallCmd(t *testing.T) {
	orig := "{\n  \"log-level\": \"warn\"\n}\n"
	for _, tc := range []struct {
		engine, file, orig string
		want               string // in the installed file
	}{
		{"docker", "daemon.json", orig, `"path": "/opt/pv/procview-runc"`},
		{"containerd", "config.toml", "version = 2\n# keep me\n", `BinaryName = "/opt/pv/procview-runc"`},
		{"podman", "99-procview.conf", "", `procview = ["/opt/pv/procview-runc"]`},
		{"crio", "99-procview.conf", "", `runtime_path = "/opt/pv/procview-runc"`},
	} {
		t.Run(tc.engine, func(t *testing.T) {
			dir := t.TempDir()
			cfg := filepath.Join(dir, tc.file)
			if tc.orig != "" {
				if err := os.WriteFile(cfg, []byte(tc.orig), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			args := []string{"--engine", tc.engine, "--config", cfg, "--hooks-dir", filepath.Join(dir, "hooks"), "--bin-dir", "/opt/pv"}
			var stdout, stderr bytes.Buffer
			if code := Main(append([]string{"install", "--dry-run"}, args...), &stdout, &stderr); code != 0 {
				t.Fatalf("install --dry-run: exit %d: %s", code, stderr.String())
			}
			if !strings.Contains(stdout.String(), "+") || !strings.Contains(stdout.String(), cfg) {
				t.Errorf("dry run printed no diff for %s:\n%s", cfg, stdout.String())
			}
			if b, _ := os.ReadFile(cfg); string(b) != tc.orig {
				t.Fatalf("dry run wrote %s", cfg)
			}
			stdout.Reset()
			if code := Main(append([]string{"install"}, args...), &stdout, &stderr); code != 0 {
				t.Fatalf("install: exit %d: %s", code, stderr.String())
			}
			b, err := os.ReadFile(cfg)
			if err != nil || !strings.Contains(string(b), tc.want) {
				t.Fatalf("%s after install lacks %q (err %v):\n%s", cfg, tc.want, err, b)
			}
			if tc.engine == "podman" || tc.engine == "crio" {
				h, err := os.ReadFile(filepath.Join(dir, "hooks", "procview.json"))
				if err != nil || !strings.Contains(string(h), `"/opt/pv/procview-hook"`) {
					t.Errorf("hooks.d file: %v\n%s", err, h)
				}
			}
			stdout.Reset()
			if code := Main(append([]string{"install"}, args...), &stdout, &stderr); code != 0 || !strings.Contains(stdout.String(), "already configured") {
				t.Errorf("second install: exit %d, output:\n%s", code, stdout.String())
			}
			stdout.Reset()
			if code := Main(append([]string{"uninstall"}, args...), &stdout, &stderr); code != 0 {
				t.Fatalf("uninstall: exit %d: %s", code, stderr.String())
			}
			b, err = os.ReadFile(cfg)
			switch {
			case tc.orig == "" && !os.IsNotExist(err):
				t.Errorf("%s still there after uninstall (err %v)", cfg, err)
			case tc.orig != "" && string(b) != tc.orig:
				t.Errorf("%s after uninstall = %q, want %q", cfg, b, tc.orig)
			}
			left, _ := filepath.Glob(filepath.Join(dir, "*", "*.procview.*"))
			more, _ := filepath.Glob(filepath.Join(dir, "*.procview.*"))
			if len(left)+len(more) > 0 {
				t.Errorf("bookkeeping files left: %v %v", left, more)
			}
		})
	}
}

func TestInstallCmdUsage(t *testing.T) {
	for _, args := range [][]string{
		{"install"},                              // no engine
		{"install", "--engine", "lxd"},           // unknown engine
		{"uninstall", "--engine", "docker", "x"}, // stray argument
		{"install", "--engine", "docker", "--bin-dir"},
	} {
		var stdout, stderr bytes.Buffer
		if code := Main(args, &stdout, &stderr); code == 0 {
			t.Errorf("%v: exit 0, want failure", args)
		}
	}
}
