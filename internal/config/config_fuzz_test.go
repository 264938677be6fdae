package config

import (
	"strings"
	"testing"
)

// FuzzParse: Parse never panics; what it accepts is valid; what it refuses
// comes with a message.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"", "state_root = \"/run/procview\"\nrefresh_interval = \"10ms\"\n",
		"refresh_interval = \"1ns\"", "refresh_interval = \"-5s\"", "refresh_interval = 5",
		"state_root = \"relative\"", "fail_mode = \"closed\"\nviews = [\"meminfo\", \"online\"]",
		"views = [\"nope\"]", "cpu_view = \"cpuset\"", "unknown = 1", "hook_timeout = \"1ms\"",
		"time_namespace = \"off\"", "hook_timeout = 1", "[x]\ny=1", "state_root = \"/\u0000\"", "= = =",
		"refresh_interval = \"9999999999999999h\"",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		c := Default()
		err := Parse(b, &c)
		if err != nil {
			if strings.TrimSpace(err.Error()) == "" {
				t.Fatal("empty error")
			}
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("Parse accepted %q but Validate refuses it: %v", b, err)
		}
		if !strings.HasPrefix(c.StateRoot, "/") {
			t.Fatalf("relative state root %q accepted", c.StateRoot)
		}
	})
}
