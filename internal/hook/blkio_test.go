package hook

import (
	"slices"
	"testing"

	"github.com/procview/procview/internal/hoststats"
)

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

func TestWholeDisks(t *testing.T) {
	disks := []hoststats.DiskStat{
		{Major: 254, Minor: 0, Name: "vda"}, {Major: 254, Minor: 1, Name: "vda1"},
		{Major: 7, Minor: 0, Name: "loop0"}, {Major: 104, Minor: 0, Name: "cciss/c0d0"},
		{Major: 8, Minor: 0, Name: "sda"}, // gone from sysfs since diskstats was read
	}
	got := wholeDisks(disks, []string{"vda", "loop0", "cciss!c0d0"})
	if want := []string{"254:0", "7:0", "104:0"}; !slices.Equal(got, want) {
		t.Errorf("wholeDisks = %q, want %q", got, want)
	}
}
