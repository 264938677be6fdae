package cli

import (
	"bytes"
	"strings"
	"testing"
)

// Every command has its own help, and the shells get a completion script
// that knows the commands.
func TestHelpAndCompletion(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"render", "--help"}, 0, "--cgroup-root"},
		{[]string{"install", "--help"}, 0, "--engine"},
		{[]string{"list", "--help"}, 0, "--config"},
		{[]string{"completion", "bash"}, 0, "__start_procview"},
		{[]string{"__complete", "install", "--engine", ""}, 0, "containerd"},
		{[]string{"__complete", "render", "--pid", "1", "mem"}, 0, "meminfo"},
		{[]string{"views"}, 0, "/proc/meminfo"},
		{[]string{"nosuchcommand"}, 2, ""},
		{[]string{"render", "--nosuchflag"}, 2, ""},
		{nil, 2, "Available Commands"},
	} {
		var out, errb bytes.Buffer
		code := Main(tc.args, &out, &errb)
		if code != tc.code || !strings.Contains(out.String(), tc.want) {
			t.Errorf("procview %v: exit %d (want %d), stdout lacks %q:\n%s\nstderr:\n%s", tc.args, code, tc.code, tc.want, out.String(), errb.String())
		}
	}
}
