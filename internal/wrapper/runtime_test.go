package wrapper

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/sirupsen/logrus"
	"github.com/sirupsen/logrus/hooks/test"

	"github.com/procview/procview/internal/config"
	"github.com/procview/procview/internal/spec"
)

func writeExec(t *testing.T, path, body string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
}

func TestFindRuntime(t *testing.T) {
	dir := t.TempDir()
	self := filepath.Join(dir, "wrapper", "procview-runc")
	writeExec(t, self, "#!/bin/sh\n")
	// The wrapper installed as "runc" (a hard link) ahead of the real one.
	selfAsRunc := filepath.Join(dir, "first", "runc")
	if err := os.MkdirAll(filepath.Dir(selfAsRunc), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Link(self, selfAsRunc); err != nil {
		t.Fatal(err)
	}
	real := filepath.Join(dir, "second", "runc")
	writeExec(t, real, "#!/bin/sh\n")
	notExec := filepath.Join(dir, "noexec", "runc")
	if err := os.MkdirAll(filepath.Dir(notExec), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(notExec, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	crun := filepath.Join(dir, "second", "crun")
	writeExec(t, crun, "#!/bin/sh\n")
	writeExec(t, filepath.Join(dir, "second", "pv-test-rt"), "#!/bin/sh\n")

	path := func(sub ...string) string {
		var p string
		for i, s := range sub {
			if i > 0 {
				p += ":"
			}
			p += filepath.Join(dir, s)
		}
		return p
	}
	tests := []struct {
		name, rt, pathEnv, self string
		want                    string
		wantErr                 bool
	}{
		{name: "default runc from PATH", pathEnv: path("second"), self: self, want: real},
		{name: "skips itself on PATH", pathEnv: path("first", "second"), self: self, want: real},
		{name: "skips non-executable", pathEnv: path("noexec", "second"), self: self, want: real},
		{name: "skips directories", rt: "second", pathEnv: path("") + ":" + path("second"), self: self, wantErr: true},
		{name: "named runtime", rt: "crun", pathEnv: path("first", "second"), self: self, want: crun},
		{name: "absolute runtime", rt: real, pathEnv: "", self: self, want: real},
		{name: "absolute runtime is itself", rt: selfAsRunc, self: self, wantErr: true},
		{name: "absolute runtime missing", rt: filepath.Join(dir, "nope"), self: self, wantErr: true},
		{name: "absolute runtime not executable", rt: notExec, self: self, wantErr: true},
		{name: "not found", rt: "procview-no-such-runtime", pathEnv: path("first"), self: self, wantErr: true},
		{name: "self unknown", pathEnv: path("first", "second"), self: "", want: selfAsRunc},
		// An empty PATH entry is not the working directory (which holds a runc here).
		{name: "empty PATH entries", rt: "pv-test-rt", pathEnv: ":" + path("noexec") + "::", self: self, wantErr: true},
	}
	t.Chdir(filepath.Dir(real))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := FindRuntime(tt.rt, tt.pathEnv, tt.self)
			if (err != nil) != tt.wantErr {
				t.Fatalf("FindRuntime err = %v, wantErr %v (got %q)", err, tt.wantErr, got)
			}
			if got != tt.want {
				t.Errorf("FindRuntime = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestParseFeatureNamespaces(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []string
		wantErr bool
	}{
		{name: "runc 1.1.5", in: `{"ociVersionMin":"1.0.0","linux":{"namespaces":["cgroup","ipc","mount","network","pid","user","uts"]}}`,
			want: []string{"cgroup", "ipc", "mount", "network", "pid", "user", "uts"}},
		{name: "with time", in: `{"linux":{"namespaces":["mount","time"],"future":1}}`, want: []string{"mount", "time"}},
		{name: "no linux", in: `{"ociVersionMax":"1.2.0"}`},
		{name: "garbage", in: `unknown command features`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseFeatureNamespaces([]byte(tt.in))
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestRuntimeNamespaces(t *testing.T) {
	dir := t.TempDir()
	ok := filepath.Join(dir, "ok")
	writeExec(t, ok, "#!/bin/sh\n[ \"$1\" = features ] || exit 3\necho '{\"linux\":{\"namespaces\":[\"time\"]}}'\n")
	fails := filepath.Join(dir, "fails")
	writeExec(t, fails, "#!/bin/sh\necho 'unknown command features' >&2\nexit 1\n")
	hangs := filepath.Join(dir, "hangs")
	writeExec(t, hangs, "#!/bin/sh\nexec sleep 30\n")

	got, err := RuntimeNamespaces(context.Background(), ok)
	if err != nil || !cmp.Equal(got, []string{"time"}) {
		t.Errorf("ok runtime: %v, %v", got, err)
	}
	if _, err := RuntimeNamespaces(context.Background(), fails); err == nil {
		t.Error("failing runtime: want error")
	}
	start := time.Now()
	if _, err := RuntimeNamespaces(context.Background(), hangs); err == nil {
		t.Error("hanging runtime: want error")
	}
	if d := time.Since(start); d > featuresTimeout+3*time.Second {
		t.Errorf("hanging runtime took %v, want about %v", d, featuresTimeout)
	}
}

// TestCachedNamespaces: the runtime is asked once per binary; a replaced
// binary is asked again; failures are not cached.
func TestCachedNamespaces(t *testing.T) {
	dir := t.TempDir()
	calls := filepath.Join(dir, "calls")
	rt := filepath.Join(dir, "runc")
	script := func(ns string) string {
		return "#!/bin/sh\necho x >>" + calls + "\necho '{\"linux\":{\"namespaces\":[\"" + ns + "\"]}}'\n"
	}
	writeExec(t, rt, script("time"))
	count := func() int {
		b, _ := os.ReadFile(calls)
		return strings.Count(string(b), "x")
	}
	list := CachedNamespaces(filepath.Join(dir, "cache"))
	for i := range 3 {
		got, err := list(context.Background(), rt)
		if err != nil || !cmp.Equal(got, []string{"time"}) {
			t.Fatalf("call %d: %v, %v", i, got, err)
		}
	}
	if n := count(); n != 1 {
		t.Errorf("runtime asked %d times for 3 calls, want 1", n)
	}
	// An upgrade replaces the binary (new inode and times).
	if err := os.Remove(rt); err != nil {
		t.Fatal(err)
	}
	writeExec(t, rt, script("cgroup"))
	got, err := list(context.Background(), rt)
	if err != nil || !cmp.Equal(got, []string{"cgroup"}) || count() != 2 {
		t.Errorf("after upgrade: %v, %v, asked %d times, want [cgroup] from a second ask", got, err, count())
	}
	fails := filepath.Join(dir, "fails")
	writeExec(t, fails, "#!/bin/sh\necho y >>"+calls+"\nexit 1\n")
	for range 2 {
		if _, err := list(context.Background(), fails); err == nil {
			t.Error("failing runtime: want error")
		}
	}
	if b, _ := os.ReadFile(calls); strings.Count(string(b), "y") != 2 {
		t.Errorf("a failure was cached: %q", b)
	}
}

func TestHookArgs(t *testing.T) {
	tests := []struct {
		cfgPath, cmd string
		want         []string
	}{
		{config.DefaultPath, HookCmdCreateRuntime, []string{"procview-hook", "create-runtime"}},
		{"", HookCmdPoststop, []string{"procview-hook", "poststop"}},
		{"/etc/other.toml", HookCmdPoststop, []string{"procview-hook", "--config=/etc/other.toml", "poststop"}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, HookArgs(tt.cfgPath, tt.cmd)); diff != "" {
			t.Errorf("HookArgs(%q, %q) (-want +got):\n%s", tt.cfgPath, tt.cmd, diff)
		}
	}
	// A relative config path is made absolute: hooks run in the bundle.
	got := HookArgs("rel.toml", HookCmdCreateRuntime)
	wd, _ := os.Getwd()
	if want := "--config=" + filepath.Join(wd, "rel.toml"); len(got) != 3 || got[1] != want {
		t.Errorf("HookArgs(rel.toml) = %q, want %q as second arg", got, want)
	}
}

func TestHookEnv(t *testing.T) {
	wd, _ := os.Getwd()
	tests := []struct {
		log, format string
		want        []string
	}{
		{"", "json", []string{HookGoMaxProcs}},
		{"/run/x/log.json", "json", []string{HookGoMaxProcs, "PROCVIEW_RUNC_LOG=/run/x/log.json", "PROCVIEW_RUNC_LOG_FORMAT=json"}},
		{"/run/x/log", "", []string{HookGoMaxProcs, "PROCVIEW_RUNC_LOG=/run/x/log"}},
		// runc resolves a relative --log from its cwd; hooks run in the bundle.
		{"log.json", "text", []string{HookGoMaxProcs, "PROCVIEW_RUNC_LOG=" + filepath.Join(wd, "log.json"), "PROCVIEW_RUNC_LOG_FORMAT=text"}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, HookEnv(tt.log, tt.format)); diff != "" {
			t.Errorf("HookEnv(%q, %q) (-want +got):\n%s", tt.log, tt.format, diff)
		}
	}
}

// TestPrepare covers the decisions of Prepare in-process; the built-binary
// test (wrapper_test.go) covers argv and exec.
func TestPrepare(t *testing.T) {
	input, err := os.ReadFile(filepath.Join("..", "spec", "testdata", "plain.json"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		cfg        func(c *config.Config, dir string)
		args       func(bundle string) Args
		config     string // config.json content; "" = plain.json
		nss        []string
		nssErr     error
		wantErr    bool
		wantExcl   bool
		wantHooks  bool
		wantTimeNS bool
	}{
		{name: "hooks, runtime without time", nss: []string{"mount", "pid"}, wantHooks: true},
		{name: "hooks and time namespace", nss: []string{"mount", "time"}, wantHooks: true, wantTimeNS: true},
		{name: "time_namespace off", cfg: func(c *config.Config, _ string) { c.TimeNamespace = "off" }, nss: []string{"time"}, wantHooks: true},
		{name: "features fail", nssErr: errors.New("unknown command"), wantHooks: true},
		{name: "configured hook path", cfg: func(c *config.Config, dir string) { c.HookPath = filepath.Join(dir, "bin", HookName) }, wantHooks: true},
		{name: "missing hook binary", cfg: func(c *config.Config, dir string) { c.HookPath = filepath.Join(dir, "nope") }, wantErr: true},
		{name: "garbage config.json", config: "{garbage", wantErr: true},
		{name: "duplicate linux", config: `{"linux":{},"root":{"path":"rootfs"},"linux":{"seccomp":{"defaultAction":"SCMP_ACT_ERRNO"}}}`, wantErr: true},
		{name: "Hooks in another case", config: `{"Hooks":{"createRuntime":[{"path":"/bin/true"}]},"linux":{}}`, wantErr: true},
		{name: "hooks and Hooks", config: `{"hooks":{},"Hooks":{"prestart":[]},"linux":{}}`, wantErr: true},
		{name: "opt-out", config: `{"annotations":{"io.procview.enabled":"false"},"linux":{}}`, wantErr: true, wantExcl: true},
		{name: "crun -f", args: func(b string) Args { return Args{Command: "create", Bundle: b, ConfigFile: "x.json", ContainerID: "c"} }, wantErr: true},
		{name: "missing bundle", args: func(b string) Args { return Args{Command: "create", Bundle: b + "/nope", ContainerID: "c"} }, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			self := filepath.Join(dir, "bin", "procview-runc")
			writeExec(t, self, "")
			writeExec(t, filepath.Join(dir, "bin", HookName), "")
			bundle := filepath.Join(dir, "bundle")
			content := input
			if tt.config != "" {
				content = []byte(tt.config)
			}
			if err := os.MkdirAll(bundle, 0o755); err != nil {
				t.Fatal(err)
			}
			cfgPath := filepath.Join(bundle, "config.json")
			if err := os.WriteFile(cfgPath, content, 0o644); err != nil {
				t.Fatal(err)
			}
			cfg := config.Default()
			if tt.cfg != nil {
				tt.cfg(&cfg, dir)
			}
			log, _ := test.NewNullLogger()
			log.SetLevel(logrus.DebugLevel)
			w := &Wrapper{
				Config: cfg, ConfigPath: config.DefaultPath, Runtime: "/bin/false", Self: self, Log: log,
				Namespaces: func(context.Context, string) ([]string, error) { return tt.nss, tt.nssErr },
				Boottime:   func() (int64, error) { return 1234, nil },
			}
			a := Args{Command: "create", Bundle: bundle, ContainerID: "c"}
			if tt.args != nil {
				a = tt.args(bundle)
			}
			err := w.Prepare(context.Background(), a)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Prepare err = %v, wantErr %v", err, tt.wantErr)
			}
			if errors.Is(err, spec.ErrExcluded) != tt.wantExcl {
				t.Errorf("Prepare err = %v, excluded want %v", err, tt.wantExcl)
			}
			got, _ := os.ReadFile(cfgPath)
			if tt.wantErr {
				if string(got) != string(content) {
					t.Error("config.json changed although Prepare failed")
				}
				return
			}
			s, err := spec.Parse(got)
			if err != nil {
				t.Fatal(err)
			}
			hooks, _ := s.Hooks(spec.StageCreateRuntime)
			stop, _ := s.Hooks(spec.StagePoststop)
			wantPath := filepath.Join(dir, "bin", HookName)
			if tt.wantHooks != (len(hooks) == 1 && len(stop) == 1 && hooks[0].Path == wantPath && stop[0].Path == wantPath) {
				t.Errorf("hooks = %+v / %+v, want one each at %s: %v", hooks, stop, wantPath, tt.wantHooks)
			}
			if len(hooks) == 1 && (hooks[0].Timeout == nil || *hooks[0].Timeout != cfg.HookTimeout) {
				t.Errorf("hook timeout = %v, want %d", hooks[0].Timeout, cfg.HookTimeout)
			}
			nss, _ := s.Namespaces()
			hasTime := false
			for _, ns := range nss {
				hasTime = hasTime || ns.Type == "time"
			}
			if hasTime != tt.wantTimeNS {
				t.Errorf("time namespace = %v, want %v", hasTime, tt.wantTimeNS)
			}
			if tt.wantTimeNS && !strings.Contains(string(got), `"secs": -1234`) {
				t.Errorf("boottime offset -1234 missing:\n%s", got)
			}

			// A second Prepare (re-create on the same bundle) leaves the file alone.
			fi1, _ := os.Stat(cfgPath)
			if err := w.Prepare(context.Background(), a); err != nil {
				t.Fatal(err)
			}
			fi2, _ := os.Stat(cfgPath)
			if !os.SameFile(fi1, fi2) {
				t.Error("second Prepare rewrote config.json")
			}
		})
	}
}
