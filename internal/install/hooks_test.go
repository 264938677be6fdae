package install

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// The hooks.d files install writes are the repository's templates
// (oci-hooks.d/*.json, which make install copies) with @BINDIR@ filled in.
func TestHookJSONMatchesTemplates(t *testing.T) {
	templates, err := filepath.Glob(filepath.Join("..", "..", "oci-hooks.d", "*.json"))
	if err != nil || len(templates) == 0 {
		t.Fatalf("no templates in oci-hooks.d: %v", err)
	}
	var names []string
	for _, tp := range templates {
		name := filepath.Base(tp)
		names = append(names, name)
		tmpl, err := os.ReadFile(tp)
		if err != nil {
			t.Fatal(err)
		}
		got, err := HookJSON(name, "/opt/pv bin")
		if err != nil {
			t.Fatal(err)
		}
		want := strings.ReplaceAll(string(tmpl), "@BINDIR@", "/opt/pv bin")
		if d := cmp.Diff(want, string(got)); d != "" {
			t.Errorf("%s (-template +HookJSON):\n%s", name, d)
		}
		var h struct {
			Hook struct{ Path string }
		}
		if err := json.Unmarshal(got, &h); err != nil || h.Hook.Path != "/opt/pv bin/"+HookName {
			t.Errorf("%s: hook path %q, err %v", name, h.Hook.Path, err)
		}
	}
	var ours []string
	for _, h := range hookFiles {
		ours = append(ours, h.name)
	}
	sort.Strings(ours)
	if d := cmp.Diff(names, ours); d != "" {
		t.Errorf("hook files (-templates +install):\n%s", d)
	}
}

// A bin dir that needs escaping stays valid JSON and TOML.
func TestDropInsQuotePaths(t *testing.T) {
	dir := `/opt/a "b"\c`
	b, err := HookJSON("procview.json", dir)
	if err != nil {
		t.Fatal(err)
	}
	var h struct{ Hook struct{ Path string } }
	if err := json.Unmarshal(b, &h); err != nil || h.Hook.Path != dir+"/"+HookName {
		t.Errorf("hook path %q, err %v", h.Hook.Path, err)
	}
	for name, text := range map[string][]byte{"podman": PodmanDropIn(dir), "crio": CrioDropIn(dir)} {
		var doc map[string]any
		if err := decodeTOML(text, &doc); err != nil {
			t.Errorf("%s drop-in: %v\n%s", name, err, text)
			continue
		}
		got := lookup(doc, "crio", "runtime", "runtimes", RuntimeName, "runtime_path")
		if name == "podman" {
			arr, _ := lookup(doc, "engine", "runtimes", RuntimeName).([]any)
			if len(arr) == 1 {
				got = arr[0]
			}
		}
		if got != dir+"/"+WrapperName {
			t.Errorf("%s drop-in: runtime path %v, want %s", name, got, dir+"/"+WrapperName)
		}
	}
}
