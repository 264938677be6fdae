package registry

import "testing"

const (
	id1 = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	uid = "5d8d3e4a-1b2c-4d5e-8f90-0a1b2c3d4e5f"
)

func TestClassify(t *testing.T) {
	uidSystemd := "5d8d3e4a_1b2c_4d5e_8f90_0a1b2c3d4e5f"
	for _, tc := range []struct {
		path    string
		ok      bool
		runtime string
		pod     string
	}{
		{"/docker/" + id1, true, RuntimeDocker, ""},
		{"/system.slice/docker-" + id1 + ".scope", true, RuntimeDocker, ""},
		{"/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + uidSystemd + ".slice/cri-containerd-" + id1 + ".scope", true, RuntimeContainerd, uid},
		{"/kubepods/burstable/pod" + uid + "/" + id1, true, "", uid},
		{"/kubepods/besteffort/pod" + uid + "/crio-" + id1, true, RuntimeCRIO, uid},
		{"/kubepods.slice/kubepods-pod" + uidSystemd + ".slice/crio-" + id1 + ".scope", true, RuntimeCRIO, uid},
		{"/kubepods.slice/kubepods-pod" + uidSystemd + ".slice/crio-conmon-" + id1 + ".scope", false, "", ""},
		{"/machine.slice/libpod-" + id1 + ".scope", true, RuntimePodman, ""},
		{"/libpod_parent/libpod-" + id1, true, RuntimePodman, ""},
		{"/machine.slice/libpod-conmon-" + id1 + ".scope", false, "", ""},
		{"/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" + id1 + ".scope/container", true, RuntimePodman, ""},
		{"/user.slice/user-1000.slice/user@1000.service/app.slice/container", false, "", ""},
		{"/system.slice/docker.service", false, "", ""},
		{"/kubepods/burstable/pod" + uid, false, "", ""},
		{"/docker/" + id1[:12], false, "", ""},
		{"/", false, "", ""},
		{"/system.slice/docker-" + id1[:63] + "g.scope", false, "", ""},
	} {
		m, ok := Classify(tc.path)
		if ok != tc.ok || (ok && (m.ID != id1 || m.Runtime != tc.runtime || m.PodUID != tc.pod)) {
			t.Errorf("Classify(%s) = %+v, %v; want ok=%v runtime=%q pod=%q", tc.path, m, ok, tc.ok, tc.runtime, tc.pod)
		}
	}
	if !IsPodDir("/kubepods/burstable/pod"+uid) || !IsPodDir("/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod"+uidSystemd+".slice") {
		t.Error("IsPodDir misses a pod cgroup")
	}
	if IsPodDir("/kubepods/burstable") || IsPodDir("/docker/"+id1) {
		t.Error("IsPodDir takes a non-pod cgroup")
	}
}
