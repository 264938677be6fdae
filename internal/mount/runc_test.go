//go:build linux

package mount

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"
)

// The test binary doubles as a createRuntime hook for TestRuncHook: runc runs
// it with these variables set, and it calls BindInto like procview-hook does.
const (
	envHookBinds = "PROCVIEW_MOUNT_TEST_HOOK_BINDS"
	envHookOut   = "PROCVIEW_MOUNT_TEST_HOOK_OUT"
)

func TestMain(m *testing.M) {
	forceLegacy = os.Getenv(envLegacy) != ""
	if dir := os.Getenv(envSharedHelper); dir != "" {
		if err := sharedSourceHelper(dir); err != nil {
			fmt.Fprintln(os.Stderr, "shared source helper:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	if dir := os.Getenv(envSharedTargetHelper); dir != "" {
		if err := sharedTargetHelper(dir); err != nil {
			fmt.Fprintln(os.Stderr, "shared target helper:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	if os.Getenv(envHookBinds) != "" {
		if err := runTestHook(); err != nil {
			fmt.Fprintln(os.Stderr, "test hook:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// runTestHook reads the OCI state on stdin, finds the rootfs in config.json
// and bind-mounts the binds from the environment, writing the results as
// JSON to the file named by envHookOut.
func runTestHook() error {
	var binds []Bind
	if err := json.Unmarshal([]byte(os.Getenv(envHookBinds)), &binds); err != nil {
		return fmt.Errorf("decode binds: %w", err)
	}
	var state specs.State
	if err := json.NewDecoder(os.Stdin).Decode(&state); err != nil {
		return fmt.Errorf("decode state: %w", err)
	}
	data, err := os.ReadFile(filepath.Join(state.Bundle, "config.json"))
	if err != nil {
		return err
	}
	var spec struct {
		Root struct{ Path string } `json:"root"`
	}
	if err := json.Unmarshal(data, &spec); err != nil {
		return fmt.Errorf("decode config.json: %w", err)
	}
	rootfs := spec.Root.Path
	if !filepath.IsAbs(rootfs) {
		rootfs = filepath.Join(state.Bundle, rootfs)
	}
	log := logrus.New()
	log.SetOutput(os.Stderr)
	res, err := BindInto(log, state.Pid, rootfs, binds)
	if err != nil {
		return err
	}
	type out struct {
		Target, Status, Err string
		ReadOnly            bool
	}
	var outs []out
	for _, r := range res {
		o := out{Target: r.Target, Status: r.Status.String(), ReadOnly: r.ReadOnly}
		if r.Err != nil {
			o.Err = r.Err.Error()
		}
		outs = append(outs, o)
	}
	enc, err := json.Marshal(outs)
	if err != nil {
		return err
	}
	return os.WriteFile(os.Getenv(envHookOut), enc, 0o644)
}

// TestRuncHook runs a busybox container under runc with the test binary as
// createRuntime hook, and checks what the container itself reads.
func TestRuncHook(t *testing.T) {
	requireRoot(t)
	runc, err := exec.LookPath("runc")
	if err != nil {
		t.Skip("runc not installed")
	}
	busybox, err := exec.LookPath("busybox")
	if err != nil {
		t.Skip("busybox not installed")
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}

	base := t.TempDir()
	bundle := filepath.Join(base, "bundle")
	mkdir(t, bundle+"/rootfs/bin")
	for _, d := range []string{"proc", "sys", "dev", "tmp"} {
		mkdir(t, bundle+"/rootfs/"+d)
	}
	bb, err := os.ReadFile(busybox)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bundle+"/rootfs/bin/busybox", bb, 0o755); err != nil {
		t.Fatal(err)
	}
	state := filepath.Join(base, "state")
	meminfo := "MemTotal:         262144 kB\n"
	vmstat := "nr_free_pages 4242\n"
	writeFile(t, state+"/meminfo", meminfo)
	writeFile(t, state+"/vmstat", vmstat)
	writeFile(t, state+"/online", "0\n")
	binds := []Bind{
		{state + "/meminfo", "/proc/meminfo"},
		{state + "/vmstat", "/proc/vmstat"}, // not on runc's /proc allow-list
		{state + "/online", "/sys/devices/system/cpu/online"},
		{state + "/meminfo", "/proc/procview-missing"},
	}
	bindsJSON, err := json.Marshal(binds)
	if err != nil {
		t.Fatal(err)
	}
	hookOut := filepath.Join(base, "hook.json")

	spec := exec.Command(runc, "spec", "--bundle", bundle)
	if out, err := spec.CombinedOutput(); err != nil {
		t.Fatalf("runc spec: %v: %s", err, out)
	}
	var cfg specs.Spec
	data, err := os.ReadFile(bundle + "/config.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &cfg); err != nil {
		t.Fatal(err)
	}
	id := fmt.Sprintf("procview-test-mount-%d", os.Getpid())
	cfg.Process.Terminal = false
	cfg.Process.Args = []string{"/bin/busybox", "sh", "-c", `
cat /proc/meminfo; echo ---
cat /proc/vmstat; echo ---
cat /sys/devices/system/cpu/online; echo ---
if (echo x > /proc/meminfo) 2>/dev/null; then echo rw; else echo ro; fi`}
	cfg.Linux.CgroupsPath = "/" + id
	cfg.Hooks = &specs.Hooks{CreateRuntime: []specs.Hook{{
		Path: self,
		Args: []string{self, "-test.run=^$"},
		Env:  []string{envHookBinds + "=" + string(bindsJSON), envHookOut + "=" + hookOut},
	}}}
	if forceLegacy {
		cfg.Hooks.CreateRuntime[0].Env = append(cfg.Hooks.CreateRuntime[0].Env, envLegacy+"=1")
	}
	data, err = json.Marshal(&cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bundle+"/config.json", data, 0o644); err != nil {
		t.Fatal(err)
	}

	runcRoot := filepath.Join(base, "runc")
	t.Cleanup(func() { exec.Command(runc, "--root", runcRoot, "delete", "--force", id).Run() })
	var stdout, stderr bytes.Buffer
	run := exec.Command(runc, "--root", runcRoot, "run", "--bundle", bundle, id)
	run.Stdin, run.Stdout, run.Stderr = nil, &stdout, io.MultiWriter(&stderr)
	if err := run.Run(); err != nil {
		t.Fatalf("runc run: %v\nstdout: %s\nstderr: %s", err, stdout.String(), stderr.String())
	}

	parts := strings.Split(stdout.String(), "---\n")
	want := []string{meminfo, vmstat, "0\n", "ro\n"}
	if len(parts) != len(want) {
		t.Fatalf("container output %q, want %d parts", stdout.String(), len(want))
	}
	for i := range want {
		if parts[i] != want[i] {
			t.Errorf("container part %d = %q, want %q", i, parts[i], want[i])
		}
	}

	data, err = os.ReadFile(hookOut)
	if err != nil {
		t.Fatalf("hook results: %v (runc stderr: %s)", err, stderr.String())
	}
	var res []struct {
		Target, Status, Err string
		ReadOnly            bool
	}
	if err := json.Unmarshal(data, &res); err != nil {
		t.Fatal(err)
	}
	wantStatus := []Status{StatusMounted, StatusMounted, StatusMounted, StatusMissing}
	if len(res) != len(wantStatus) {
		t.Fatalf("hook results %s", data)
	}
	for i, r := range res {
		if r.Status != wantStatus[i].String() {
			t.Errorf("hook: %s %s (%s), want %v", r.Target, r.Status, r.Err, wantStatus[i])
		}
	}
	hostLeak(t, base)
}
