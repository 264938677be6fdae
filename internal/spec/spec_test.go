package spec

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

var update = flag.Bool("update", false, "rewrite golden files")

const testBoottimeOffset = -4242

func intp(i int) *int { return &i }

var (
	testCreateHook = specs.Hook{Path: "/usr/local/bin/procview-hook", Args: []string{"procview-hook", "create-runtime"}, Timeout: intp(10)}
	testStopHook   = specs.Hook{Path: "/usr/local/bin/procview-hook", Args: []string{"procview-hook", "poststop"}, Timeout: intp(10)}
)

func testMods(withTime bool) Modifier {
	m := Modifiers{
		AddHook{Stage: StageCreateRuntime, Hook: testCreateHook},
		AddHook{Stage: StagePoststop, Hook: testStopHook},
	}
	if withTime {
		m = append(m, TimeNamespace{BoottimeOffset: testBoottimeOffset})
	}
	return m
}

func TestModifyGolden(t *testing.T) {
	tests := []struct {
		name     string
		withTime bool
		// wantTime: a new time namespace and boottime offset are expected
		wantTime bool
	}{
		{name: "plain", withTime: true, wantTime: true},
		{name: "plain-notime", withTime: false},
		{name: "existing-hooks", withTime: true, wantTime: true},
		{name: "null-hooks", withTime: true, wantTime: true},
		{name: "time-joined", withTime: true},
		{name: "enabled-true", withTime: false},
		{name: "no-linux", withTime: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inName := strings.TrimSuffix(tt.name, "-notime")
			in, err := os.ReadFile(filepath.Join("testdata", inName+".json"))
			if err != nil {
				t.Fatal(err)
			}
			s, err := Parse(in)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if err := Excluded(s); err != nil {
				t.Fatalf("Excluded = %v, want nil", err)
			}
			if err := testMods(tt.withTime).Modify(s); err != nil {
				t.Fatalf("Modify: %v", err)
			}
			if !s.Changed() {
				t.Fatal("Changed() = false after adding hooks")
			}
			got, err := s.Marshal()
			if err != nil {
				t.Fatal(err)
			}

			golden := filepath.Join("testdata", "golden", tt.name+".json")
			if *update {
				if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("read golden (run with -update to create): %v", err)
			}
			if diff := cmp.Diff(string(want), string(got)); diff != "" {
				t.Errorf("%s mismatch (-want +got):\n%s", golden, diff)
			}

			// Independent of the golden file: everything in the input is
			// still there with the same value, and what was added is ours.
			inV, outV := decodeGeneric(t, in), decodeGeneric(t, got)
			if path, ok := contains(inV, outV, ""); !ok {
				t.Errorf("input value at %s lost or changed", path)
			}
			for _, lit := range []string{"2.50", "18446744073709551615", "1e400", "123456789012345678901234567890", `"\u00e9\u003c"`, `"<a&b>"`, `"a<b && c>d"`} {
				if bytes.Contains(in, []byte(lit)) && !bytes.Contains(got, []byte(lit)) {
					t.Errorf("literal %s not kept byte for byte", lit)
				}
			}
			s2, err := Parse(got)
			if err != nil {
				t.Fatal(err)
			}
			for stage, h := range map[string]specs.Hook{StageCreateRuntime: testCreateHook, StagePoststop: testStopHook} {
				hooks, err := s2.Hooks(stage)
				if err != nil {
					t.Fatal(err)
				}
				n := 0
				for _, e := range hooks {
					if cmp.Equal(e, h) {
						n++
					}
				}
				if n != 1 {
					t.Errorf("%s: our hook present %d times, want 1", stage, n)
				}
			}
			nss, err := s2.Namespaces()
			if err != nil {
				t.Fatal(err)
			}
			nTime := 0
			for _, ns := range nss {
				if ns.Type == specs.TimeNamespace {
					nTime++
				}
			}
			inNs := 0
			if strings.Contains(string(in), `"time"`) {
				inNs = 1
			}
			wantTime := inNs
			if tt.wantTime {
				wantTime = 1
			}
			if nTime != wantTime {
				t.Errorf("time namespaces = %d, want %d", nTime, wantTime)
			}
			hasOffset := strings.Contains(string(got), `"boottime"`)
			if hasOffset != tt.wantTime {
				t.Errorf("boottime offset present = %v, want %v", hasOffset, tt.wantTime)
			}

			// Idempotent: a second pass over the patched spec changes nothing.
			if err := testMods(tt.withTime).Modify(s2); err != nil {
				t.Fatal(err)
			}
			if s2.Changed() {
				t.Error("second Modify changed an already patched spec")
			}
		})
	}
}

func TestExcluded(t *testing.T) {
	for _, name := range []string{"sandbox-containerd", "sandbox-crio", "sandbox-docker", "optout-false", "optout-off", "optout-0", "optout-no"} {
		t.Run(name, func(t *testing.T) {
			s, err := Read(filepath.Join("testdata", name+".json"))
			if err != nil {
				t.Fatal(err)
			}
			if err := Excluded(s); !errors.Is(err, ErrExcluded) {
				t.Errorf("Excluded = %v, want ErrExcluded", err)
			}
		})
	}
	for _, name := range []string{"plain", "enabled-true", "no-linux"} {
		t.Run(name, func(t *testing.T) {
			s, err := Read(filepath.Join("testdata", name+".json"))
			if err != nil {
				t.Fatal(err)
			}
			if err := Excluded(s); err != nil {
				t.Errorf("Excluded = %v, want nil", err)
			}
		})
	}
}

func TestBadSpecs(t *testing.T) {
	tests := []struct {
		name      string
		in        string
		parseErr  bool
		modifyErr bool
		exclErr   bool
	}{
		{name: "garbage", in: "not json", parseErr: true},
		{name: "empty", in: "", parseErr: true},
		{name: "top-level array", in: "[]", parseErr: true},
		{name: "top-level null", in: "null", parseErr: true},
		{name: "trailing data", in: `{"a":1} {"b":2}`, parseErr: true},
		{name: "truncated", in: `{"ociVersion": "1.0.2", "linux": {`, parseErr: true},
		{name: "hooks is an array", in: `{"hooks": []}`, modifyErr: true},
		{name: "stage is an object", in: `{"hooks": {"createRuntime": {}}}`, modifyErr: true},
		{name: "hook is a string", in: `{"hooks": {"poststop": ["x"]}}`, modifyErr: true},
		{name: "namespaces is a string", in: `{"linux": {"namespaces": "x"}}`, modifyErr: true},
		{name: "timeOffsets is a list", in: `{"linux": {"namespaces": [], "timeOffsets": []}}`, modifyErr: true},
		{name: "annotation not a string", in: `{"annotations": {"a": 1}}`, exclErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Parse([]byte(tt.in))
			if (err != nil) != tt.parseErr {
				t.Fatalf("Parse err = %v, want error %v", err, tt.parseErr)
			}
			if err != nil {
				return
			}
			err = Excluded(s)
			if (err != nil) != tt.exclErr {
				t.Errorf("Excluded err = %v, want error %v", err, tt.exclErr)
			}
			err = testMods(true).Modify(s)
			if (err != nil) != tt.modifyErr {
				t.Errorf("Modify err = %v, want error %v", err, tt.modifyErr)
			}
		})
	}
}

func TestWriteFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.json")
	if err := os.WriteFile(path, []byte(`{"old":true}`), 0o600); err != nil {
		t.Fatal(err)
	}
	var before syscall.Stat_t
	if err := syscall.Stat(path, &before); err != nil {
		t.Fatal(err)
	}
	// Hold the old file open: a reader must keep seeing the old content.
	old, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()

	want := []byte("{\"new\":true}\n")
	if err := WriteFile(path, want); err != nil {
		t.Fatalf("WriteFile: %v", err)
	}
	got, _ := os.ReadFile(path)
	if !bytes.Equal(got, want) {
		t.Errorf("content = %q, want %q", got, want)
	}
	fi, _ := os.Stat(path)
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode = %v, want 0600 kept", fi.Mode().Perm())
	}
	var after syscall.Stat_t
	_ = syscall.Stat(path, &after)
	if after.Ino == before.Ino {
		t.Error("inode unchanged: file was rewritten in place, not renamed")
	}
	oldContent := make([]byte, 64)
	n, _ := old.Read(oldContent)
	if string(oldContent[:n]) != `{"old":true}` {
		t.Errorf("open reader saw %q, want the old content", oldContent[:n])
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries, want only config.json (temp file left?)", len(entries))
	}

	if err := WriteFile(filepath.Join(dir, "missing", "config.json"), want); err == nil {
		t.Error("WriteFile into a missing directory: want error")
	}
}

func decodeGeneric(t *testing.T, b []byte) any {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		t.Fatalf("decode: %v", err)
	}
	return v
}

// contains reports whether every value of in is in out: objects may gain
// keys, arrays may gain trailing elements, a null may become a value;
// scalars (numbers as their literal text) must be equal.
func contains(in, out any, path string) (string, bool) {
	switch iv := in.(type) {
	case nil:
		return path, true
	case map[string]any:
		ov, ok := out.(map[string]any)
		if !ok {
			return path, false
		}
		for k, v := range iv {
			o, ok := ov[k]
			if !ok {
				return path + "." + k, false
			}
			if p, ok := contains(v, o, path+"."+k); !ok {
				return p, false
			}
		}
		return path, true
	case []any:
		ov, ok := out.([]any)
		if !ok || len(ov) < len(iv) {
			return path, false
		}
		for i := range iv {
			if p, ok := contains(iv[i], ov[i], path+"["+strconv.Itoa(i)+"]"); !ok {
				return p, false
			}
		}
		return path, true
	default:
		return path, in == out
	}
}
