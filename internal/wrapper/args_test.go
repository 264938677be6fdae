package wrapper

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseArgs(t *testing.T) {
	const (
		cB  = "/run/containerd/io.containerd.runtime.v2.task/default/c1"
		pB  = "/var/lib/containers/storage/overlay-containers/abc/userdata"
		crB = "/run/containers/storage/overlay-containers/def/userdata"
	)
	tests := []struct {
		name string
		argv string // space-separated; no argument contains a space
		want Args
	}{
		// containerd 1.6 runc.v2 shim (integration.md §8), also docker via the shim.
		{"containerd create", "--root /run/containerd/runc/default --log " + cB + "/log.json --log-format json create --bundle " + cB + " --pid-file " + cB + "/init.pid c1",
			Args{Command: "create", Bundle: cB, ContainerID: "c1", Log: cB + "/log.json", LogFormat: "json"}},
		{"containerd start", "--root /run/containerd/runc/default --log " + cB + "/log.json --log-format json start c1",
			Args{Command: "start", Log: cB + "/log.json", LogFormat: "json"}},
		{"containerd exec", "--root /run/containerd/runc/default --log l.json --log-format json exec --process /tmp/p.json --detach --pid-file " + cB + "/e.pid c1",
			Args{Command: "exec", Log: "l.json", LogFormat: "json"}},
		{"containerd ps", "--root R --log l --log-format json ps --format json c1", Args{Command: "ps", Log: "l", LogFormat: "json"}},
		{"containerd kill", "--root R --log l --log-format json kill c1 9", Args{Command: "kill", Log: "l", LogFormat: "json"}},
		{"containerd delete --force", "--root R --log l --log-format json delete --force c1", Args{Command: "delete", Log: "l", LogFormat: "json"}},
		{"docker systemd create", "--root /var/run/docker/runtime-runc/moby --log " + cB + "/log.json --log-format json --systemd-cgroup create --bundle " + cB + " --pid-file " + cB + "/init.pid c1",
			Args{Command: "create", Bundle: cB, ContainerID: "c1", Log: cB + "/log.json", LogFormat: "json"}},
		// podman 4.3.1 / conmon.
		{"podman create", "create --bundle " + pB + " --pid-file /run/containers/storage/overlay-containers/abc/userdata/pidfile abc",
			Args{Command: "create", Bundle: pB, ContainerID: "abc"}},
		{"podman systemd create", "--systemd-cgroup create --bundle " + pB + " --pid-file p abc", Args{Command: "create", Bundle: pB, ContainerID: "abc"}},
		{"podman json log", "--log-format=json --log=/tmp/x.log create --no-new-keyring --bundle " + pB + " --pid-file p abc",
			Args{Command: "create", Bundle: pB, ContainerID: "abc", Log: "/tmp/x.log", LogFormat: "json"}},
		{"podman start", "start abc", Args{Command: "start"}},
		{"podman delete", "delete --force abc", Args{Command: "delete"}},
		// CRI-O: conmon passes --runtime-arg --root=R, -b, -p (runc's short pid-file is --pid-file only; -p goes to conmon).
		{"crio create", "--root=/run/runc create --bundle " + crB + " --pid-file " + crB + "/pidfile def", Args{Command: "create", Bundle: crB, ContainerID: "def"}},
		{"crio create short -b", "--root=/run/runc create -b " + crB + " --pid-file " + crB + "/pidfile def", Args{Command: "create", Bundle: crB, ContainerID: "def"}},
		{"crio update", "--root R --systemd-cgroup update --resources - def", Args{Command: "update"}},
		{"crio state", "--root R state def", Args{Command: "state"}},
		{"crio pause", "--root R pause def", Args{Command: "pause"}},
		{"crio resume", "--root R resume def", Args{Command: "resume"}},
		// Flag forms.
		{"bundle=", "create --bundle=/b c", Args{Command: "create", Bundle: "/b", ContainerID: "c"}},
		{"-b=", "create -b=/b c", Args{Command: "create", Bundle: "/b", ContainerID: "c"}},
		{"single-dash long", "-root R create -bundle /b c", Args{Command: "create", Bundle: "/b", ContainerID: "c"}},
		{"last bundle wins", "create -b /a --bundle /b c", Args{Command: "create", Bundle: "/b", ContainerID: "c"}},
		{"default bundle", "create c", Args{Command: "create", ContainerID: "c"}},
		{"id before flags", "create c --bundle /b", Args{Command: "create", Bundle: "/b", ContainerID: "c"}},
		{"pid-file value looks like bundle", "create --pid-file -b c", Args{Command: "create", ContainerID: "c"}},
		{"console socket and preserve fds", "create --console-socket /s.sock --preserve-fds 2 -b /b c", Args{Command: "create", Bundle: "/b", ContainerID: "c"}},
		{"crun config file", "create -f other.json -b /b c", Args{Command: "create", Bundle: "/b", ConfigFile: "other.json", ContainerID: "c"}},
		{"run detach", "run -d --bundle /b --pid-file p c", Args{Command: "run", Bundle: "/b", ContainerID: "c"}},
		{"run keep", "--debug run --keep --no-subreaper --no-pivot -b /b c", Args{Command: "run", Bundle: "/b", ContainerID: "c", Debug: true}},
		{"dash-dash before id", "create -b /b -- c", Args{Command: "create", Bundle: "/b", ContainerID: "c"}},
		// Global flag forms.
		{"debug", "--debug create c", Args{Command: "create", ContainerID: "c", Debug: true}},
		{"debug=false", "--debug=false create c", Args{Command: "create", ContainerID: "c"}},
		{"rootless value", "--rootless true create c", Args{Command: "create", ContainerID: "c"}},
		{"rootless=auto", "--rootless=auto run c", Args{Command: "run", ContainerID: "c"}},
		{"criu value", "--criu /usr/sbin/criu create c", Args{Command: "create", ContainerID: "c"}},
		{"crun cgroup-manager", "--cgroup-manager cgroupfs create c", Args{Command: "create", ContainerID: "c"}},
		{"crun log-level", "--log-level debug create c", Args{Command: "create", ContainerID: "c"}},
		{"log named create", "--log create create -b /b c", Args{Command: "create", Bundle: "/b", ContainerID: "c", Log: "create"}},
		{"root named run", "--root run state c", Args{Command: "state"}},
		// Pass-through commands.
		{"restore is pass-through", "restore --bundle /b --image-path /i c", Args{Command: "restore"}},
		{"checkpoint", "checkpoint --image-path /i c", Args{Command: "checkpoint"}},
		{"events", "events --stats c", Args{Command: "events"}},
		{"list", "list -q", Args{Command: "list"}},
		{"spec", "spec --rootless", Args{Command: "spec"}},
		{"features", "features", Args{Command: "features"}},
		{"features with globals", "--root R features", Args{Command: "features"}},
		{"version", "--version", Args{}},
		{"-v", "-v", Args{}},
		{"help", "--help", Args{}},
		{"help command", "help create", Args{Command: "help"}},
		{"none", "", Args{}},
		{"dangling global value", "--root", Args{}},
		{"dash-dash command", "--root R -- create c", Args{Command: "create", ContainerID: "c"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ParseArgs(strings.Fields(tt.argv))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseArgs(%q) mismatch (-want +got):\n%s", tt.argv, diff)
			}
		})
	}
}

func TestEditsSpec(t *testing.T) {
	edits := map[string]bool{"create": true, "run": true}
	for _, cmd := range []string{"create", "run", "restore", "start", "state", "delete", "kill", "exec", "ps", "update",
		"pause", "resume", "events", "checkpoint", "list", "spec", "features", "help", ""} {
		if got := (Args{Command: cmd}).EditsSpec(); got != edits[cmd] {
			t.Errorf("EditsSpec(%q) = %v, want %v", cmd, got, edits[cmd])
		}
	}
}
