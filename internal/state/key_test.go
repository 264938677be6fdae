package state

import (
	"regexp"
	"strings"
	"testing"
)

// safeID must accept exactly what the pattern it replaces accepted.
func TestSafeIDMatchesPattern(t *testing.T) {
	re := regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$`)
	ids := []string{"", "a", "A9", "abc-def_1.2", "-a", "_a", ".a", "a/b", "..", ".", "a..b", "a b",
		"é", "a\x00", strings.Repeat("x", 128), strings.Repeat("x", 129), "x" + strings.Repeat("-", 127)}
	for _, id := range ids {
		if got, want := safeID(id), re.MatchString(id); got != want {
			t.Errorf("safeID(%q) = %v, pattern says %v", id, got, want)
		}
	}
	if k := Key("a/b"); !strings.HasPrefix(k, "h-") {
		t.Errorf("Key(a/b) = %q, want a hashed key", k)
	}
	if k := Key("plain-id"); k != "plain-id" {
		t.Errorf("Key(plain-id) = %q", k)
	}
}
