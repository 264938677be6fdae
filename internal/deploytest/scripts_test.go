package deploytest

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/procview/procview/internal/install"
)

// shell returns sh, skipping the test when there is none.
func shell(t *testing.T) string {
	t.Helper()
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh on PATH")
	}
	return sh
}

func TestScriptsParse(t *testing.T) {
	sh := shell(t)
	for _, s := range []string{"node-install.sh", "procviewd.sh"} {
		out, err := exec.Command(sh, "-n", filepath.Join(manifestDir, s)).CombinedOutput()
		if err != nil {
			t.Errorf("sh -n %s: %v\n%s", s, err, out)
		}
	}
}

// imageDir builds a fake image binary directory: the real procview CLI
// (node-install.sh runs `procview install`) and stand-ins for the others.
func imageDir(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go toolchain to build the procview CLI")
	}
	cliOnce.Do(func() {
		cliDir, cliErr = os.MkdirTemp("", "procview-deploytest-")
		if cliErr != nil {
			return
		}
		build := exec.Command("go", "build", "-o", filepath.Join(cliDir, "procview"), "./cli")
		build.Dir = repoRoot
		build.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := build.CombinedOutput(); err != nil {
			cliErr = fmt.Errorf("build procview: %w\n%s", err, out)
		}
	})
	if cliErr != nil {
		t.Fatal(cliErr)
	}
	dir := t.TempDir()
	if err := copyFile(filepath.Join(cliDir, "procview"), filepath.Join(dir, "procview")); err != nil {
		t.Fatal(err)
	}
	for _, b := range makefileBinaries(t) {
		if b == "procview" {
			continue
		}
		if err := os.WriteFile(filepath.Join(dir, b), []byte("#!/bin/sh\necho "+b+"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// The procview CLI is built once per test binary.
var (
	cliOnce sync.Once
	cliDir  string
	cliErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if cliDir != "" {
		os.RemoveAll(cliDir)
	}
	os.Exit(code)
}

func copyFile(src, dst string) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	return os.WriteFile(dst, b, 0o755)
}

// nodeRoot is a fake node: the directories node-install.sh writes to.
type nodeRoot struct {
	root, bindir, conf, containerd, crioConf, hooks, proc string
}

func newNodeRoot(t *testing.T) nodeRoot {
	t.Helper()
	r := t.TempDir()
	n := nodeRoot{
		root:       r,
		bindir:     filepath.Join(r, "opt/procview/bin"),
		conf:       filepath.Join(r, "etc/procview/config.toml"),
		containerd: filepath.Join(r, "etc/containerd/config.toml"),
		crioConf:   filepath.Join(r, "etc/crio/crio.conf.d/99-procview.conf"),
		hooks:      filepath.Join(r, "usr/share/containers/oci/hooks.d"),
		proc:       filepath.Join(r, "proc"),
	}
	for _, d := range []string{filepath.Dir(n.containerd), filepath.Dir(n.crioConf), n.hooks} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return n
}

// run runs node-install.sh for engine with the fake node's paths.
func (n nodeRoot) run(t *testing.T, img, engine, engineConfig string) (string, error) {
	t.Helper()
	cmd := exec.Command(shell(t), filepath.Join(manifestDir, "node-install.sh"))
	cmd.Env = append(os.Environ(),
		"PROCVIEW_ENGINE="+engine,
		"PROCVIEW_IMAGE_BINDIR="+img,
		"PROCVIEW_BINDIR="+n.bindir,
		"PROCVIEW_CONFIG_SOURCE="+filepath.Join(repoRoot, "deploy", "config.toml"),
		"PROCVIEW_CONFIG_DEST="+n.conf,
		"PROCVIEW_ENGINE_CONFIG="+engineConfig,
		"PROCVIEW_HOOKS_DIR="+n.hooks,
		"PROCVIEW_PROC="+n.proc,
		"PROCVIEW_RESTART_ENGINE=false",
	)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

const containerdBase = `version = 2
# the node's own settings
[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"
  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
    SystemdCgroup = true
`

func TestNodeInstallContainerd(t *testing.T) {
	img := imageDir(t)
	n := newNodeRoot(t)
	if err := os.WriteFile(n.containerd, []byte(containerdBase), 0o644); err != nil {
		t.Fatal(err)
	}
	// auto finds containerd among the node's processes.
	if err := os.MkdirAll(filepath.Join(n.proc, "4242"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(n.proc, "4242", "comm"), []byte("containerd\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	out, err := n.run(t, img, "auto", n.containerd)
	t.Log(out)
	if err != nil {
		t.Fatalf("node-install.sh: %v", err)
	}
	for _, b := range makefileBinaries(t) {
		st, err := os.Stat(filepath.Join(n.bindir, b))
		if err != nil {
			t.Errorf("binary not on the node: %v", err)
		} else if st.Mode()&0o111 == 0 {
			t.Errorf("%s is not executable", b)
		}
	}
	want, _ := os.ReadFile(filepath.Join(repoRoot, "deploy", "config.toml"))
	if got, err := os.ReadFile(n.conf); err != nil || !bytes.Equal(got, want) {
		t.Errorf("node config: %v; equal to deploy/config.toml: %v", err, bytes.Equal(got, want))
	}
	got, err := os.ReadFile(n.containerd)
	if err != nil {
		t.Fatal(err)
	}
	wrapper := filepath.Join(n.bindir, install.WrapperName)
	for _, s := range []string{
		"runtimes." + install.RuntimeName + "]",
		`BinaryName = "` + wrapper + `"`,
		"# the node's own settings",
	} {
		if !strings.Contains(string(got), s) {
			t.Errorf("containerd config lacks %q:\n%s", s, got)
		}
	}
	if !strings.Contains(out, "restart containerd on the node") {
		t.Errorf("a changed config with PROCVIEW_RESTART_ENGINE=false must say to restart containerd")
	}

	// A second start (pod restart) changes nothing and asks for no restart.
	out, err = n.run(t, img, "containerd", n.containerd)
	t.Log(out)
	if err != nil {
		t.Fatalf("second run: %v", err)
	}
	again, _ := os.ReadFile(n.containerd)
	if !bytes.Equal(again, got) {
		t.Errorf("second run changed the containerd config:\n%s", again)
	}
	if strings.Contains(out, "restart containerd") || !strings.Contains(out, "already configured") {
		t.Errorf("second run: want 'already configured' and no restart request")
	}
}

func TestNodeInstallCrio(t *testing.T) {
	img := imageDir(t)
	n := newNodeRoot(t)
	out, err := n.run(t, img, "crio", n.crioConf)
	t.Log(out)
	if err != nil {
		t.Fatalf("node-install.sh: %v", err)
	}
	dropIn, err := os.ReadFile(n.crioConf)
	if err != nil {
		t.Fatalf("no CRI-O drop-in: %v", err)
	}
	for _, s := range []string{"runtimes." + install.RuntimeName + "]", filepath.Join(n.bindir, install.WrapperName)} {
		if !strings.Contains(string(dropIn), s) {
			t.Errorf("drop-in lacks %q:\n%s", s, dropIn)
		}
	}
	hooks, _ := filepath.Glob(filepath.Join(n.hooks, "*.json"))
	if len(hooks) == 0 {
		t.Error("no hooks.d JSON written")
	}
	for _, h := range hooks {
		b, _ := os.ReadFile(h)
		if !strings.Contains(string(b), filepath.Join(n.bindir, install.HookName)) {
			t.Errorf("%s does not name the node's %s:\n%s", h, install.HookName, b)
		}
	}
	if !strings.Contains(out, "restart crio on the node") {
		t.Errorf("want a request to restart crio")
	}
}

func TestNodeInstallRejects(t *testing.T) {
	img := imageDir(t)
	for _, tt := range []struct{ name, engine, want string }{
		{"unknown engine", "docker", "must be containerd, crio or auto"},
		{"auto without an engine", "auto", "neither crio nor containerd"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			n := newNodeRoot(t) // empty fake /proc
			out, err := n.run(t, img, tt.engine, "")
			if err == nil || !strings.Contains(out, tt.want) {
				t.Errorf("err %v, output %q: want a failure saying %q", err, out, tt.want)
			}
			if _, err := os.Stat(filepath.Join(n.bindir, "procview")); err == nil {
				t.Error("binaries copied although the engine is unusable")
			}
		})
	}
}

// procviewd.sh restarts the daemon when it exits (another procviewd held
// the lock) and passes SIGTERM on.
func TestProcviewdScript(t *testing.T) {
	sh := shell(t)
	dir := t.TempDir()
	starts := filepath.Join(dir, "starts")
	term := filepath.Join(dir, "term")
	fake := filepath.Join(dir, "procviewd")
	// First start exits at once (lock held elsewhere); the next one runs
	// until SIGTERM.
	script := `#!/bin/sh
echo "$*" >> ` + starts + `
[ "$(wc -l < ` + starts + `)" -ge 2 ] || exit 0
trap 'echo term > ` + term + `; exit 0' TERM
while :; do sleep 0.05; done
`
	if err := os.WriteFile(fake, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, sh, filepath.Join(manifestDir, "procviewd.sh"))
	cmd.Env = append(os.Environ(), "PROCVIEW_DAEMON="+fake, "PROCVIEW_RETRY_SECONDS=0.2", "PROCVIEW_CONFIG=/etc/procview/config.toml")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		b, _ := os.ReadFile(starts)
		if strings.Count(string(b), "\n") >= 2 {
			if !strings.Contains(string(b), "--config /etc/procview/config.toml") {
				t.Errorf("daemon started with %q", b)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("procviewd was not restarted after exiting; starts: %q, output %q", b, out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond) // let the daemon install its trap
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("procviewd.sh on SIGTERM: %v (want exit 0)\n%s", err, out.String())
	}
	if _, err := os.Stat(term); err != nil {
		t.Errorf("the daemon did not get SIGTERM: %v", err)
	}
}
