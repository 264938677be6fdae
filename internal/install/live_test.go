package install

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// containerd itself reads every containerd config install writes: the
// merged config (containerd config dump) has the procview runtime with its
// BinaryName next to runc. No daemon is started.
//
// Config version 3 (containerd 2.x) is not in the list: Debian 12 ships
// containerd 1.6, which reads a version = 3 file without an error but knows
// none of its plugin ids (io.containerd.cri.v1.runtime), so its dump could
// never show the runtime and the case only ever skipped. The v3 path is
// checked by TestGolden's containerd/v3-default case instead (the output of
// containerd 2.x `config default`: TOML, the runtime under
// io.containerd.cri.v1.runtime, idempotent, uninstall restores the input).
func TestContainerdReadsInstalledConfig(t *testing.T) {
	bin, err := exec.LookPath("containerd")
	if err != nil {
		t.Skip("containerd not installed")
	}
	for _, name := range []string{"missing", "empty", "comments-only", "v1", "v2-default", "v2-debian", "v2-systemd", "v2-no-eol", "default-runtime-crun"} {
		t.Run(name, func(t *testing.T) {
			in := readInput(t, filepath.Join("testdata", "golden", "containerd", name+".in"))
			out, _, err := ContainerdInstall(in, testWrapper)
			if err != nil {
				t.Fatal(err)
			}
			cfg := filepath.Join(t.TempDir(), "config.toml")
			if err := os.WriteFile(cfg, out, 0o644); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			dump, err := exec.CommandContext(ctx, bin, "--config", cfg, "config", "dump").CombinedOutput()
			if err != nil {
				t.Fatalf("containerd config dump: %v\n%s", err, dump)
			}
			for _, want := range []string{"runtimes.procview]", "runtimes.procview.options]", `BinaryName = "` + testWrapper + `"`, "runtimes.runc]"} {
				if !bytes.Contains(dump, []byte(want)) {
					t.Errorf("merged config lacks %q", want)
				}
			}
		})
	}
}

// dockerd reads the daemon.json install writes and lists the runtime; a
// SIGHUP after install adds it to a running daemon (as the printed advice
// says). Root only: it starts a private dockerd (own data root, exec root
// and socket, no networking), stopped by pid.
func TestDockerdReadsInstalledConfig(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	dockerd, err := exec.LookPath("dockerd")
	if err != nil {
		t.Skip("dockerd not installed")
	}
	docker, err := exec.LookPath("docker")
	if err != nil {
		t.Skip("docker client not installed")
	}
	dir, err := os.MkdirTemp("", "procview-test-dockerd.")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	cfg := filepath.Join(dir, "daemon.json")
	orig := "{\n  \"log-level\": \"warn\"\n}\n"
	if err := os.WriteFile(cfg, []byte(orig), 0o644); err != nil {
		t.Fatal(err)
	}
	sock := "unix://" + filepath.Join(dir, "d.sock")
	cmd := exec.Command(dockerd, "--config-file", cfg, "--data-root", filepath.Join(dir, "data"),
		"--exec-root", filepath.Join(dir, "exec"), "--pidfile", filepath.Join(dir, "d.pid"), "-H", sock,
		"--iptables=false", "--bridge=none", "--storage-driver=vfs")
	var log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	defer func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	}()
	runtimes := func() map[string]any {
		out, err := exec.Command(docker, "-H", sock, "info", "--format", "{{json .Runtimes}}").Output()
		if err != nil {
			return nil
		}
		var m map[string]any
		if json.Unmarshal(out, &m) != nil {
			return nil
		}
		return m
	}
	waitFor := func(what string, ok func(map[string]any) bool) {
		t.Helper()
		for deadline := time.Now().Add(25 * time.Second); time.Now().Before(deadline); time.Sleep(300 * time.Millisecond) {
			select {
			case <-done:
				t.Fatalf("dockerd exited:\n%s", log.String())
			default:
			}
			if m := runtimes(); m != nil && ok(m) {
				return
			}
		}
		t.Fatalf("timed out waiting for %s; runtimes %v\n%s", what, runtimes(), log.String())
	}
	waitFor("dockerd", func(m map[string]any) bool { return m["runc"] != nil })
	if m := runtimes(); m[RuntimeName] != nil {
		t.Fatalf("procview listed before install: %v", m)
	}

	var out bytes.Buffer
	if err := Install(Options{Engine: "docker", Config: cfg, BinDir: "/usr/local/bin", Out: &out}); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitFor("procview after SIGHUP", func(m map[string]any) bool {
		r, _ := m[RuntimeName].(map[string]any)
		return r["path"] == "/usr/local/bin/procview-runc"
	})
	if err := Uninstall(Options{Engine: "docker", Config: cfg, BinDir: "/usr/local/bin", Out: &out}); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(cfg); string(b) != orig {
		t.Errorf("daemon.json after uninstall = %q, want %q", b, orig)
	}
}

// A private containerd (own root, state and socket) started on an installed
// config loads its CRI plugin with the procview runtime: the plugin refuses
// to load when the default runtime is missing from a runtimes table, which
// a naive insertion causes. Root only; stopped by pid.
func TestContainerdStartsWithInstalledConfig(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	bin, err := exec.LookPath("containerd")
	if err != nil {
		t.Skip("containerd not installed")
	}
	ctr, err := exec.LookPath("ctr")
	if err != nil {
		t.Skip("ctr not installed")
	}
	for _, tc := range []struct{ name, extra string }{
		{"no runtimes in the file", ""},
		{"runc with systemd cgroups", "[plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.runc]\n  runtime_type = \"io.containerd.runc.v2\"\n[plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.runc.options]\n  SystemdCgroup = true\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir, err := os.MkdirTemp("", "procview-test-containerd.")
			if err != nil {
				t.Fatal(err)
			}
			defer os.RemoveAll(dir)
			sock := filepath.Join(dir, "c.sock")
			base := "version = 2\nroot = " + tomlString(filepath.Join(dir, "root")) + "\nstate = " + tomlString(filepath.Join(dir, "state")) +
				"\n\n[grpc]\n  address = " + tomlString(sock) + "\n\n" + tc.extra
			text, _, err := ContainerdInstall([]byte(base), testWrapper)
			if err != nil {
				t.Fatal(err)
			}
			cfg := filepath.Join(dir, "config.toml")
			if err := os.WriteFile(cfg, text, 0o644); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(bin, "--config", cfg)
			var log bytes.Buffer
			cmd.Stdout, cmd.Stderr = &log, &log
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			done := make(chan struct{})
			go func() { cmd.Wait(); close(done) }()
			defer func() {
				cmd.Process.Signal(syscall.SIGTERM)
				select {
				case <-done:
				case <-time.After(10 * time.Second):
					cmd.Process.Kill()
					<-done
				}
			}()
			var plugins []byte
			for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
				if plugins, err = exec.Command(ctr, "--address", sock, "plugins", "ls").Output(); err == nil {
					break
				}
			}
			if err != nil {
				t.Fatalf("ctr plugins ls: %v\n%s", err, log.String())
			}
			var cri string
			for _, l := range strings.Split(string(plugins), "\n") {
				if f := strings.Fields(l); len(f) >= 4 && f[0] == "io.containerd.grpc.v1" && f[1] == "cri" {
					cri = f[len(f)-1]
				}
			}
			if cri != "ok" {
				t.Errorf("CRI plugin status %q, want ok\n%s\n%s", cri, plugins, log.String())
			}
			if !strings.Contains(log.String(), "procview:{Type:io.containerd.runc.v2") || !strings.Contains(log.String(), "BinaryName:"+testWrapper) {
				t.Errorf("the CRI config containerd logged lacks the procview runtime:\n%s", log.String())
			}
		})
	}
}
