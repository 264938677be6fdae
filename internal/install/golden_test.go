package install

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"
	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite golden files")

const testWrapper = "/usr/local/bin/procview-runc"

// goldenCase is one engine config file. invertible says that uninstall of
// install's output gives the input back byte for byte; the others are
// restored from the backup file instead (tested in cli_test.go), with why.
type goldenCase struct {
	name       string
	invertible bool
	why        string
	foreign    bool // procview defined by hand: install and uninstall leave it
}

type formatFuncs struct {
	install   func([]byte) ([]byte, bool, error)
	uninstall func([]byte) ([]byte, bool, error)
	valid     func(t *testing.T, b []byte, installed bool) // parses; procview present iff installed
}

var goldenEngines = map[string]struct {
	funcs formatFuncs
	cases []goldenCase
}{
	"docker": {
		funcs: formatFuncs{
			install:   func(b []byte) ([]byte, bool, error) { return DockerInstall(b, testWrapper) },
			uninstall: DockerUninstall,
			valid:     validDocker,
		},
		cases: []goldenCase{
			{name: "missing", why: `uninstall leaves "{}": the file is then removed (no backup)`},
			{name: "empty", why: `uninstall leaves "{}": the backup restores the empty file`},
			{name: "blank", why: `uninstall leaves "{}": the backup restores the blank file`},
			{name: "empty-object", invertible: true},
			{name: "compact", invertible: true},
			{name: "other-keys", invertible: true},
			{name: "tabs", invertible: true},
			{name: "other-runtimes", invertible: true},
			{name: "one-line-runtimes", invertible: true},
			{name: "empty-runtimes", why: `uninstall drops "runtimes" once empty`},
			{name: "existing-procview", why: "already configured: install changes nothing"},
			{name: "existing-procview-other-path", why: "the old entry is replaced"},
			{name: "procview-first", why: "already configured: install changes nothing"},
		},
	},
	"containerd": {
		funcs: formatFuncs{
			install:   func(b []byte) ([]byte, bool, error) { return ContainerdInstall(b, testWrapper) },
			uninstall: ContainerdUninstall,
			valid:     validContainerd,
		},
		cases: []goldenCase{
			{name: "missing", invertible: true},
			{name: "empty", invertible: true},
			{name: "comments-only", invertible: true},
			{name: "v1", invertible: true},
			{name: "v2-default", invertible: true},
			{name: "v2-debian", invertible: true},
			{name: "v2-systemd", invertible: true},
			{name: "v2-no-eol", invertible: true},
			{name: "v3-default", invertible: true},
			{name: "default-runtime-crun", invertible: true},
			{name: "existing-procview", why: "configured by hand: install changes nothing", foreign: true},
			{name: "installed-other-bindir", why: "procview's old block is replaced"},
		},
	},
}

func TestGolden(t *testing.T) {
	for engine, e := range goldenEngines {
		dir := filepath.Join("testdata", "golden", engine)
		checkCaseList(t, dir, e.cases)
		for _, c := range e.cases {
			t.Run(engine+"/"+c.name, func(t *testing.T) {
				in := readInput(t, filepath.Join(dir, c.name+".in"))
				out, changed, err := e.funcs.install(in)
				if err != nil {
					t.Fatalf("install: %v", err)
				}
				if changed == bytes.Equal(in, out) {
					t.Errorf("install: changed = %v, but output equal to input = %v", changed, bytes.Equal(in, out))
				}
				compareGolden(t, filepath.Join(dir, c.name+".out"), out)
				if c.foreign {
					if changed {
						t.Errorf("install changed a file whose procview runtime was defined by hand")
					}
				} else {
					e.funcs.valid(t, out, true)
				}

				// Idempotent: a second install changes nothing.
				again, changed2, err := e.funcs.install(out)
				if err != nil || changed2 || !bytes.Equal(again, out) {
					t.Errorf("second install: changed = %v, err = %v, diff (-first +second):\n%s", changed2, err, cmp.Diff(string(out), string(again)))
				}

				un, _, err := e.funcs.uninstall(in)
				if err != nil {
					t.Fatalf("uninstall: %v", err)
				}
				compareGolden(t, filepath.Join(dir, c.name+".un"), un)

				back, _, err := e.funcs.uninstall(out)
				if err != nil {
					t.Fatalf("uninstall after install: %v", err)
				}
				if c.invertible && !bytes.Equal(back, in) {
					t.Errorf("uninstall(install(x)) != x; diff (-x +got):\n%s", cmp.Diff(string(in), string(back)))
				}
				if !c.invertible && c.why == "" {
					t.Errorf("case %s is not invertible but says not why", c.name)
				}
				if len(back) > 0 && !c.foreign {
					e.funcs.valid(t, back, false)
				}
				if c.foreign && !bytes.Equal(back, in) {
					t.Errorf("uninstall touched a procview runtime it did not add; diff (-in +got):\n%s", cmp.Diff(string(in), string(back)))
				}
			})
		}
	}
}

// checkCaseList fails when a .in file has no case (or a case no file), so
// that a new input cannot be silently skipped.
func checkCaseList(t *testing.T, dir string, cases []goldenCase) {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.in"))
	if err != nil {
		t.Fatal(err)
	}
	var have, want []string
	for _, f := range files {
		have = append(have, strings.TrimSuffix(filepath.Base(f), ".in"))
	}
	for _, c := range cases {
		if c.name != "missing" {
			want = append(want, c.name)
		}
	}
	sort.Strings(have)
	sort.Strings(want)
	if d := cmp.Diff(want, have); d != "" {
		t.Errorf("%s: cases and .in files differ (-cases +files):\n%s", dir, d)
	}
}

// readInput returns the file's bytes, nil for a missing one ("missing" case).
func readInput(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func compareGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(want, got) {
		t.Errorf("%s differs (-want +got):\n%s", path, cmp.Diff(string(want), string(got)))
	}
}

// validDocker checks that the output is JSON, and whether dockerd would
// find runtimes.procview with path testWrapper in it.
func validDocker(t *testing.T, b []byte, installed bool) {
	t.Helper()
	if len(bytes.TrimSpace(b)) == 0 {
		return
	}
	var doc struct {
		Runtimes map[string]map[string]any `json:"runtimes"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, b)
	}
	got, ok := doc.Runtimes[RuntimeName]
	switch {
	case installed && !cmp.Equal(got, map[string]any{"path": testWrapper}):
		t.Errorf("runtimes.procview = %v, want path %s only", got, testWrapper)
	case !installed && ok:
		t.Errorf("runtimes.procview still there: %v", got)
	}
}

// validContainerd checks that the output is TOML, and whether containerd
// would find the procview runtime with BinaryName testWrapper in it.
func validContainerd(t *testing.T, b []byte, installed bool) {
	t.Helper()
	var doc map[string]any
	if _, err := toml.Decode(string(b), &doc); err != nil {
		t.Fatalf("not TOML: %v\n%s", err, b)
	}
	var found any
	for _, plugin := range []string{"cri", "io.containerd.grpc.v1.cri", "io.containerd.cri.v1.runtime"} {
		if r := lookup(doc, "plugins", plugin, "containerd", "runtimes", RuntimeName); r != nil {
			found = r
		}
	}
	switch {
	case installed && lookup(found, "options", "BinaryName") != testWrapper:
		t.Errorf("runtimes.procview = %v, want BinaryName %s", found, testWrapper)
	case installed && lookup(found, "runtime_type") != "io.containerd.runc.v2":
		t.Errorf("runtimes.procview = %v, want runtime_type io.containerd.runc.v2", found)
	case !installed && found != nil:
		t.Errorf("runtimes.procview still there: %v", found)
	}
}

// SystemdCgroup follows the default runtime's, because runc.v2 options are
// per runtime and a mismatch with the kubelet's driver breaks pods.
func TestContainerdSystemdCgroup(t *testing.T) {
	for _, tc := range []struct {
		name string
		want any // nil: not set
	}{
		{"v2-default", false},
		{"v2-systemd", true},
		{"v3-default", true},
		{"default-runtime-crun", true}, // crun's, not runc's
		{"v2-debian", nil},
		{"v1", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := readInput(t, filepath.Join("testdata", "golden", "containerd", tc.name+".in"))
			out, _, err := ContainerdInstall(in, testWrapper)
			if err != nil {
				t.Fatal(err)
			}
			var doc map[string]any
			if _, err := toml.Decode(string(out), &doc); err != nil {
				t.Fatal(err)
			}
			var got any
			for _, plugin := range []string{"cri", "io.containerd.grpc.v1.cri", "io.containerd.cri.v1.runtime"} {
				if v := lookup(doc, "plugins", plugin, "containerd", "runtimes", RuntimeName, "options", "SystemdCgroup"); v != nil {
					got = v
				}
			}
			if got != tc.want {
				t.Errorf("SystemdCgroup = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestInstallErrors(t *testing.T) {
	for _, tc := range []struct {
		name    string
		install func([]byte) ([]byte, bool, error)
		in      string
		wantErr string
	}{
		{"docker not JSON", dockerFn, "{\"a\": 1,}\n", "not valid JSON"},
		{"docker array", dockerFn, "[]\n", "not a JSON object"},
		{"docker runtimes not object", dockerFn, "{\"runtimes\": null}\n", "runtimes"},
		{"containerd not TOML", containerdFn, "version = = 2\n", "parse TOML"},
		{"containerd version 4", containerdFn, "version = 4\n", "unsupported containerd config version 4"},
		{"containerd inline runtimes", containerdFn,
			"version = 2\n[plugins.\"io.containerd.grpc.v1.cri\".containerd]\n  runtimes = { runc = { runtime_type = \"io.containerd.runc.v2\" } }\n",
			"inline"},
		{"containerd unterminated block", containerdFn, "version = 2\n" + beginText + "\n", "without"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := tc.install([]byte(tc.in))
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("err = %v, want one containing %q", err, tc.wantErr)
			}
		})
	}
}

func dockerFn(b []byte) ([]byte, bool, error)     { return DockerInstall(b, testWrapper) }
func containerdFn(b []byte) ([]byte, bool, error) { return ContainerdInstall(b, testWrapper) }

func decodeTOML(b []byte, v any) error {
	_, err := toml.Decode(string(b), v)
	return err
}
