package spec

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// fuzzMods are the wrapper's edits: both hooks and a time namespace.
func fuzzMods() Modifiers {
	timeout := 10
	return Modifiers{
		AddHook{Stage: StageCreateRuntime, Hook: specs.Hook{
			Path: "/usr/local/bin/procview-hook", Args: []string{"procview-hook", "createRuntime"}, Timeout: &timeout}},
		AddHook{Stage: StagePoststop, Hook: specs.Hook{
			Path: "/usr/local/bin/procview-hook", Args: []string{"procview-hook", "poststop"}}},
		TimeNamespace{BoottimeOffset: -12345},
	}
}

// FuzzEdit: Parse + the wrapper's modifiers + Marshal never panic; the
// output parses again, a second edit changes nothing (idempotent), and every
// top-level member procview does not edit keeps its value.
func FuzzEdit(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.json")
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	for _, s := range []string{`{}`, `null`, `[]`, `{"hooks":null,"linux":null}`, `{"hooks":[]}`,
		`{"linux":{"namespaces":{}}}`, `{"hooks":{"createRuntime":[{"path":1}]}}`,
		`{"process":{"args":["sh"]},"big":123456789012345678901234567890,"x":"<&>"}`,
		`{"linux":{"namespaces":[{"type":"time","path":"/proc/1/ns/time"}]}}`, `{"a":1} {"b":2}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := Parse(b)
		if err != nil {
			return
		}
		if err := fuzzMods().Modify(s); err != nil {
			return // malformed hooks or namespaces: the wrapper fails open
		}
		out, err := s.Marshal()
		if err != nil {
			t.Fatalf("marshal after edit: %v", err)
		}
		s2, err := Parse(out)
		if err != nil {
			t.Fatalf("edited document does not parse: %v\n%s", err, out)
		}
		if err := fuzzMods().Modify(s2); err != nil {
			t.Fatalf("second edit: %v", err)
		}
		if s2.Changed() {
			t.Fatalf("second edit changed the document:\n%s", out)
		}
		out2, err := s2.Marshal()
		if err != nil {
			t.Fatalf("marshal again: %v", err)
		}
		if !bytes.Equal(out, out2) {
			t.Fatalf("round trip changed the document:\n%s\n---\n%s", out, out2)
		}
		var before, after map[string]json.RawMessage
		if json.Unmarshal(b, &before) != nil || json.Unmarshal(out, &after) != nil {
			return
		}
		for k, v := range before {
			if k == "hooks" || k == "linux" {
				continue
			}
			if !sameJSON(v, after[k]) {
				t.Fatalf("member %q changed from %s to %s", k, v, after[k])
			}
		}
	})
}

func sameJSON(a, b []byte) bool {
	var ca, cb bytes.Buffer
	if json.Compact(&ca, a) != nil || json.Compact(&cb, b) != nil {
		return false
	}
	return bytes.Equal(ca.Bytes(), cb.Bytes())
}
