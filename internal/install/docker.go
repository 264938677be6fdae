package install

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path/filepath"
	"reflect"
)

// RuntimeName is the name procview registers with every engine (docker
// --runtime, containerd runtime handler, podman --runtime, CRI-O handler).
const RuntimeName = "procview"

// WrapperName and HookName are the binaries engines are pointed at.
const (
	WrapperName = "procview-runc"
	HookName    = "procview-hook"
)

func dockerPlan(o Options) plan {
	path := withDefault(o.Config, DefaultDockerConfig)
	wrapper := filepath.Join(o.BinDir, WrapperName)
	return plan{
		files: []fileEdit{{
			path:      path,
			kind:      shared,
			install:   func(b []byte) ([]byte, bool, error) { return DockerInstall(b, wrapper) },
			uninstall: DockerUninstall,
			blank: func(b []byte) bool {
				return string(bytes.TrimSpace(b)) == "{}" || len(bytes.TrimSpace(b)) == 0
			},
		}},
		// dockerd reloads "runtimes" on SIGHUP (dockerd(8), "Configuration
		// reload behavior").
		next: "reload dockerd: systemctl reload docker (or: kill -HUP $(pidof dockerd))",
		// Measured on docker 20.10: a reload keeps the old runtimes when
		// daemon.json no longer has a "runtimes" key.
		nextUninstall: "restart dockerd (a reload keeps the runtime): systemctl restart docker",
		check:         "docker info --format '{{json .Runtimes}}' | grep -q procview && docker run --rm --runtime procview -m 256m IMAGE head -1 /proc/meminfo",
	}
}

// DockerInstall adds "runtimes": {"procview": {"path": wrapper}} to a
// daemon.json text (nil or blank: a new file), leaving every other byte as
// it was. A procview entry with other content is replaced.
func DockerInstall(orig []byte, wrapper string) ([]byte, bool, error) {
	pathJSON, err := json.Marshal(wrapper)
	if err != nil {
		return nil, false, err
	}
	if len(bytes.TrimSpace(orig)) == 0 {
		st := jsonStyle{pretty: true, unit: "    ", colon: ": "}
		return []byte(dockerDoc(string(pathJSON), st) + "\n"), true, nil
	}
	top, err := parseTopObject(orig)
	if err != nil {
		return nil, false, err
	}
	st := detectStyle(orig, top)
	ri, ok := top.member("runtimes")
	if !ok {
		ind := memberIndent(orig, top, st)
		return insertMember(orig, top, "runtimes", runtimesValue(string(pathJSON), ind, st), st), true, nil
	}
	rm := top.members[ri]
	runtimes, err := parseObjectAt(orig, rm.valueStart)
	if err != nil {
		return nil, false, fmt.Errorf("\"runtimes\": %w", err)
	}
	pi, ok := runtimes.member(RuntimeName)
	if !ok {
		if len(runtimes.members) > 0 && !bytes.ContainsRune(wsBeforeLast(orig, runtimes), '\n') {
			// The runtimes are written on one line: add procview likewise.
			st = jsonStyle{colon: st.colon}
		}
		ind := memberIndent(orig, runtimes, st)
		return insertMember(orig, runtimes, RuntimeName, entryValue(string(pathJSON), ind, st), st), true, nil
	}
	pm := runtimes.members[pi]
	var have any
	if err := json.Unmarshal(orig[pm.valueStart:pm.valueEnd], &have); err != nil {
		return nil, false, fmt.Errorf("runtimes.procview: %w", err)
	}
	if reflect.DeepEqual(have, map[string]any{"path": wrapper}) {
		return orig, false, nil
	}
	ind := lineIndent(orig, pm.keyStart)
	if !st.pretty {
		ind = ""
	}
	var out bytes.Buffer
	out.Write(orig[:pm.valueStart])
	out.WriteString(entryValue(string(pathJSON), ind, st))
	out.Write(orig[pm.valueEnd:])
	return out.Bytes(), true, nil
}

// DockerUninstall removes runtimes.procview from a daemon.json text, and
// "runtimes" itself when procview was its only entry. What DockerInstall
// wrote for a missing file becomes "{}\n".
func DockerUninstall(cur []byte) ([]byte, bool, error) {
	if len(bytes.TrimSpace(cur)) == 0 {
		return cur, false, nil
	}
	top, err := parseTopObject(cur)
	if err != nil {
		return nil, false, err
	}
	ri, ok := top.member("runtimes")
	if !ok {
		return cur, false, nil
	}
	rm := top.members[ri]
	runtimes, err := parseObjectAt(cur, rm.valueStart)
	if err != nil {
		return nil, false, fmt.Errorf("\"runtimes\": %w", err)
	}
	pi, ok := runtimes.member(RuntimeName)
	if !ok {
		return cur, false, nil
	}
	if len(runtimes.members) > 1 {
		return removeMember(cur, runtimes, pi), true, nil
	}
	return removeMember(cur, top, ri), true, nil
}

func entryValue(pathJSON, ind string, st jsonStyle) string {
	return layoutObject([]string{"path"}, []string{pathJSON}, ind, st)
}

func runtimesValue(pathJSON, ind string, st jsonStyle) string {
	return layoutObject([]string{RuntimeName}, []string{entryValue(pathJSON, ind+st.unit, st)}, ind, st)
}

func dockerDoc(pathJSON string, st jsonStyle) string {
	return layoutObject([]string{"runtimes"}, []string{runtimesValue(pathJSON, st.unit, st)}, "", st)
}
