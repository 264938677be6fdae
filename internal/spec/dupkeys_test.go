package spec

import (
	"errors"
	"testing"
)

func TestParseAmbiguousKeys(t *testing.T) {
	tests := []struct {
		name, doc string
		wantErr   bool
	}{
		{name: "plain", doc: `{"linux":{"namespaces":[{"type":"pid"}]},"hooks":{"poststop":[]}}`},
		{name: "linux twice", doc: `{"linux":{},"linux":{"seccomp":{}}}`, wantErr: true},
		{name: "Linux and linux", doc: `{"Linux":{"seccomp":{}},"linux":{}}`, wantErr: true},
		{name: "lone Hooks", doc: `{"Hooks":{"prestart":[]}}`, wantErr: true},
		{name: "CreateRuntime", doc: `{"hooks":{"CreateRuntime":[]}}`, wantErr: true},
		{name: "deep repeat", doc: `{"linux":{"resources":{"memory":{"limit":1,"limit":2}}}}`, wantErr: true},
		{name: "deep case", doc: `{"process":{"capabilities":{"bounding":[],"Bounding":[]}}}`, wantErr: true},
		{name: "in an array", doc: `{"mounts":[{"type":"bind"},{"options":[],"Options":[]}]}`, wantErr: true},
		{name: "annotations are data", doc: `{"annotations":{"a":"1","A":"2"}}`},
		{name: "sysctls are data", doc: `{"linux":{"sysctl":{"net.x":"1","NET.X":"2"}}}`},
		{name: "annotation repeated", doc: `{"annotations":{"a":"1","a":"2"}}`, wantErr: true},
		{name: "same name at other depths", doc: `{"linux":{"linux":{}},"x":{"linux":1}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.doc))
			if tt.wantErr != errors.Is(err, ErrAmbiguousKeys) {
				t.Errorf("Parse(%s) err = %v, want ErrAmbiguousKeys: %v", tt.doc, err, tt.wantErr)
			}
			if !tt.wantErr && err != nil {
				t.Errorf("Parse(%s): %v", tt.doc, err)
			}
		})
	}
}
