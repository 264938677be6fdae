package registry

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Info is a container's identity as its runtime wrote it down.
type Info struct {
	ID        string
	Name      string // the runtime's name, no leading slash
	Image     string
	Runtime   string
	Pod       string
	Namespace string
	Container string // Kubernetes container name
	PodUID    string
	Sandbox   bool // a pod sandbox (pause container)
	Labels    map[string]string
	Created   time.Time
}

// merge fills o's empty fields from n.
func (o *Info) merge(n Info) {
	for _, f := range []struct {
		dst *string
		src string
	}{
		{&o.ID, n.ID}, {&o.Name, n.Name}, {&o.Image, n.Image}, {&o.Runtime, n.Runtime},
		{&o.Pod, n.Pod}, {&o.Namespace, n.Namespace}, {&o.Container, n.Container}, {&o.PodUID, n.PodUID},
	} {
		if *f.dst == "" {
			*f.dst = f.src
		}
	}
	o.Sandbox = o.Sandbox || n.Sandbox
	if o.Labels == nil {
		o.Labels = n.Labels
	}
	if o.Created.IsZero() {
		o.Created = n.Created
	}
}

// Annotation keys the runtimes put in config.json.
const (
	criType          = "io.kubernetes.cri.container-type"
	criName          = "io.kubernetes.cri.container-name"
	criSandboxName   = "io.kubernetes.cri.sandbox-name"
	criSandboxNS     = "io.kubernetes.cri.sandbox-namespace"
	criSandboxUID    = "io.kubernetes.cri.sandbox-uid"
	criImage         = "io.kubernetes.cri.image-name"
	criSandboxImage  = "io.kubernetes.cri.podsandbox.image-name"
	crioType         = "io.kubernetes.cri-o.ContainerType"
	crioName         = "io.kubernetes.cri-o.Name"
	crioContainerID  = "io.kubernetes.cri-o.ContainerID"
	crioImage        = "io.kubernetes.cri-o.ImageName"
	crioCreated      = "io.kubernetes.cri-o.Created"
	crioLabels       = "io.kubernetes.cri-o.Labels"
	kubePodName      = "io.kubernetes.pod.name"
	kubePodNamespace = "io.kubernetes.pod.namespace"
	kubePodUID       = "io.kubernetes.pod.uid"
	kubeContainer    = "io.kubernetes.container.name"
	manager          = "io.container.manager"
)

// FromAnnotations reads a container's identity from its spec annotations:
// containerd's CRI (io.kubernetes.cri.*), CRI-O (io.kubernetes.cri-o.* and
// the io.kubernetes.pod.* / io.kubernetes.container.name it copies) and
// podman (io.container.manager=libpod, no name).
func FromAnnotations(a map[string]string) Info {
	var in Info
	switch {
	case a[criType] != "":
		in.Runtime = RuntimeContainerd
		in.Sandbox = a[criType] == "sandbox"
		in.Pod, in.Namespace, in.PodUID = a[criSandboxName], a[criSandboxNS], a[criSandboxUID]
		in.Container, in.Image = a[criName], a[criImage]
		if in.Sandbox {
			in.Image = a[criSandboxImage]
		}
	case a[crioType] != "" || a[manager] == "cri-o":
		in.Runtime = RuntimeCRIO
		in.Sandbox = a[crioType] == "sandbox"
		in.ID = a[crioContainerID]
		in.Pod, in.Namespace, in.PodUID = a[kubePodName], a[kubePodNamespace], a[kubePodUID]
		in.Container, in.Image = a[kubeContainer], a[crioImage]
		if a[crioLabels] != "" {
			_ = json.Unmarshal([]byte(a[crioLabels]), &in.Labels)
		}
		if t, err := time.Parse(time.RFC3339Nano, a[crioCreated]); err == nil {
			in.Created = t
		}
		// CRI-O's Name is k8s_<container>_<pod>_<ns>_<uid>_<attempt>; the
		// Kubernetes names are the useful ones.
		in.Name = a[crioName]
	case a[manager] == "libpod":
		in.Runtime = RuntimePodman
	}
	if in.Container != "" && in.Name == "" {
		in.Name = in.Container
	}
	if in.Sandbox {
		in.Container = ""
		if in.Name == "" || in.Runtime == RuntimeCRIO {
			in.Name = in.Pod
		}
	}
	return in
}

// ParseSpec reads the annotations of an OCI config.json.
func ParseSpec(b []byte) (Info, error) {
	var s struct {
		Annotations map[string]string `json:"annotations"`
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return Info{}, fmt.Errorf("parse config.json: %w", err)
	}
	return FromAnnotations(s.Annotations), nil
}

// ParseDockerConfig reads docker's containers/<id>/config.v2.json: Name,
// Config.Image, Config.Labels (compose labels included), Created.
func ParseDockerConfig(b []byte) (Info, error) {
	var c struct {
		ID      string
		Name    string
		Created time.Time
		Config  struct {
			Image  string
			Labels map[string]string
		}
	}
	if err := json.Unmarshal(b, &c); err != nil {
		return Info{}, fmt.Errorf("parse config.v2.json: %w", err)
	}
	in := Info{ID: c.ID, Name: strings.TrimPrefix(c.Name, "/"), Image: c.Config.Image, Runtime: RuntimeDocker,
		Labels: c.Config.Labels, Created: c.Created}
	// dockershim's Kubernetes labels, when docker runs pods.
	l := c.Config.Labels
	if l[kubePodName] != "" {
		in.Pod, in.Namespace, in.PodUID, in.Container = l[kubePodName], l[kubePodNamespace], l[kubePodUID], l[kubeContainer]
		in.Sandbox = l["io.kubernetes.docker.type"] == "podsandbox"
	}
	return in, nil
}

// ParsePodmanContainers reads containers/storage's containers.json (podman's
// overlay-containers/containers.json): id, names, created, and the image
// name from its metadata string.
func ParsePodmanContainers(b []byte) (map[string]Info, error) {
	var list []struct {
		ID       string    `json:"id"`
		Names    []string  `json:"names"`
		Metadata string    `json:"metadata"`
		Created  time.Time `json:"created"`
	}
	if err := json.Unmarshal(b, &list); err != nil {
		return nil, fmt.Errorf("parse containers.json: %w", err)
	}
	out := make(map[string]Info, len(list))
	for _, c := range list {
		in := Info{ID: c.ID, Runtime: RuntimePodman, Created: c.Created}
		if len(c.Names) > 0 {
			in.Name = c.Names[0]
		}
		var md struct {
			ImageName string `json:"image-name"`
			Name      string `json:"name"`
		}
		if json.Unmarshal([]byte(c.Metadata), &md) == nil {
			in.Image = md.ImageName
			if in.Name == "" {
				in.Name = md.Name
			}
		}
		out[c.ID] = in
	}
	return out, nil
}
