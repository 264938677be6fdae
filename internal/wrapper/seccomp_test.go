package wrapper

import (
	"os"
	"testing"
)

// TestParseSeccompNotify reads `runc features` as Debian 12's runc 1.1.5
// (libseccomp 2.5.4) prints it, and shapes without seccomp.
func TestParseSeccompNotify(t *testing.T) {
	b, err := os.ReadFile("testdata/runc-1.1.5-features.json")
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := parseSeccompNotify(b); err != nil || !ok {
		t.Errorf("runc 1.1.5: %v %v", ok, err)
	}
	for _, doc := range []string{
		`{}`,
		`{"linux":{}}`,
		`{"linux":{"seccomp":{"enabled":false,"actions":["SCMP_ACT_NOTIFY"]}}}`,
		`{"linux":{"seccomp":{"enabled":true,"actions":["SCMP_ACT_ALLOW","SCMP_ACT_ERRNO"]}}}`,
	} {
		if ok, err := parseSeccompNotify([]byte(doc)); err != nil || ok {
			t.Errorf("%s: %v %v", doc, ok, err)
		}
	}
	if _, err := parseSeccompNotify([]byte("runc: unknown command")); err == nil {
		t.Error("garbage accepted")
	}
}

func TestKernelAtLeast(t *testing.T) {
	if ok, rel := kernelAtLeast([2]int{2, 6}); !ok {
		t.Errorf("kernel %s below 2.6?", rel)
	}
	if ok, rel := kernelAtLeast([2]int{999, 0}); ok {
		t.Errorf("kernel %s at least 999.0?", rel)
	}
}
