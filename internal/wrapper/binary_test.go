package wrapper_test

// These tests build runtime-wrapper and run it against a fake "runc" shell
// script that records how it was exec'd: its pid (to prove exec, not fork),
// argv, environment and the bundle's config.json as runc would read it.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/procview/procview/internal/spec"
	"github.com/procview/procview/internal/wrapper"
)

// binDir holds the built procview-runc and a fake procview-hook.
var binDir string

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "procview-wrapper-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	binDir = dir
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	cmd := exec.Command(goBin, "build", "-o", filepath.Join(binDir, "procview-runc"), "github.com/procview/procview/runtime-wrapper")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build wrapper: %v\n%s", err, out)
		return 1
	}
	if err := os.WriteFile(filepath.Join(binDir, "procview-hook"), []byte("#!/bin/sh\nexit 0\n"), 0o755); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return m.Run()
}

// fakeRunc records one invocation per pid under $FAKE_OUT. "features"
// prints $FAKE_FEATURES (default: runc 1.1.5's namespaces, no time) and
// exits 0; anything else exits 7 so the test sees runc's exit code.
const fakeRunc = `#!/bin/sh
out="$FAKE_OUT/$$"
printf '%s\0' "$0" "$@" > "$out.argv"
env -0 > "$out.env"
cp "$FAKE_BUNDLE/config.json" "$out.config" 2>/dev/null
if [ "$1" = features ]; then
	if [ -n "$FAKE_FEATURES" ]; then printf '%s' "$FAKE_FEATURES"; else
	printf '%s' '{"linux":{"namespaces":["cgroup","ipc","mount","network","pid","user","uts"]}}'; fi
	exit 0
fi
exit 7
`

type env struct {
	t        *testing.T
	dir      string
	bundle   string
	fakeDir  string
	out      string
	cfgPath  string
	extraEnv []string
	path     string // PATH given to the wrapper
}

func newEnv(t *testing.T, toml string) *env {
	t.Helper()
	dir := t.TempDir()
	e := &env{t: t, dir: dir, bundle: filepath.Join(dir, "bundle"), fakeDir: filepath.Join(dir, "fake"),
		out: filepath.Join(dir, "out"), cfgPath: filepath.Join(dir, "procview.toml")}
	for _, d := range []string{e.bundle, e.fakeDir, e.out} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(e.fakeDir, "runc"), []byte(fakeRunc), 0o755); err != nil {
		t.Fatal(err)
	}
	// A private state root: create and run start procviewd there (a missing
	// one here, which the wrapper only notes).
	toml = fmt.Sprintf("log_file = %q\nstate_root = %q\n", filepath.Join(dir, "log", "procview.log"), filepath.Join(dir, "state")) + toml
	if err := os.WriteFile(e.cfgPath, []byte(toml), 0o644); err != nil {
		t.Fatal(err)
	}
	e.writeConfig(plainSpec(t))
	e.path = e.fakeDir + ":" + os.Getenv("PATH")
	return e
}

func plainSpec(t *testing.T) []byte {
	b, err := os.ReadFile(filepath.Join("..", "spec", "testdata", "plain.json"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func (e *env) writeConfig(b []byte) {
	if err := os.WriteFile(filepath.Join(e.bundle, "config.json"), b, 0o600); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) readConfig() []byte {
	b, err := os.ReadFile(filepath.Join(e.bundle, "config.json"))
	if err != nil {
		e.t.Fatal(err)
	}
	return b
}

func (e *env) environ() []string {
	return append([]string{
		"PATH=" + e.path,
		"PROCVIEW_CONFIG=" + e.cfgPath,
		"FAKE_OUT=" + e.out,
		"FAKE_BUNDLE=" + e.bundle,
		// survives exec byte for byte, like every other variable
		"PROCVIEW_TEST_MARK=a b\nc=d",
	}, e.extraEnv...)
}

type result struct {
	pid            int
	code           int
	stdout, stderr string
	// recorded by the fake runc for the wrapper's own pid; nil if it did not exec
	argv   []string
	envs   []string
	config []byte
}

// run runs wrapper (path) with args in cwd.
func (e *env) run(wrapper, cwd string, args ...string) result {
	e.t.Helper()
	cmd := exec.Command(wrapper, args...)
	cmd.Dir = cwd
	cmd.Env = e.environ()
	var so, se bytes.Buffer
	cmd.Stdout, cmd.Stderr = &so, &se
	done := make(chan error, 1)
	if err := cmd.Start(); err != nil {
		e.t.Fatal(err)
	}
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		_ = cmd.Process.Kill()
		e.t.Fatalf("wrapper %v did not finish", args)
	}
	r := result{pid: cmd.Process.Pid, code: cmd.ProcessState.ExitCode(), stdout: so.String(), stderr: se.String()}
	base := filepath.Join(e.out, strconv.Itoa(r.pid))
	if b, err := os.ReadFile(base + ".argv"); err == nil {
		r.argv = splitNul(b)
		eb, _ := os.ReadFile(base + ".env")
		r.envs = splitNul(eb)
		r.config, _ = os.ReadFile(base + ".config")
	}
	return r
}

func splitNul(b []byte) []string {
	s := strings.Split(string(b), "\x00")
	return s[:len(s)-1] // trailing NUL
}

func wrapperBin() string { return filepath.Join(binDir, "procview-runc") }

func ourHooks(t *testing.T, cfgPath string) map[string]specs.Hook {
	ten := 10
	h := func(cmd string) specs.Hook {
		return specs.Hook{Path: filepath.Join(binDir, "procview-hook"),
			Args: []string{"procview-hook", "--config=" + cfgPath, cmd}, Timeout: &ten}
	}
	return map[string]specs.Hook{spec.StageCreateRuntime: h("create-runtime"), spec.StagePoststop: h("poststop")}
}

// countOurHooks returns how many times each of our hooks, with env as its
// environment, is in config.
func countOurHooks(t *testing.T, config []byte, cfgPath string, env ...string) map[string]int {
	t.Helper()
	s, err := spec.Parse(config)
	if err != nil {
		t.Fatalf("recorded config.json: %v", err)
	}
	n := map[string]int{}
	for stage, want := range ourHooks(t, cfgPath) {
		want.Env = append([]string{wrapper.HookGoMaxProcs}, env...)
		hooks, err := s.Hooks(stage)
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range hooks {
			if cmp.Equal(h, want) {
				n[stage]++
			}
		}
	}
	return n
}

func TestForwarding(t *testing.T) {
	const id = "c1"
	tests := []struct {
		name string
		args func(b string) []string
		// cwdBundle runs the wrapper in the bundle (runc's default bundle)
		cwdBundle bool
		edits     bool
		wantCode  int
	}{
		{name: "containerd create", edits: true, args: func(b string) []string {
			return []string{"--root", "/run/containerd/runc/default", "--log", b + "/log.json", "--log-format", "json",
				"create", "--bundle", b, "--pid-file", b + "/init.pid", id}
		}},
		{name: "docker systemd create", edits: true, args: func(b string) []string {
			return []string{"--root", "/var/run/docker/runtime-runc/moby", "--log", b + "/log.json", "--log-format", "json", "--systemd-cgroup",
				"create", "--bundle", b, "--pid-file", b + "/init.pid", id}
		}},
		{name: "podman create", edits: true, args: func(b string) []string {
			return []string{"create", "--bundle", b, "--pid-file", b + "/pid file with spaces", id}
		}},
		{name: "crio create", edits: true, args: func(b string) []string {
			return []string{"--root=/run/runc", "create", "-b", b, "--pid-file", b + "/pidfile", id}
		}},
		{name: "run detached, bundle=", edits: true, args: func(b string) []string {
			return []string{"--debug", "run", "-d", "--bundle=" + b, "--console-socket", "/tmp/ü.sock", id}
		}},
		{name: "create, default bundle", edits: true, cwdBundle: true, args: func(string) []string { return []string{"create", id} }},
		{name: "start", args: func(string) []string {
			return []string{"--root", "/r", "--log", "/dev/null", "--log-format", "json", "start", id}
		}},
		{name: "state", args: func(string) []string { return []string{"state", id} }},
		{name: "delete --force", args: func(string) []string { return []string{"delete", "--force", id} }},
		{name: "kill", args: func(string) []string { return []string{"kill", id, "9"} }},
		{name: "exec", args: func(string) []string {
			return []string{"exec", "--process", "/tmp/p.json", "--detach", "--pid-file", "/tmp/e.pid", id, "", "a\nb"}
		}},
		{name: "ps", args: func(string) []string { return []string{"ps", "--format", "json", id} }},
		{name: "update", args: func(string) []string { return []string{"update", "--resources", "-", id} }},
		{name: "pause", args: func(string) []string { return []string{"pause", id} }},
		{name: "resume", args: func(string) []string { return []string{"resume", id} }},
		{name: "events", args: func(string) []string { return []string{"events", "--stats", id} }},
		{name: "checkpoint", args: func(string) []string { return []string{"checkpoint", "--image-path", "/i", id} }},
		{name: "restore (pass-through)", args: func(b string) []string { return []string{"restore", "--bundle", b, "--image-path", "/i", id} }},
		{name: "list", args: func(string) []string { return []string{"list", "--format", "json"} }},
		{name: "features", wantCode: 0, args: func(string) []string { return []string{"features"} }},
		{name: "--version", args: func(string) []string { return []string{"--version"} }},
		{name: "-v", args: func(string) []string { return []string{"-v"} }},
		{name: "--help", args: func(string) []string { return []string{"--help"} }},
		{name: "no args", args: func(string) []string { return nil }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.name != "features" {
				tt.wantCode = 7
			}
			e := newEnv(t, "")
			orig := e.readConfig()
			args := tt.args(e.bundle)
			cwd := e.dir
			if tt.cwdBundle {
				cwd = e.bundle
			}
			r := e.run(wrapperBin(), cwd, args...)
			if r.code != tt.wantCode {
				t.Errorf("exit code = %d, want the fake runc's %d (stderr %q)", r.code, tt.wantCode, r.stderr)
			}
			if r.argv == nil {
				t.Fatalf("fake runc did not run as the wrapper's pid %d: not exec'd", r.pid)
			}
			wantArgv := append([]string{filepath.Join(e.fakeDir, "runc")}, args...)
			if diff := cmp.Diff(wantArgv, r.argv); diff != "" {
				t.Errorf("argv forwarded (-want +got):\n%s", diff)
			}
			if miss := missingEnv(e.environ(), r.envs); len(miss) > 0 {
				t.Errorf("environment lost or changed: %q", miss)
			}
			// The fake runc prints only for "features".
			if (r.stdout != "" && tt.name != "features") || r.stderr != "" {
				t.Errorf("wrapper wrote to stdout %q / stderr %q", r.stdout, r.stderr)
			}
			if !tt.edits {
				if !bytes.Equal(r.config, orig) {
					t.Error("config.json changed for a pass-through command")
				}
				return
			}
			// The hooks get the caller's --log to report their warnings there.
			var env []string
			if i := slices.Index(args, "--log"); i >= 0 {
				env = append(env, "PROCVIEW_RUNC_LOG="+args[i+1])
				if j := slices.Index(args, "--log-format"); j >= 0 {
					env = append(env, "PROCVIEW_RUNC_LOG_FORMAT="+args[j+1])
				}
			}
			n := countOurHooks(t, r.config, e.cfgPath, env...)
			if n[spec.StageCreateRuntime] != 1 || n[spec.StagePoststop] != 1 {
				t.Errorf("hooks in config.json seen by runc: %v, want each exactly once", n)
			}
			// runc 1.1.5-like features: no time namespace added.
			if bytes.Contains(r.config, []byte(`"time"`)) {
				t.Error("time namespace added although the runtime does not list it")
			}
		})
	}
}

// missingEnv returns the entries of want that got lacks; the shell may add
// PWD and the like, but must not lose or change anything.
func missingEnv(want, got []string) []string {
	var miss []string
	for _, w := range want {
		if !slices.Contains(got, w) {
			miss = append(miss, w)
		}
	}
	return miss
}

func TestRecreateIsIdempotent(t *testing.T) {
	e := newEnv(t, "")
	args := []string{"create", "--bundle", e.bundle, "c1"}
	r1 := e.run(wrapperBin(), e.dir, args...)
	first := e.readConfig()
	r2 := e.run(wrapperBin(), e.dir, args...)
	if r1.code != 7 || r2.code != 7 {
		t.Fatalf("exit codes %d, %d; want 7", r1.code, r2.code)
	}
	if !bytes.Equal(first, e.readConfig()) {
		t.Error("second create rewrote an already patched config.json")
	}
	n := countOurHooks(t, r2.config, e.cfgPath)
	if n[spec.StageCreateRuntime] != 1 || n[spec.StagePoststop] != 1 {
		t.Errorf("hooks after two creates: %v, want each once", n)
	}
}

func TestTimeNamespace(t *testing.T) {
	tests := []struct {
		name     string
		toml     string
		features string
		want     bool
	}{
		{name: "supported", features: `{"linux":{"namespaces":["mount","pid","time"]}}`, want: true},
		{name: "off in config", toml: "time_namespace = \"off\"\n", features: `{"linux":{"namespaces":["time"]}}`},
		{name: "unsupported", features: `{"linux":{"namespaces":["mount"]}}`},
		{name: "features broken", features: `garbage`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, tt.toml)
			e.extraEnv = []string{"FAKE_FEATURES=" + tt.features}
			var ts unix.Timespec
			_ = unix.ClockGettime(unix.CLOCK_BOOTTIME, &ts)
			r := e.run(wrapperBin(), e.dir, "create", "-b", e.bundle, "c1")
			if r.code != 7 || r.config == nil {
				t.Fatalf("exit %d, recorded config %v", r.code, r.config != nil)
			}
			var got struct {
				Linux struct {
					Namespaces  []specs.LinuxNamespace           `json:"namespaces"`
					TimeOffsets map[string]specs.LinuxTimeOffset `json:"timeOffsets"`
				} `json:"linux"`
			}
			if err := json.Unmarshal(r.config, &got); err != nil {
				t.Fatal(err)
			}
			hasNS := slices.ContainsFunc(got.Linux.Namespaces, func(ns specs.LinuxNamespace) bool { return ns.Type == specs.TimeNamespace })
			if hasNS != tt.want {
				t.Errorf("time namespace = %v, want %v", hasNS, tt.want)
			}
			off, ok := got.Linux.TimeOffsets["boottime"]
			if ok != tt.want {
				t.Fatalf("boottime offset present = %v, want %v", ok, tt.want)
			}
			if ok && (off.Secs > -ts.Sec || off.Secs < -ts.Sec-5) {
				t.Errorf("boottime offset %d, want about -%d (minus the host's boottime)", off.Secs, ts.Sec)
			}
			n := countOurHooks(t, r.config, e.cfgPath)
			if n[spec.StageCreateRuntime] != 1 {
				t.Errorf("hooks: %v", n)
			}
		})
	}
}

// lastLogLine returns the last JSON line of a runc --log file.
func lastLogLine(t *testing.T, path string) map[string]any {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("open runc log: %v", err)
	}
	defer f.Close()
	var last string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		last = sc.Text()
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(last), &m); err != nil {
		t.Fatalf("last log line %q: %v", last, err)
	}
	return m
}

func TestFailOpen(t *testing.T) {
	tests := []struct {
		name  string
		toml  string
		setup func(e *env)
	}{
		{name: "garbage config.json", setup: func(e *env) { e.writeConfig([]byte(`{"ociVersion": "1.0.2", garbage`)) }},
		{name: "config.json is a directory", setup: func(e *env) {
			p := filepath.Join(e.bundle, "config.json")
			_ = os.Remove(p)
			if err := os.Mkdir(p, 0o755); err != nil {
				e.t.Fatal(err)
			}
		}},
		{name: "hooks of the wrong type", setup: func(e *env) { e.writeConfig([]byte(`{"hooks": ["x"], "linux": {}}`)) }},
		{name: "missing hook binary", toml: "hook_path = \"/nonexistent/procview-hook\"\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, tt.toml)
			if tt.setup != nil {
				tt.setup(e)
			}
			before, _ := os.ReadFile(filepath.Join(e.bundle, "config.json"))
			logPath := filepath.Join(e.dir, "log.json")
			args := []string{"--log", logPath, "--log-format", "json", "create", "--bundle", e.bundle, "c1"}
			r := e.run(wrapperBin(), e.dir, args...)
			if r.code != 7 || r.argv == nil {
				t.Fatalf("exit %d, exec'd %v: fail-open must still exec runc", r.code, r.argv != nil)
			}
			if diff := cmp.Diff(append([]string{filepath.Join(e.fakeDir, "runc")}, args...), r.argv); diff != "" {
				t.Errorf("argv (-want +got):\n%s", diff)
			}
			after, _ := os.ReadFile(filepath.Join(e.bundle, "config.json"))
			if !bytes.Equal(before, after) {
				t.Error("config.json changed on failure")
			}
			entries, _ := os.ReadDir(e.bundle)
			if len(entries) != 1 {
				t.Errorf("bundle holds %d entries, want only config.json", len(entries))
			}
			if r.stderr != "" {
				t.Errorf("stderr = %q, want nothing in fail-open mode", r.stderr)
			}
			m := lastLogLine(t, logPath)
			if m["level"] != "error" || !strings.Contains(fmt.Sprint(m["msg"]), "not patched") || m["time"] == nil {
				t.Errorf("last runc log line = %v, want an error about the unpatched spec", m)
			}
			if b, err := os.ReadFile(filepath.Join(e.dir, "log", "procview.log")); err != nil || !bytes.Contains(b, []byte("not patched")) {
				t.Errorf("procview log: %q, %v", b, err)
			}
		})
	}
}

func TestFailClosed(t *testing.T) {
	e := newEnv(t, "fail_mode = \"closed\"\n")
	e.writeConfig([]byte("{garbage"))
	logPath := filepath.Join(e.dir, "log.json")
	r := e.run(wrapperBin(), e.dir, "--log", logPath, "--log-format", "json", "create", "--bundle", e.bundle, "c1")
	if r.code != 1 {
		t.Errorf("exit code = %d, want 1", r.code)
	}
	if r.argv != nil {
		t.Error("runc was exec'd in closed mode after a failure")
	}
	if !strings.Contains(r.stderr, "refusing to create container \"c1\"") || r.stdout != "" {
		t.Errorf("stdout %q, stderr %q; want the refusal on stderr only", r.stdout, r.stderr)
	}
	m := lastLogLine(t, logPath)
	if m["level"] != "error" || !strings.Contains(fmt.Sprint(m["msg"]), "refusing") {
		t.Errorf("last runc log line = %v, want the refusal at error level", m)
	}

	// Closed mode does not get in the way when nothing fails.
	e.writeConfig(plainSpec(t))
	r = e.run(wrapperBin(), e.dir, "create", "--bundle", e.bundle, "c1")
	if r.code != 7 || r.argv == nil {
		t.Errorf("closed mode, valid spec: exit %d, exec'd %v", r.code, r.argv != nil)
	}
	// Nor for excluded containers.
	e.writeConfig([]byte(`{"annotations":{"io.kubernetes.cri.container-type":"sandbox"},"linux":{}}`))
	r = e.run(wrapperBin(), e.dir, "create", "--bundle", e.bundle, "pause")
	if r.code != 7 || r.argv == nil {
		t.Errorf("closed mode, sandbox: exit %d, exec'd %v", r.code, r.argv != nil)
	}
}

func TestExcludedUntouched(t *testing.T) {
	for _, ann := range []string{
		`"io.procview.enabled": "false"`, `"io.procview.enabled": "off"`,
		`"io.kubernetes.cri.container-type": "sandbox"`, `"io.kubernetes.cri-o.ContainerType": "sandbox"`,
		`"io.kubernetes.docker.type": "podsandbox"`,
	} {
		t.Run(ann, func(t *testing.T) {
			e := newEnv(t, "")
			cfg := []byte(`{"ociVersion":"1.0.2","annotations":{` + ann + `},"linux":{"namespaces":[]}}`)
			e.writeConfig(cfg)
			r := e.run(wrapperBin(), e.dir, "create", "--bundle", e.bundle, "c1")
			if r.code != 7 || !bytes.Equal(r.config, cfg) {
				t.Errorf("exit %d; config seen by runc %q, want untouched", r.code, r.config)
			}
		})
	}
}

// TestInstalledAsRunc: the wrapper installed as "runc" earlier on PATH
// must find the real runc after itself instead of exec'ing itself.
func TestInstalledAsRunc(t *testing.T) {
	e := newEnv(t, "")
	selfDir := filepath.Join(e.dir, "wrapperbin")
	if err := os.MkdirAll(selfDir, 0o755); err != nil {
		t.Fatal(err)
	}
	asRunc := filepath.Join(selfDir, "runc")
	if err := os.Link(wrapperBin(), asRunc); err != nil {
		t.Fatal(err)
	}
	if err := os.Link(filepath.Join(binDir, "procview-hook"), filepath.Join(selfDir, "procview-hook")); err != nil {
		t.Fatal(err)
	}
	e.path = selfDir + ":" + e.path
	r := e.run(asRunc, e.dir, "create", "--bundle", e.bundle, "c1")
	if r.code != 7 || r.argv == nil || r.argv[0] != filepath.Join(e.fakeDir, "runc") {
		t.Fatalf("exit %d, argv %q: want the fake runc after the wrapper on PATH", r.code, r.argv)
	}
}

func TestRuntimeNotFound(t *testing.T) {
	e := newEnv(t, "runtime = \"/nonexistent/runc\"\n")
	r := e.run(wrapperBin(), e.dir, "state", "c1")
	if r.code != 1 || !strings.Contains(r.stderr, "/nonexistent/runc") {
		t.Errorf("exit %d, stderr %q; want 1 and the missing runtime named", r.code, r.stderr)
	}
}

func TestConfiguredRuntime(t *testing.T) {
	e := newEnv(t, "")
	other := filepath.Join(e.dir, "other-runtime")
	if err := os.WriteFile(other, []byte(fakeRunc), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(e.cfgPath, fmt.Appendf(nil, "runtime = %q\nlog_file = %q\nstate_root = %q\n", other, filepath.Join(e.dir, "p.log"), filepath.Join(e.dir, "state")), 0o644); err != nil {
		t.Fatal(err)
	}
	r := e.run(wrapperBin(), e.dir, "state", "c1")
	if r.code != 7 || r.argv == nil || r.argv[0] != other {
		t.Errorf("exit %d, argv %q; want %s exec'd", r.code, r.argv, other)
	}
}
