package install

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/BurntSushi/toml"
)

// Markers around the block install appends to TOML files it shares with
// others. TOML cannot be re-encoded without losing comments and layout, so
// install only ever appends this block and uninstall only ever removes it.
const (
	beginMark = "# BEGIN procview"
	endMark   = "# END procview"
	// noEOLNote on the BEGIN line records that the original file did not
	// end with a newline, so that uninstall can restore that too.
	noEOLNote = " (the file above had no final newline)"
	beginText = beginMark + ": added by procview install, removed by procview uninstall"
)

// inlineRuntimes matches a runtimes table written as an inline table.
var inlineRuntimes = regexp.MustCompile(`(?m)^[^#\n]*\bruntimes[ \t]*=[ \t]*\{`)

func containerdPlan(o Options) plan {
	path := withDefault(o.Config, DefaultContainerdConfig)
	wrapper := filepath.Join(o.BinDir, WrapperName)
	return plan{
		files: []fileEdit{{
			path:      path,
			kind:      shared,
			marked:    true,
			install:   func(b []byte) ([]byte, bool, error) { return ContainerdInstall(b, wrapper) },
			uninstall: ContainerdUninstall,
		}},
		// containerd reads its config only at start.
		next:  "restart containerd: systemctl restart containerd",
		check: "containerd config dump | grep -A3 'runtimes.procview'   (Kubernetes: RuntimeClass handler procview)",
	}
}

// criRuntimesPath returns the TOML table path (as written in a header) and
// the key path of the CRI plugin's runtimes table for a config version.
func criRuntimesPath(version int64) (header string, keys []string, err error) {
	switch version {
	case 1:
		return `plugins.cri.containerd.runtimes`, []string{"plugins", "cri", "containerd", "runtimes"}, nil
	case 2:
		return `plugins."io.containerd.grpc.v1.cri".containerd.runtimes`,
			[]string{"plugins", "io.containerd.grpc.v1.cri", "containerd", "runtimes"}, nil
	case 3:
		return `plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes`,
			[]string{"plugins", "io.containerd.cri.v1.runtime", "containerd", "runtimes"}, nil
	}
	return "", nil, fmt.Errorf("unsupported containerd config version %d", version)
}

// ContainerdInstall appends a runtime "procview" (runc.v2 shim with
// BinaryName = wrapper, SystemdCgroup copied from the default runtime) to a
// containerd config.toml text, in a marked block. A missing or empty file
// becomes a minimal version 2 config. A procview block from an earlier run
// is replaced when it differs; a procview runtime defined outside the block
// is left alone (changed = false).
func ContainerdInstall(orig []byte, wrapper string) ([]byte, bool, error) {
	base, _, err := ContainerdUninstall(orig)
	if err != nil {
		return nil, false, err
	}
	var doc map[string]any
	md, err := toml.Decode(string(base), &doc)
	if err != nil {
		return nil, false, fmt.Errorf("parse TOML: %w", err)
	}
	version, addVersion := int64(1), false
	switch v := doc["version"].(type) {
	case int64:
		version = v
	case nil:
		if len(md.Keys()) == 0 {
			// Empty or comments only: containerd would read version 1;
			// declare version 2 (every containerd since 1.3 reads it).
			version, addVersion = 2, true
		}
	default:
		return nil, false, fmt.Errorf("version = %v is not an integer", v)
	}
	header, keys, err := criRuntimesPath(version)
	if err != nil {
		return nil, false, err
	}
	if inlineRuntimes.Match(base) {
		// TOML forbids extending an inline table with a later header.
		return nil, false, fmt.Errorf("the runtimes table is written inline (runtimes = {…}); add the procview runtime by hand")
	}
	runtimes, _ := lookup(doc, keys...).(map[string]any)
	if _, ok := runtimes[RuntimeName]; ok {
		return orig, false, nil // configured by hand
	}
	defName := "runc"
	if s, ok := lookup(doc, append(keys[:len(keys)-1:len(keys)-1], "default_runtime_name")...).(string); ok && s != "" && s != RuntimeName {
		defName = s
	}
	systemd, hasSystemd := lookup(runtimes, defName, "options", "SystemdCgroup").(bool)
	// containerd replaces its built-in runtimes map with the file's as soon
	// as the file names one runtime, and then refuses to load the CRI plugin
	// ("no corresponding runtime configured ... default_runtime_name =
	// \"runc\"", measured on 1.6.20): define runc as built in when the
	// file does not.
	_, hasRunc := runtimes["runc"]
	addRunc := defName == "runc" && !hasRunc

	var blk strings.Builder
	blk.WriteString(beginText)
	if len(base) > 0 && base[len(base)-1] != '\n' {
		blk.WriteString(noEOLNote)
	}
	blk.WriteString("\n")
	if addVersion {
		blk.WriteString("version = 2\n\n")
	}
	if addRunc {
		blk.WriteString("# containerd's built-in runc, which a runtimes table in this file would drop.\n")
		fmt.Fprintf(&blk, "[%s.runc]\n", header)
		blk.WriteString("  runtime_type = \"io.containerd.runc.v2\"\n\n")
	}
	fmt.Fprintf(&blk, "[%s.%s]\n", header, RuntimeName)
	blk.WriteString("  runtime_type = \"io.containerd.runc.v2\"\n\n")
	fmt.Fprintf(&blk, "  [%s.%s.options]\n", header, RuntimeName)
	fmt.Fprintf(&blk, "    BinaryName = %s\n", tomlString(wrapper))
	if hasSystemd {
		fmt.Fprintf(&blk, "    SystemdCgroup = %t\n", systemd)
	}
	blk.WriteString(endMark + "\n")

	var out bytes.Buffer
	out.Write(base)
	if len(base) > 0 {
		if base[len(base)-1] != '\n' {
			out.WriteByte('\n')
		}
		out.WriteByte('\n')
	}
	out.WriteString(blk.String())
	next := out.Bytes()
	// Catch what text insertion cannot see, e.g. runtimes given as an
	// inline table, which cannot be extended by a later header.
	var check map[string]any
	if _, err := toml.Decode(string(next), &check); err != nil {
		return nil, false, fmt.Errorf("adding the procview runtime would break the file (%w); add it by hand", err)
	}
	if lookup(check, append(keys[:len(keys):len(keys)], RuntimeName, "options", "BinaryName")...) != wrapper {
		return nil, false, fmt.Errorf("the added procview runtime does not show up under %s; add it by hand", header)
	}
	if bytes.Equal(next, orig) {
		return orig, false, nil
	}
	return next, true, nil
}

// ContainerdUninstall removes the block ContainerdInstall appended (and the
// blank line before it), restoring the text before it byte for byte.
func ContainerdUninstall(cur []byte) ([]byte, bool, error) {
	return removeBlock(cur)
}

// removeBlock removes the first marked block of a TOML text.
func removeBlock(cur []byte) ([]byte, bool, error) {
	start := lineStart(cur, beginMark)
	if start < 0 {
		return cur, false, nil
	}
	endRel := lineStart(cur[start:], endMark)
	if endRel < 0 {
		return nil, false, fmt.Errorf("%q without %q: fix the file by hand", beginMark, endMark)
	}
	end := start + endRel
	if nl := bytes.IndexByte(cur[end:], '\n'); nl >= 0 {
		end += nl + 1
	} else {
		end = len(cur)
	}
	beginLine := cur[start:]
	if nl := bytes.IndexByte(beginLine, '\n'); nl >= 0 {
		beginLine = beginLine[:nl]
	}
	prefix := cur[:start]
	if len(prefix) > 0 {
		prefix = bytes.TrimSuffix(prefix, []byte("\n"))
		if bytes.Contains(beginLine, []byte(noEOLNote)) {
			prefix = bytes.TrimSuffix(prefix, []byte("\n"))
		}
	}
	out := append(append([]byte{}, prefix...), cur[end:]...)
	return out, true, nil
}

// lineStart returns the offset of the first line of b that starts with
// prefix, or -1.
func lineStart(b []byte, prefix string) int {
	for off := 0; off < len(b); {
		if bytes.HasPrefix(b[off:], []byte(prefix)) {
			return off
		}
		nl := bytes.IndexByte(b[off:], '\n')
		if nl < 0 {
			return -1
		}
		off += nl + 1
	}
	return -1
}

// lookup walks nested TOML tables; nil when a key is missing.
func lookup(v any, keys ...string) any {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

// tomlString quotes s as a TOML basic string (JSON's escapes are a subset).
func tomlString(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	return strings.TrimSuffix(b.String(), "\n")
}
