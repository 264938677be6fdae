package hook

import (
	"encoding/json"
	"strings"
	"testing"
)

// FuzzParseState: ParseState never panics, refuses oversized documents and
// documents without an id, and what it accepts survives a re-encode.
func FuzzParseState(f *testing.F) {
	for _, s := range []string{
		`{"ociVersion":"1.0.2","id":"c1","status":"creating","pid":4242,"bundle":"/b","annotations":{"io.procview.enabled":"false"}}`,
		`{"id":"../../etc","pid":-1,"bundle":"../../"}`,
		`{"id":"a/b","pid":99999999999999999999}`,
		`{"id":""}`, `{}`, `null`, `[]`, `"x"`, `{"id":1}`, `{"id":"x","annotations":null}`,
		`{"id":"x","id":"y"}`, "{\"id\":\"\\u0000\"}",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		st, err := ParseState(b)
		if len(b) > maxStateSize && err == nil {
			t.Fatalf("accepted %d bytes", len(b))
		}
		if err != nil {
			if st != nil {
				t.Fatalf("state %+v returned with error %v", st, err)
			}
			if strings.TrimSpace(err.Error()) == "" {
				t.Fatal("empty error")
			}
			return
		}
		if st.ID == "" {
			t.Fatal("accepted a state without id")
		}
		again, err := json.Marshal(st)
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		st2, err := ParseState(again)
		if err != nil {
			t.Fatalf("re-encoded state %s refused: %v", again, err)
		}
		if st2.ID != st.ID || st2.Pid != st.Pid || st2.Bundle != st.Bundle || len(st2.Annotations) != len(st.Annotations) {
			t.Fatalf("round trip changed %+v into %+v", st, st2)
		}
	})
}
