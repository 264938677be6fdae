package deploytest

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/procview/procview/internal/config"
	"github.com/procview/procview/internal/install"
)

var update = flag.Bool("update", false, "rewrite golden files (deploy/kubernetes/configmap.yaml)")

// repoRoot is the repository, two levels above this package.
const repoRoot = "../.."

var manifestDir = filepath.Join(repoRoot, "deploy", "kubernetes")

// object is one Kubernetes object, decoded generically plus the typed
// fields every object has.
type object struct {
	file string
	raw  map[string]any
	// Fields of every object.
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Metadata   struct {
		Name      string            `yaml:"name"`
		Namespace string            `yaml:"namespace"`
		Labels    map[string]string `yaml:"labels"`
	} `yaml:"metadata"`
}

// loadObjects parses every document of every *.yaml manifest except the
// kustomization.
func loadObjects(t *testing.T) []object {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(manifestDir, "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("no manifests in %s", manifestDir)
	}
	var objs []object
	for _, f := range files {
		if filepath.Base(f) == "kustomization.yaml" {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(b))
		for i := 0; ; i++ {
			var node yaml.Node
			err := dec.Decode(&node)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("%s: document %d: %v", f, i, err)
			}
			o := object{file: filepath.Base(f)}
			if err := node.Decode(&o); err != nil {
				t.Fatalf("%s: document %d: %v", f, i, err)
			}
			if err := node.Decode(&o.raw); err != nil {
				t.Fatalf("%s: document %d: %v", f, i, err)
			}
			objs = append(objs, o)
		}
	}
	return objs
}

// find returns the only object of kind, failing the test otherwise.
func find(t *testing.T, objs []object, kind string) object {
	t.Helper()
	var found []object
	for _, o := range objs {
		if o.Kind == kind {
			found = append(found, o)
		}
	}
	if len(found) != 1 {
		t.Fatalf("want exactly one %s in %s, found %d", kind, manifestDir, len(found))
	}
	return found[0]
}

// decodeAs re-decodes o's document into v (strict typed view of one kind).
func decodeAs(t *testing.T, o object, v any) {
	t.Helper()
	b, err := yaml.Marshal(o.raw)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", o.file, err)
	}
}

var dnsLabel = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$`)

// clusterScoped kinds have no namespace.
var clusterScoped = map[string]bool{"Namespace": true, "RuntimeClass": true}

func TestManifestsAreObjects(t *testing.T) {
	objs := loadObjects(t)
	ns := find(t, objs, "Namespace").Metadata.Name
	seen := map[string]string{}
	for _, o := range objs {
		id := o.Kind + "/" + o.Metadata.Namespace + "/" + o.Metadata.Name
		t.Run(o.file+":"+id, func(t *testing.T) {
			if o.APIVersion == "" || o.Kind == "" || o.Metadata.Name == "" {
				t.Fatalf("apiVersion %q, kind %q, metadata.name %q: all are required", o.APIVersion, o.Kind, o.Metadata.Name)
			}
			if !dnsLabel.MatchString(o.Metadata.Name) {
				t.Errorf("metadata.name %q is not a DNS label", o.Metadata.Name)
			}
			if prev, dup := seen[id]; dup {
				t.Errorf("%s defined twice (also in %s)", id, prev)
			}
			seen[id] = o.file
			switch {
			case clusterScoped[o.Kind] && o.Metadata.Namespace != "":
				t.Errorf("%s is cluster-scoped but has namespace %q", o.Kind, o.Metadata.Namespace)
			case !clusterScoped[o.Kind] && o.Metadata.Namespace != ns:
				t.Errorf("namespace %q, want %q (the Namespace in the manifests)", o.Metadata.Namespace, ns)
			}
			if o.Metadata.Labels["app.kubernetes.io/name"] != "procview" {
				t.Errorf("label app.kubernetes.io/name = %q, want procview", o.Metadata.Labels["app.kubernetes.io/name"])
			}
		})
	}
}

func TestKustomizationListsEveryManifest(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(manifestDir, "kustomization.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var k struct {
		APIVersion string   `yaml:"apiVersion"`
		Kind       string   `yaml:"kind"`
		Resources  []string `yaml:"resources"`
	}
	if err := yaml.Unmarshal(b, &k); err != nil {
		t.Fatalf("kustomization.yaml: %v", err)
	}
	if k.Kind != "Kustomization" {
		t.Errorf("kind %q, want Kustomization", k.Kind)
	}
	files, _ := filepath.Glob(filepath.Join(manifestDir, "*.yaml"))
	var want []string
	for _, f := range files {
		if b := filepath.Base(f); b != "kustomization.yaml" {
			want = append(want, b)
		}
	}
	got := slices.Clone(k.Resources)
	sort.Strings(got)
	sort.Strings(want)
	if !slices.Equal(got, want) {
		t.Errorf("resources %v, want every manifest %v", got, want)
	}
}

func TestRuntimeClass(t *testing.T) {
	o := find(t, loadObjects(t), "RuntimeClass")
	var rc struct {
		Handler string `yaml:"handler"`
	}
	decodeAs(t, o, &rc)
	if o.APIVersion != "node.k8s.io/v1" {
		t.Errorf("apiVersion %q, want node.k8s.io/v1", o.APIVersion)
	}
	// The handler selects the engine's runtime entry: it must be the name
	// procview install registers (containerd runtimes.<name>, CRI-O
	// crio.runtime.runtimes.<name>).
	if rc.Handler != install.RuntimeName {
		t.Errorf("handler %q, want %q (install.RuntimeName)", rc.Handler, install.RuntimeName)
	}
	if o.Metadata.Name != install.RuntimeName {
		t.Errorf("name %q: pods say runtimeClassName: %s in the docs", o.Metadata.Name, install.RuntimeName)
	}
	if !dnsLabel.MatchString(rc.Handler) {
		t.Errorf("handler %q is not a DNS label", rc.Handler)
	}
}

// Typed views of the DaemonSet fields the tests check.
type (
	envVar struct {
		Name  string `yaml:"name"`
		Value string `yaml:"value"`
	}
	volumeMount struct {
		Name      string `yaml:"name"`
		MountPath string `yaml:"mountPath"`
		ReadOnly  bool   `yaml:"readOnly"`
	}
	container struct {
		Name            string        `yaml:"name"`
		Image           string        `yaml:"image"`
		Command         []string      `yaml:"command"`
		Args            []string      `yaml:"args"`
		Env             []envVar      `yaml:"env"`
		VolumeMounts    []volumeMount `yaml:"volumeMounts"`
		SecurityContext struct {
			Privileged *bool `yaml:"privileged"`
		} `yaml:"securityContext"`
	}
	volume struct {
		Name     string `yaml:"name"`
		HostPath *struct {
			Path string `yaml:"path"`
			Type string `yaml:"type"`
		} `yaml:"hostPath"`
		ConfigMap *struct {
			Name        string `yaml:"name"`
			DefaultMode *int   `yaml:"defaultMode"`
		} `yaml:"configMap"`
	}
	daemonSet struct {
		Spec struct {
			Selector struct {
				MatchLabels map[string]string `yaml:"matchLabels"`
			} `yaml:"selector"`
			Template struct {
				Metadata struct {
					Labels map[string]string `yaml:"labels"`
				} `yaml:"metadata"`
				Spec struct {
					ServiceAccountName string      `yaml:"serviceAccountName"`
					HostPID            bool        `yaml:"hostPID"`
					RuntimeClassName   string      `yaml:"runtimeClassName"`
					InitContainers     []container `yaml:"initContainers"`
					Containers         []container `yaml:"containers"`
					Volumes            []volume    `yaml:"volumes"`
				} `yaml:"spec"`
			} `yaml:"template"`
		} `yaml:"spec"`
	}
)

func (c container) env(name string) (string, bool) {
	for _, e := range c.Env {
		if e.Name == name {
			return e.Value, true
		}
	}
	return "", false
}

func loadDaemonSet(t *testing.T) (object, daemonSet) {
	t.Helper()
	o := find(t, loadObjects(t), "DaemonSet")
	var ds daemonSet
	decodeAs(t, o, &ds)
	if o.APIVersion != "apps/v1" {
		t.Errorf("DaemonSet apiVersion %q, want apps/v1", o.APIVersion)
	}
	if len(ds.Spec.Template.Spec.InitContainers) != 1 || len(ds.Spec.Template.Spec.Containers) != 1 {
		t.Fatalf("want one init container (install) and one container (procviewd), got %d and %d",
			len(ds.Spec.Template.Spec.InitContainers), len(ds.Spec.Template.Spec.Containers))
	}
	return o, ds
}

// nodeConfig is the config.toml the ConfigMap puts on every node.
func nodeConfig(t *testing.T) config.Config {
	t.Helper()
	data := configMapData(t)
	c := config.Default()
	if err := config.Parse([]byte(data["config.toml"]), &c); err != nil {
		t.Fatalf("ConfigMap config.toml: %v", err)
	}
	return c
}

func configMapData(t *testing.T) map[string]string {
	t.Helper()
	o := find(t, loadObjects(t), "ConfigMap")
	var cm struct {
		Data map[string]string `yaml:"data"`
	}
	decodeAs(t, o, &cm)
	return cm.Data
}

func TestDaemonSetPod(t *testing.T) {
	objs := loadObjects(t)
	_, ds := loadDaemonSet(t)
	pod := ds.Spec.Template.Spec

	if !pod.HostPID {
		t.Error("hostPID must be true: procviewd reads /proc/PID of every container, node-install.sh enters PID 1's namespaces")
	}
	if pod.RuntimeClassName != "" {
		t.Errorf("runtimeClassName %q: the node agent must not depend on the runtime it installs", pod.RuntimeClassName)
	}
	if sa := find(t, objs, "ServiceAccount").Metadata.Name; pod.ServiceAccountName != sa {
		t.Errorf("serviceAccountName %q, want the ServiceAccount %q", pod.ServiceAccountName, sa)
	}
	for k, v := range ds.Spec.Selector.MatchLabels {
		if ds.Spec.Template.Metadata.Labels[k] != v {
			t.Errorf("selector %s=%s does not match the pod template's labels", k, v)
		}
	}
	if len(ds.Spec.Selector.MatchLabels) == 0 {
		t.Error("empty selector")
	}

	all := append(slices.Clone(pod.InitContainers), pod.Containers...)
	vols := map[string]volume{}
	for _, v := range pod.Volumes {
		vols[v.Name] = v
	}
	for _, c := range all {
		if c.SecurityContext.Privileged == nil || !*c.SecurityContext.Privileged {
			t.Errorf("container %s: not privileged (it mounts, enters namespaces, writes the node's files)", c.Name)
		}
		if c.Image == "" || c.Image != all[0].Image {
			t.Errorf("container %s: image %q, want one image for both containers (%q)", c.Name, c.Image, all[0].Image)
		}
		for _, m := range c.VolumeMounts {
			if _, ok := vols[m.Name]; !ok {
				t.Errorf("container %s mounts undefined volume %q", c.Name, m.Name)
			}
		}
	}
	used := map[string]bool{}
	for _, c := range all {
		for _, m := range c.VolumeMounts {
			used[m.Name] = true
		}
	}
	for name := range vols {
		if !used[name] {
			t.Errorf("volume %q is mounted by no container", name)
		}
	}
}

// hostMount reports whether container c mounts the node's path at the same
// path (what procview install needs: the paths it writes into the engine's
// config are then valid on the node).
func hostMount(pod []volume, c container, path string) (volumeMount, bool) {
	for _, m := range c.VolumeMounts {
		for _, v := range pod {
			if v.Name == m.Name && v.HostPath != nil && filepath.Clean(v.HostPath.Path) == filepath.Clean(path) &&
				filepath.Clean(m.MountPath) == filepath.Clean(path) {
				return m, true
			}
		}
	}
	return volumeMount{}, false
}

func TestDaemonSetHostPaths(t *testing.T) {
	_, ds := loadDaemonSet(t)
	pod := ds.Spec.Template.Spec
	initC, mainC := pod.InitContainers[0], pod.Containers[0]
	cfg := nodeConfig(t)

	bindir, ok := initC.env("PROCVIEW_BINDIR")
	if !ok || !filepath.IsAbs(bindir) {
		t.Fatalf("init container: PROCVIEW_BINDIR %q, want an absolute node path", bindir)
	}
	crioDir := filepath.Dir(filepath.Dir(install.DefaultCrioConfig)) // /etc/crio
	tests := []struct {
		name     string
		c        container
		path     string
		writable bool
	}{
		{"init: binaries", initC, bindir, true},
		{"init: procview config", initC, filepath.Dir(config.DefaultPath), true},
		{"init: containerd config", initC, filepath.Dir(install.DefaultContainerdConfig), true},
		{"init: CRI-O config", initC, crioDir, true},
		{"init: hooks.d", initC, install.DefaultHooksDir, true},
		{"procviewd: state root", mainC, cfg.StateRoot, true},
		{"procviewd: config", mainC, filepath.Dir(config.DefaultPath), false},
		{"procviewd: cgroup tree", mainC, cfg.CgroupRoot, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, ok := hostMount(pod.Volumes, tt.c, tt.path)
			if !ok {
				t.Fatalf("container %s does not mount the node's %s at %s", tt.c.Name, tt.path, tt.path)
			}
			if tt.writable && m.ReadOnly {
				t.Errorf("container %s mounts %s read-only; it writes there", tt.c.Name, tt.path)
			}
		})
	}
	// The daemon and the hooks on the node must agree on one state root and
	// one config: the hook reads config.DefaultPath on the node.
	if v, ok := mainC.env(config.EnvPath); ok && v != config.DefaultPath {
		t.Errorf("procviewd %s=%s, but hooks on the node read %s", config.EnvPath, v, config.DefaultPath)
	}
}

// scriptOf returns the ConfigMap key a container runs ("sh <mount>/<key>").
func scriptOf(t *testing.T, pod []volume, c container) string {
	t.Helper()
	argv := append(slices.Clone(c.Command), c.Args...)
	if len(argv) != 2 || argv[0] != "/bin/sh" {
		t.Fatalf("container %s: command %q, want [/bin/sh <ConfigMap script>]", c.Name, argv)
	}
	for _, m := range c.VolumeMounts {
		for _, v := range pod {
			if v.Name == m.Name && v.ConfigMap != nil && filepath.Dir(argv[1]) == filepath.Clean(m.MountPath) {
				return filepath.Base(argv[1])
			}
		}
	}
	t.Fatalf("container %s runs %s, which is not in a mounted ConfigMap", c.Name, argv[1])
	return ""
}

func TestDaemonSetRunsTheConfigMapScripts(t *testing.T) {
	objs := loadObjects(t)
	_, ds := loadDaemonSet(t)
	pod := ds.Spec.Template.Spec
	data := configMapData(t)
	cmName := find(t, objs, "ConfigMap").Metadata.Name
	for _, v := range pod.Volumes {
		if v.ConfigMap != nil && v.ConfigMap.Name != cmName {
			t.Errorf("volume %s names ConfigMap %q, want %q", v.Name, v.ConfigMap.Name, cmName)
		}
	}
	for _, tt := range []struct {
		c    container
		want string
	}{
		{pod.InitContainers[0], "node-install.sh"},
		{pod.Containers[0], "procviewd.sh"},
	} {
		got := scriptOf(t, pod.Volumes, tt.c)
		if got != tt.want {
			t.Errorf("container %s runs %s, want %s", tt.c.Name, got, tt.want)
		}
		if _, ok := data[got]; !ok {
			t.Errorf("ConfigMap has no %s", got)
		}
	}
	engine, _ := pod.InitContainers[0].env("PROCVIEW_ENGINE")
	if !slices.Contains([]string{"auto", "containerd", "crio"}, engine) {
		t.Errorf("PROCVIEW_ENGINE %q, want auto, containerd or crio", engine)
	}
	for _, e := range []string{"containerd", "crio"} {
		if !slices.Contains(install.Engines, e) {
			t.Errorf("procview install does not know engine %q any more", e)
		}
	}
}

// makefileBinaries reads BINARIES from the Makefile.
func makefileBinaries(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^BINARIES\s*:?=\s*(.+)$`).FindSubmatch(b)
	if m == nil {
		t.Fatal("no BINARIES line in the Makefile")
	}
	return strings.Fields(string(m[1]))
}

func TestScriptsAndImageAgreeWithTheBuild(t *testing.T) {
	bins := makefileBinaries(t)
	data := configMapData(t)
	m := regexp.MustCompile(`(?m)^BINARIES="([^"]*)"`).FindStringSubmatch(data["node-install.sh"])
	if m == nil {
		t.Fatal(`node-install.sh has no BINARIES="…" line`)
	}
	if got := strings.Fields(m[1]); !slices.Equal(got, bins) {
		t.Errorf("node-install.sh copies %v, the Makefile builds %v", got, bins)
	}
	for _, b := range []string{install.WrapperName, install.HookName, "procviewd", "procview"} {
		if !slices.Contains(bins, b) {
			t.Errorf("the manifests need %s, which the Makefile does not build", b)
		}
	}

	// The image puts bin/ where both scripts look for the binaries.
	df, err := os.ReadFile(filepath.Join(manifestDir, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	imgDir := regexp.MustCompile(`(?m)^COPY --from=build /src/bin/ (\S+?)/?$`).FindSubmatch(df)
	if imgDir == nil {
		t.Fatal("Dockerfile does not COPY /src/bin/ from the build stage")
	}
	if !regexp.MustCompile(`(?m)^RUN make build$`).Match(df) {
		t.Error("Dockerfile does not RUN make build")
	}
	dir := string(imgDir[1])
	for script, want := range map[string]string{
		"node-install.sh": "SRC=${PROCVIEW_IMAGE_BINDIR:-" + dir + "}",
		"procviewd.sh":    "DAEMON=${PROCVIEW_DAEMON:-" + dir + "/procviewd}",
	} {
		if !strings.Contains(data[script], want) {
			t.Errorf("%s does not contain %q (the image's binary directory)", script, want)
		}
	}
	// Every COPY source of the final stage exists in the repository.
	for _, m := range regexp.MustCompile(`(?m)^COPY (\S+) `).FindAllSubmatch(df, -1) {
		src := string(m[1])
		if strings.HasPrefix(src, "--") || src == "." {
			continue
		}
		if _, err := os.Stat(filepath.Join(repoRoot, src)); err != nil {
			t.Errorf("Dockerfile copies %s: %v", src, err)
		}
	}
}

// renderConfigMap builds configmap.yaml from its sources.
func renderConfigMap(t *testing.T) []byte {
	t.Helper()
	var b strings.Builder
	b.WriteString(`# Generated from deploy/config.toml, node-install.sh and procviewd.sh: edit
# those, then ` + "`go test ./internal/deploytest -update`" + `. config.toml is copied to
# /etc/procview/config.toml on every node each time the DaemonSet starts.
apiVersion: v1
kind: ConfigMap
metadata:
  name: procview-node
  namespace: procview-system
  labels:
    app.kubernetes.io/name: procview
data:
`)
	for _, src := range []struct{ key, path string }{
		{"config.toml", filepath.Join(repoRoot, "deploy", "config.toml")},
		{"node-install.sh", filepath.Join(manifestDir, "node-install.sh")},
		{"procviewd.sh", filepath.Join(manifestDir, "procviewd.sh")},
	} {
		text, err := os.ReadFile(src.path)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "  %s: |\n", src.key)
		for _, line := range strings.Split(strings.TrimSuffix(string(text), "\n"), "\n") {
			if line == "" {
				b.WriteString("\n")
			} else {
				b.WriteString("    " + line + "\n")
			}
		}
	}
	return []byte(b.String())
}

func TestConfigMapMatchesSources(t *testing.T) {
	path := filepath.Join(manifestDir, "configmap.yaml")
	want := renderConfigMap(t)
	if *update {
		if err := os.WriteFile(path, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s is out of date: run go test ./internal/deploytest -update", path)
	}
	// And the YAML block scalars give back the exact file bytes.
	data := configMapData(t)
	for key, src := range map[string]string{
		"config.toml":     filepath.Join(repoRoot, "deploy", "config.toml"),
		"node-install.sh": filepath.Join(manifestDir, "node-install.sh"),
		"procviewd.sh":    filepath.Join(manifestDir, "procviewd.sh"),
	} {
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		if data[key] != string(b) {
			t.Errorf("ConfigMap %s differs from %s after YAML decoding", key, src)
		}
	}
	// The node config is valid for procview.
	nodeConfig(t)
}

// kubectl kustomize (offline) builds the same objects, when kubectl exists.
func TestKubectlKustomize(t *testing.T) {
	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		t.Skip("no kubectl")
	}
	out, err := exec.Command(kubectl, "kustomize", manifestDir).Output()
	if err != nil {
		t.Fatalf("kubectl kustomize: %v", err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(out))
	var kinds []string
	for {
		var o object
		if err := dec.Decode(&o); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("kustomize output: %v", err)
		}
		kinds = append(kinds, o.Kind+"/"+o.Metadata.Name)
	}
	var want []string
	for _, o := range loadObjects(t) {
		want = append(want, o.Kind+"/"+o.Metadata.Name)
	}
	sort.Strings(kinds)
	sort.Strings(want)
	if !slices.Equal(kinds, want) {
		t.Errorf("kustomize builds %v, the manifests hold %v", kinds, want)
	}
}
