package hook

import "testing"

func TestHasRule(t *testing.T) {
	rules := []byte("8:0 1048576\n254:0 0\n")
	tests := []struct {
		mm   string
		want bool
	}{{"8:0", true}, {"254:0", true}, {"254:1", false}, {"8:00", false}}
	for _, tt := range tests {
		if got := hasRule(rules, tt.mm); got != tt.want {
			t.Errorf("hasRule(%q) = %v, want %v", tt.mm, got, tt.want)
		}
	}
}
