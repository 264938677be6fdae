package config

import "testing"

func TestUptimeKey(t *testing.T) {
	c := Default()
	if c.Uptime != UptimeAuto {
		t.Fatalf("default uptime %q, want auto", c.Uptime)
	}
	for _, v := range []string{"auto", "container", "host"} {
		c := Default()
		if err := Parse([]byte("uptime = \""+v+"\"\n"), &c); err != nil || c.Uptime != v {
			t.Errorf("uptime = %q: %v, got %q", v, err, c.Uptime)
		}
	}
	c = Default()
	if err := Parse([]byte("uptime = \"boot\"\n"), &c); err == nil {
		t.Error("uptime = \"boot\" accepted")
	}
}

func TestContainerAge(t *testing.T) {
	for _, tc := range []struct {
		mode   string
		timens bool
		want   bool
	}{
		{UptimeAuto, false, false},
		{UptimeHost, false, false},
		{UptimeContainer, false, true},
		{UptimeAuto, true, true},
		{UptimeHost, true, true},
		{UptimeContainer, true, true},
	} {
		if got := ContainerAge(tc.mode, tc.timens); got != tc.want {
			t.Errorf("ContainerAge(%q, %v) = %v, want %v", tc.mode, tc.timens, got, tc.want)
		}
	}
}
