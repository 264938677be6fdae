package install

import (
	"bytes"
	"fmt"
	"path/filepath"
	"strings"
)

// hookFile is one oci hooks.d file (containers/common oci-hooks(5), schema
// 1.0.0). The texts equal the repository's oci-hooks.d/*.json templates
// with @BINDIR@ replaced (hooks_test.go checks it), so that make install and
// procview install write the same bytes.
type hookFile struct {
	name     string
	template string
}

// No precreate hook: the wrapper already edits the spec when it is the
// runtime, and CRI-O has no precreate stage at all; hooks.d alone gives the
// createRuntime mounts and the poststop cleanup.
var hookFiles = []hookFile{
	{"procview.json", `{
  "version": "1.0.0",
  "hook": {
    "path": "@BINDIR@/procview-hook",
    "args": ["procview-hook", "create-runtime"],
    "timeout": 10
  },
  "when": {
    "always": true
  },
  "stages": ["createRuntime"]
}
`},
	{"procview-poststop.json", `{
  "version": "1.0.0",
  "hook": {
    "path": "@BINDIR@/procview-hook",
    "args": ["procview-hook", "poststop"],
    "timeout": 10
  },
  "when": {
    "always": true
  },
  "stages": ["poststop"]
}
`},
}

// HookJSON returns the text of hooks.d file name for binaries in binDir.
func HookJSON(name, binDir string) ([]byte, error) {
	for _, h := range hookFiles {
		if h.name == name {
			// The path sits in a JSON string: escape it as one.
			q := tomlString(binDir)
			return []byte(strings.ReplaceAll(h.template, "@BINDIR@", q[1:len(q)-1])), nil
		}
	}
	return nil, fmt.Errorf("no hook file %q", name)
}

// ownedFile is a file procview owns whole: install writes want, uninstall
// removes it (the common part decides, from the markers).
func ownedFile(path string, want []byte, noBackup bool) fileEdit {
	return fileEdit{
		path:     path,
		kind:     owned,
		noBackup: noBackup,
		install: func(orig []byte) ([]byte, bool, error) {
			if orig != nil && bytes.Equal(orig, want) {
				return orig, false, nil
			}
			return want, true, nil
		},
	}
}

func hookEdits(o Options) []fileEdit {
	dir := withDefault(o.HooksDir, DefaultHooksDir)
	var fs []fileEdit
	for _, h := range hookFiles {
		b, _ := HookJSON(h.name, o.BinDir)
		fs = append(fs, ownedFile(filepath.Join(dir, h.name), b, false))
	}
	return fs
}

// PodmanDropIn returns the containers.conf drop-in that defines the runtime
// name procview, for `podman --runtime procview`.
func PodmanDropIn(binDir string) []byte {
	return []byte("# Added by procview install; removed by procview uninstall --engine podman.\n" +
		"[engine.runtimes]\n" +
		RuntimeName + " = [" + tomlString(filepath.Join(binDir, WrapperName)) + "]\n")
}

func podmanPlan(o Options) plan {
	path := withDefault(o.Config, DefaultPodmanConfig)
	return plan{
		// containers.conf.d and hooks.d are read anew by every podman command.
		files: append([]fileEdit{ownedFile(path, PodmanDropIn(o.BinDir), false)}, hookEdits(o)...),
		check: "podman run --rm -m 256m IMAGE head -1 /proc/meminfo   (hooks.d, any runtime; or: podman --runtime procview run …)",
	}
}

// CrioDropIn returns the crio.conf.d drop-in that defines the runtime
// handler procview.
func CrioDropIn(binDir string) []byte {
	return []byte("# Added by procview install; removed by procview uninstall --engine crio.\n" +
		"[crio.runtime.runtimes." + RuntimeName + "]\n" +
		"runtime_path = " + tomlString(filepath.Join(binDir, WrapperName)) + "\n" +
		"runtime_type = \"oci\"\n" +
		"runtime_root = \"/run/procview-runc\"\n")
}

func crioPlan(o Options) plan {
	path := withDefault(o.Config, DefaultCrioConfig)
	return plan{
		// CRI-O parses every file in crio.conf.d, whatever its name: no
		// backup there. Its hooks.d directory is the same as podman's.
		files: append([]fileEdit{ownedFile(path, CrioDropIn(o.BinDir), true)}, hookEdits(o)...),
		next:  "restart CRI-O: systemctl restart crio (hooks.d is watched live)",
		check: "crio config 2>/dev/null | grep -A3 'runtimes.procview'   (Kubernetes: RuntimeClass handler procview)",
	}
}
