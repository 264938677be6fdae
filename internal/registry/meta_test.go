package registry

import (
	"os"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func readFixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// CRI-O's annotations (the CRI-O path: no CRI-O package on the test
// machines): the Kubernetes names, the image, the labels, the sandbox
// shown as its pod.
func TestParseSpecCRIO(t *testing.T) {
	in, err := ParseSpec(readFixture(t, "crio-container.config.json"))
	if err != nil {
		t.Fatal(err)
	}
	want := Info{ID: "9b2f0c7e5d4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c",
		Name: "k8s_nginx_web-0_prod_5d8d3e4a-1b2c-4d5e-8f90-0a1b2c3d4e5f_2", Image: "docker.io/library/nginx:1.25", Runtime: RuntimeCRIO,
		Pod: "web-0", Namespace: "prod", Container: "nginx", PodUID: uid,
		Labels: map[string]string{"io.kubernetes.container.name": "nginx", "io.kubernetes.pod.name": "web-0",
			"io.kubernetes.pod.namespace": "prod", "io.kubernetes.pod.uid": uid},
		Created: time.Date(2026, 11, 30, 9, 12, 44, 123456789, time.UTC)}
	if d := cmp.Diff(want, in); d != "" {
		t.Errorf("CRI-O container (-want +got):\n%s", d)
	}
	sb, err := ParseSpec(readFixture(t, "crio-sandbox.config.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !sb.Sandbox || sb.Pod != "web-0" || sb.Namespace != "prod" || sb.Container != "" || sb.Name != "web-0" {
		t.Errorf("CRI-O sandbox: %+v", sb)
	}
}

// containerd's CRI annotations (io.kubernetes.cri.*).
func TestFromAnnotationsContainerd(t *testing.T) {
	c := FromAnnotations(map[string]string{
		"io.kubernetes.cri.container-type": "container", "io.kubernetes.cri.container-name": "app",
		"io.kubernetes.cri.sandbox-name": "pod-a", "io.kubernetes.cri.sandbox-namespace": "ns-a",
		"io.kubernetes.cri.sandbox-uid": uid, "io.kubernetes.cri.image-name": "docker.io/library/busybox:1.36",
		"io.kubernetes.cri.sandbox-id": id1,
	})
	want := Info{Name: "app", Image: "docker.io/library/busybox:1.36", Runtime: RuntimeContainerd, Pod: "pod-a", Namespace: "ns-a", Container: "app", PodUID: uid}
	if d := cmp.Diff(want, c); d != "" {
		t.Errorf("containerd CRI container (-want +got):\n%s", d)
	}
	s := FromAnnotations(map[string]string{"io.kubernetes.cri.container-type": "sandbox", "io.kubernetes.cri.sandbox-name": "pod-a",
		"io.kubernetes.cri.sandbox-namespace": "ns-a", "io.kubernetes.cri.podsandbox.image-name": "registry.k8s.io/pause:3.9"})
	if !s.Sandbox || s.Name != "pod-a" || s.Container != "" || s.Image != "registry.k8s.io/pause:3.9" {
		t.Errorf("containerd CRI sandbox: %+v", s)
	}
	if p := FromAnnotations(map[string]string{"io.container.manager": "libpod"}); p.Runtime != RuntimePodman || p.Name != "" {
		t.Errorf("podman annotations: %+v", p)
	}
	if n := FromAnnotations(nil); n.Runtime != "" {
		t.Errorf("no annotations: %+v", n)
	}
}

func TestParseDockerConfig(t *testing.T) {
	in, err := ParseDockerConfig(readFixture(t, "docker-config.v2.json"))
	if err != nil {
		t.Fatal(err)
	}
	if in.Name != "pvreg-plain" || in.Image != "procview-test/busybox:latest" || in.Runtime != RuntimeDocker || len(in.ID) != 64 || in.Created.IsZero() {
		t.Errorf("docker config.v2.json: %+v", in)
	}
	if _, err := ParseDockerConfig([]byte("{")); err == nil {
		t.Error("truncated config.v2.json parsed")
	}
}

func TestParsePodmanContainers(t *testing.T) {
	m, err := ParsePodmanContainers(readFixture(t, "podman-containers.json"))
	if err != nil {
		t.Fatal(err)
	}
	var got Info
	for _, in := range m {
		got = in
	}
	if len(m) != 1 || got.Name != "pvreg-podman" || got.Image != "localhost/pvreg/busybox:latest" || got.Runtime != RuntimePodman {
		t.Errorf("containers.json: %+v", m)
	}
}
