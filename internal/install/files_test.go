package install

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// tree is a directory's files (relative path -> mode and bytes) and
// directories (path/ -> "dir").
type tree map[string]string

func snapshot(t *testing.T, dir string) tree {
	t.Helper()
	out := tree{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			out[rel+"/"] = "dir"
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		out[rel] = info.Mode().String() + " " + string(b)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func writeFiles(t *testing.T, dir string, files map[string]string, mode os.FileMode) {
	t.Helper()
	for name, text := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
	}
}

func readGolden(t *testing.T, engine, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "golden", engine, name+".in"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// Install, install again, uninstall on real files: the second install
// changes nothing (no new backup), and uninstall gives back the starting
// directory byte for byte, modes included — for every start state, also
// those the pure functions cannot invert.
func TestInstallUninstallFiles(t *testing.T) {
	hookPre := func(binDir string) map[string]string {
		m := map[string]string{}
		for _, h := range hookFiles {
			b, _ := HookJSON(h.name, binDir)
			m["hooks/"+h.name] = string(b)
		}
		return m
	}
	for _, tc := range []struct {
		name   string
		engine string
		config string // relative to the temp dir
		files  map[string]string
		mode   os.FileMode
		// configured: the start state already is what install writes.
		configured bool
		// stale: the start state holds an old procview block (its backup
		// lost), which a second uninstall removes.
		stale bool
	}{
		{name: "docker missing", engine: "docker", config: "docker/daemon.json"},
		{name: "docker empty", engine: "docker", config: "daemon.json", files: map[string]string{"daemon.json": ""}, mode: 0o600},
		{name: "docker blank", engine: "docker", config: "daemon.json", files: map[string]string{"daemon.json": "\n"}},
		{name: "docker other keys", engine: "docker", config: "daemon.json", files: map[string]string{"daemon.json": readGolden(t, "docker", "other-keys")}, mode: 0o640},
		{name: "docker empty runtimes", engine: "docker", config: "daemon.json", files: map[string]string{"daemon.json": readGolden(t, "docker", "empty-runtimes")}},
		{name: "docker other path", engine: "docker", config: "daemon.json", files: map[string]string{"daemon.json": readGolden(t, "docker", "existing-procview-other-path")}},
		{name: "docker by hand", engine: "docker", config: "daemon.json", files: map[string]string{"daemon.json": readGolden(t, "docker", "existing-procview")}, configured: true},
		{name: "containerd missing", engine: "containerd", config: "etc/containerd/config.toml"},
		{name: "containerd v2 default", engine: "containerd", config: "config.toml", files: map[string]string{"config.toml": readGolden(t, "containerd", "v2-default")}, mode: 0o600},
		{name: "containerd v3", engine: "containerd", config: "config.toml", files: map[string]string{"config.toml": readGolden(t, "containerd", "v3-default")}},
		{name: "containerd no eol", engine: "containerd", config: "config.toml", files: map[string]string{"config.toml": readGolden(t, "containerd", "v2-no-eol")}},
		{name: "containerd old block", engine: "containerd", config: "config.toml", files: map[string]string{"config.toml": readGolden(t, "containerd", "installed-other-bindir")}, stale: true},
		{name: "containerd by hand", engine: "containerd", config: "config.toml", files: map[string]string{"config.toml": readGolden(t, "containerd", "existing-procview")}, configured: true},
		{name: "podman fresh", engine: "podman", config: "containers.conf.d/99-procview.conf"},
		{name: "podman hooks from make install", engine: "podman", config: "containers.conf.d/99-procview.conf", files: hookPre("/usr/local/bin")},
		{name: "podman stale hooks", engine: "podman", config: "containers.conf.d/99-procview.conf", files: hookPre("/opt/old")},
		{name: "crio fresh", engine: "crio", config: "crio.conf.d/99-procview.conf"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if tc.mode == 0 {
				tc.mode = 0o644
			}
			writeFiles(t, dir, tc.files, tc.mode)
			before := snapshot(t, dir)
			var out bytes.Buffer
			o := Options{
				Engine:   tc.engine,
				Config:   filepath.Join(dir, tc.config),
				HooksDir: filepath.Join(dir, "hooks"),
				BinDir:   "/usr/local/bin",
				Out:      &out,
			}

			// Dry run first: nothing may change.
			dry := o
			dry.DryRun = true
			if err := Install(dry); err != nil {
				t.Fatalf("install --dry-run: %v\n%s", err, out.String())
			}
			if d := cmp.Diff(before, snapshot(t, dir)); d != "" {
				t.Fatalf("dry run wrote files (-before +after):\n%s", d)
			}

			out.Reset()
			if err := Install(o); err != nil {
				t.Fatalf("install: %v\n%s", err, out.String())
			}
			installed := snapshot(t, dir)
			if tc.configured != cmp.Equal(before, installed) {
				t.Errorf("configured = %v, but install changed files = %v\n%s", tc.configured, !cmp.Equal(before, installed), out.String())
			}
			for p, v := range installed {
				if b, ok := before[p]; ok && b != "dir" && b[:10] != v[:10] {
					t.Errorf("%s: mode changed from %s to %s", p, b[:10], v[:10])
				}
			}

			out.Reset()
			if err := Install(o); err != nil {
				t.Fatalf("second install: %v", err)
			}
			if !strings.Contains(out.String(), "already configured") {
				t.Errorf("second install did not say already configured:\n%s", out.String())
			}
			if d := cmp.Diff(installed, snapshot(t, dir)); d != "" {
				t.Errorf("second install changed files (-first +second):\n%s", d)
			}

			dryUn := o
			dryUn.DryRun = true
			if err := Uninstall(dryUn); err != nil {
				t.Fatalf("uninstall --dry-run: %v", err)
			}
			if d := cmp.Diff(installed, snapshot(t, dir)); d != "" {
				t.Fatalf("uninstall dry run wrote files:\n%s", d)
			}

			out.Reset()
			if err := Uninstall(o); err != nil {
				t.Fatalf("uninstall: %v\n%s", err, out.String())
			}
			if d := cmp.Diff(before, snapshot(t, dir)); d != "" {
				t.Errorf("install + uninstall did not restore the files (-before +after):\n%s\n%s", d, out.String())
			}
			if tc.stale {
				return
			}
			out.Reset()
			if err := Uninstall(o); err != nil {
				t.Fatalf("second uninstall: %v", err)
			}
			if d := cmp.Diff(before, snapshot(t, dir)); d != "" {
				t.Errorf("second uninstall changed files:\n%s", d)
			}
		})
	}
}

// A backup is written once, from the original bytes, and uninstall after
// other edits removes only procview's part and the backup.
func TestBackupAndLaterEdits(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.toml")
	orig := readGolden(t, "containerd", "v2-systemd")
	writeFiles(t, dir, map[string]string{"config.toml": orig}, 0o644)
	var out bytes.Buffer
	o := Options{Engine: "containerd", Config: cfg, BinDir: "/usr/local/bin", Out: &out}
	if err := Install(o); err != nil {
		t.Fatal(err)
	}
	bak, err := os.ReadFile(cfg + BackupSuffix)
	if err != nil || string(bak) != orig {
		t.Fatalf("backup = %q, %v; want the original bytes", bak, err)
	}
	// A new bin dir rewrites the block but keeps the first backup.
	o.BinDir = "/opt/procview"
	if err := Install(o); err != nil {
		t.Fatal(err)
	}
	if bak2, _ := os.ReadFile(cfg + BackupSuffix); string(bak2) != orig {
		t.Errorf("backup rewritten by the second install")
	}
	cur, _ := os.ReadFile(cfg)
	if !strings.Contains(string(cur), `BinaryName = "/opt/procview/procview-runc"`) || strings.Count(string(cur), beginMark) != 1 {
		t.Errorf("block not replaced exactly once:\n%s", cur)
	}
	// The operator appends a line after install.
	f, _ := os.OpenFile(cfg, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString("# added later\n")
	f.Close()
	if err := Uninstall(o); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(cfg)
	if want := orig + "# added later\n"; string(got) != want {
		t.Errorf("after uninstall (-want +got):\n%s", cmp.Diff(want, string(got)))
	}
	if _, err := os.Stat(cfg + BackupSuffix); err == nil {
		t.Errorf("backup left behind")
	}
}

// CRI-O reads every file in crio.conf.d: install refuses to replace a
// foreign 99-procview.conf rather than leave a backup there.
func TestCrioForeignDropIn(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"crio.conf.d/99-procview.conf": "[crio.runtime]\n"}, 0o644)
	before := snapshot(t, dir)
	var out bytes.Buffer
	err := Install(Options{Engine: "crio", Config: filepath.Join(dir, "crio.conf.d/99-procview.conf"),
		HooksDir: filepath.Join(dir, "hooks"), BinDir: "/usr/local/bin", Out: &out})
	if err == nil || !strings.Contains(err.Error(), "move it away") {
		t.Errorf("err = %v, want a refusal", err)
	}
	if d := cmp.Diff(before, snapshot(t, dir)); d != "" {
		t.Errorf("files changed:\n%s", d)
	}
}

func TestUnknownEngine(t *testing.T) {
	err := Install(Options{Engine: "lxd", BinDir: "/usr/local/bin", Out: &bytes.Buffer{}})
	if err == nil || !strings.Contains(err.Error(), "unknown engine") {
		t.Errorf("err = %v", err)
	}
}
