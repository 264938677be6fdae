package spec

import (
	"encoding/json"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

var testNotify = NotifySyscalls{
	Syscalls:      []string{"sysinfo"},
	ListenerPath:  "/run/procview/seccomp.sock",
	Metadata:      "c1",
	Architectures: []string{"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"},
}

// applyNotify applies testNotify to doc and returns the seccomp profile
// after, the reason it gave, and whether the spec changed.
func applyNotify(t *testing.T, doc string) (*specs.LinuxSeccomp, string, bool, *Spec) {
	t.Helper()
	s, err := Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	var reason string
	n := testNotify
	n.Skipped = &reason
	if err := n.Modify(s); err != nil {
		t.Fatal(err)
	}
	b, err := s.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	var out specs.Spec
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	if out.Linux == nil {
		return nil, reason, s.Changed(), s
	}
	return out.Linux.Seccomp, reason, s.Changed(), s
}

// dockerLike has the shape of docker's and podman's default profiles:
// defaultAction ERRNO, sysinfo in the big allow rule, conditional rules for
// other syscalls, and fields procview does not know.
const dockerLike = `{"ociVersion":"1.0.2","linux":{"seccomp":{
	"defaultAction":"SCMP_ACT_ERRNO","defaultErrnoRet":1,
	"architectures":["SCMP_ARCH_X86_64","SCMP_ARCH_X86","SCMP_ARCH_X32"],
	"flags":["SECCOMP_FILTER_FLAG_SPEC_ALLOW"],
	"x-future":{"keep":12345678901234567890},
	"syscalls":[
		{"names":["read","sysinfo","write"],"action":"SCMP_ACT_ALLOW","comment":"big rule"},
		{"names":["personality"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":0,"op":"SCMP_CMP_EQ"}]},
		{"names":["sysinfo"],"action":"SCMP_ACT_ALLOW"}
	]}}}`

func TestNotifySyscallsDockerLike(t *testing.T) {
	p, reason, changed, s := applyNotify(t, dockerLike)
	if reason != "" || !changed {
		t.Fatalf("reason %q, changed %v", reason, changed)
	}
	if p.ListenerPath != testNotify.ListenerPath || p.ListenerMetadata != "c1" {
		t.Errorf("listener %q %q", p.ListenerPath, p.ListenerMetadata)
	}
	if p.DefaultAction != specs.ActErrno || len(p.Architectures) != 3 || len(p.Flags) != 1 {
		t.Errorf("profile basics changed: %+v", p)
	}
	// The notify rule first; sysinfo gone from every other rule; a rule
	// that named only sysinfo dropped; the rest untouched.
	if len(p.Syscalls) != 3 {
		t.Fatalf("rules %+v", p.Syscalls)
	}
	if r := p.Syscalls[0]; r.Action != specs.ActNotify || strings.Join(r.Names, ",") != "sysinfo" {
		t.Errorf("first rule %+v", r)
	}
	if r := p.Syscalls[1]; strings.Join(r.Names, ",") != "read,write" || r.Action != specs.ActAllow {
		t.Errorf("big rule %+v", r)
	}
	if r := p.Syscalls[2]; len(r.Args) != 1 || r.Names[0] != "personality" {
		t.Errorf("conditional rule %+v", r)
	}
	b, _ := s.Marshal()
	for _, want := range []string{`"comment": "big rule"`, `12345678901234567890`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("lost %s:\n%s", want, b)
		}
	}
	// Applied again: nothing changes (the profile now has a listenerPath).
	var reason2 string
	n := testNotify
	n.Skipped = &reason2
	s2, _ := Parse(b)
	if err := n.Modify(s2); err != nil || s2.Changed() || !strings.Contains(reason2, "listenerPath") {
		t.Errorf("second application: err %v changed %v reason %q", err, s2.Changed(), reason2)
	}
}

func TestNotifySyscallsNoProfile(t *testing.T) {
	for _, doc := range []string{`{"linux":{}}`, `{"linux":{"seccomp":null}}`} {
		p, reason, changed, _ := applyNotify(t, doc)
		if reason != "" || !changed || p == nil {
			t.Fatalf("%s: reason %q changed %v", doc, reason, changed)
		}
		if p.DefaultAction != specs.ActAllow || len(p.Syscalls) != 1 || p.Syscalls[0].Action != specs.ActNotify ||
			len(p.Architectures) != 3 || p.Architectures[1] != specs.ArchX86 ||
			p.ListenerPath == "" {
			t.Errorf("%s: added profile %+v", doc, p)
		}
	}
	// No architectures known: no profile is added.
	s, _ := Parse([]byte(`{"linux":{}}`))
	var reason string
	n := testNotify
	n.Architectures, n.Skipped = nil, &reason
	if err := n.Modify(s); err != nil || s.Changed() || reason == "" {
		t.Errorf("without architectures: err %v changed %v reason %q", err, s.Changed(), reason)
	}
}

func TestNotifySyscallsLeftAlone(t *testing.T) {
	for _, tc := range []struct{ name, doc, reason string }{
		{"own listener", `{"linux":{"seccomp":{"defaultAction":"SCMP_ACT_ALLOW","listenerPath":"/run/other.sock",
			"syscalls":[{"names":["mkdir"],"action":"SCMP_ACT_NOTIFY"}]}}}`, "own listenerPath"},
		{"denied by rule", `{"linux":{"seccomp":{"defaultAction":"SCMP_ACT_ALLOW",
			"syscalls":[{"names":["sysinfo"],"action":"SCMP_ACT_ERRNO","errnoRet":1},{"names":["sysinfo"],"action":"SCMP_ACT_ALLOW"}]}}}`, `"SCMP_ACT_ERRNO"`},
		{"denied by default", `{"linux":{"seccomp":{"defaultAction":"SCMP_ACT_KILL",
			"syscalls":[{"names":["read"],"action":"SCMP_ACT_ALLOW"}]}}}`, `"SCMP_ACT_KILL"`},
		{"trapped", `{"linux":{"seccomp":{"defaultAction":"SCMP_ACT_ALLOW",
			"syscalls":[{"names":["sysinfo"],"action":"SCMP_ACT_TRACE"}]}}}`, `"SCMP_ACT_TRACE"`},
		{"conditional", `{"linux":{"seccomp":{"defaultAction":"SCMP_ACT_ERRNO",
			"syscalls":[{"names":["sysinfo"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":0,"op":"SCMP_CMP_NE"}]}]}}}`, "argument conditions"},
		{"no linux", `{"process":{}}`, "no linux"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, reason, changed, _ := applyNotify(t, tc.doc)
			if changed || !strings.Contains(reason, tc.reason) {
				t.Errorf("changed %v, reason %q, want it to contain %q", changed, reason, tc.reason)
			}
		})
	}
}

func TestNotifySyscallsLogAllowed(t *testing.T) {
	p, reason, changed, _ := applyNotify(t, `{"linux":{"seccomp":{"defaultAction":"SCMP_ACT_LOG"}}}`)
	if reason != "" || !changed || p.Syscalls[0].Action != specs.ActNotify || p.DefaultAction != specs.ActLog {
		t.Errorf("reason %q changed %v profile %+v", reason, changed, p)
	}
}

func TestNotifySyscallsBadProfile(t *testing.T) {
	for _, doc := range []string{
		`{"linux":{"seccomp":[]}}`,
		`{"linux":{"seccomp":{"syscalls":{}}}}`,
		`{"linux":{"seccomp":{"defaultAction":7}}}`,
		`{"linux":{"seccomp":{"listenerPath":7}}}`,
	} {
		s, err := Parse([]byte(doc))
		if err != nil {
			t.Fatal(err)
		}
		if err := testNotify.Modify(s); err == nil {
			t.Errorf("%s: no error", doc)
		}
	}
}
