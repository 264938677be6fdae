// Package registry knows every container of the node: the ones procview
// manages (exact, from their state and spec) and every other one, found from
// cgroup paths and named from the runtimes' files (config.json annotations,
// docker's config.v2.json, podman's containers.json) — no runtime socket.
package registry

import (
	"path"
	"strings"
)

// Runtime names, as the runtime label says them.
const (
	RuntimeDocker     = "docker"
	RuntimeContainerd = "containerd"
	RuntimeCRIO       = "cri-o"
	RuntimePodman     = "podman"
)

// Match is what a cgroup path says about the container in it.
type Match struct {
	ID      string
	Runtime string // "" when the path does not tell (kubepods cgroupfs: docker or containerd)
	PodUID  string // from a kubepods pod<uid> element, with dashes
}

// prefixes of container cgroup names (systemd: "<prefix><id>.scope";
// cgroupfs: "<prefix><id>"); conmon's cgroups are the monitor's, not the
// container's.
var prefixes = []struct{ prefix, runtime string }{
	{"docker-", RuntimeDocker},
	{"cri-containerd-", RuntimeContainerd},
	{"crio-conmon-", ""},
	{"crio-", RuntimeCRIO},
	{"libpod-conmon-", ""},
	{"libpod-", RuntimePodman},
}

// Classify tells whether the cgroup path p (as in /proc/PID/cgroup) is a
// container's, and whose. Recognised: docker (/docker/<id>,
// docker-<id>.scope), containerd CRI (cri-containerd-<id>.scope, a bare id
// under kubepods), CRI-O (crio-<id>[.scope]), podman (libpod-<id>[.scope],
// rootless …/libpod-<id>.scope/container), kubepods in the cgroupfs and
// systemd drivers; conmon cgroups are skipped.
func Classify(p string) (Match, bool) {
	p = path.Clean("/" + p)
	base, parent := path.Base(p), path.Base(path.Dir(p))
	if base == "container" {
		// Rootless podman (and crun's systemd driver) put the payload in a
		// "container" child of the scope.
		m, ok := Classify(path.Dir(p))
		return m, ok && m.Runtime == RuntimePodman
	}
	m := Match{PodUID: podUID(p)}
	name := strings.TrimSuffix(base, ".scope")
	for _, pf := range prefixes {
		if rest, ok := strings.CutPrefix(name, pf.prefix); ok {
			if pf.runtime == "" || !isID(rest) {
				return Match{}, false
			}
			m.ID, m.Runtime = rest, pf.runtime
			return m, true
		}
	}
	// cri-containerd:<id> is how the systemd driver's parent:prefix:name
	// may appear when a runtime creates the cgroup itself.
	if rest, ok := strings.CutPrefix(base, "cri-containerd:"); ok && isID(rest) {
		m.ID, m.Runtime = rest, RuntimeContainerd
		return m, true
	}
	if !isID(base) {
		return Match{}, false
	}
	m.ID = base
	if parent == "docker" {
		m.Runtime = RuntimeDocker
	}
	return m, true
}

// isID is a 64-hex container id.
func isID(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// podUID finds a kubepods pod element: cgroupfs "pod<uid>", systemd
// "kubepods-<qos>-pod<uid_with_underscores>.slice".
func podUID(p string) string {
	if !strings.Contains(p, "kubepods") {
		return ""
	}
	for el := range strings.SplitSeq(p, "/") {
		el = strings.TrimSuffix(el, ".slice")
		i := strings.LastIndex(el, "pod")
		if i < 0 || (i > 0 && el[i-1] != '-') {
			continue
		}
		uid := strings.ReplaceAll(el[i+3:], "_", "-")
		if len(uid) >= 32 {
			return uid
		}
	}
	return ""
}

// IsPodDir reports whether p is a pod's own cgroup (…/pod<uid>[.slice]).
func IsPodDir(p string) bool {
	base := strings.TrimSuffix(path.Base(p), ".slice")
	i := strings.LastIndex(base, "pod")
	return i >= 0 && (i == 0 || base[i-1] == '-') && strings.Contains(p, "kubepods") && len(base)-i-3 >= 32
}
