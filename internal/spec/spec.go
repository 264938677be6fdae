// Package spec edits an OCI runtime config.json generically.
//
// The document is kept as raw JSON: only the objects procview edits
// (hooks, linux.namespaces, linux.timeOffsets) are decoded, and every other
// value is written back as the exact bytes it was read from (whitespace
// aside). Fields unknown to the vendored runtime-spec therefore survive, and
// so do numbers too big for float64. A typed decode + re-encode would drop
// them (integration.md §8).
package spec

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Hook stages procview uses, as spelled in config.json.
const (
	StageCreateRuntime = "createRuntime"
	StagePoststop      = "poststop"
)

// ErrNotObject is returned when a value that must be a JSON object is not.
var ErrNotObject = errors.New("not a JSON object")

// Spec is an OCI config.json held as raw JSON.
type Spec struct {
	top     map[string]json.RawMessage
	changed bool
}

// Read reads and parses the config.json at path.
func Read(path string) (*Spec, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read spec: %w", err)
	}
	s, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("parse spec %s: %w", path, err)
	}
	return s, nil
}

// Parse parses a config.json document; it must be a JSON object whose keys
// are unambiguous (checkKeys).
func Parse(b []byte) (*Spec, error) {
	if err := checkKeys(b); err != nil {
		return nil, err
	}
	top, err := object(b)
	if err != nil {
		return nil, err
	}
	if top == nil {
		return nil, fmt.Errorf("top level: %w", ErrNotObject)
	}
	return &Spec{top: top}, nil
}

// Changed reports whether any edit changed the document since Parse.
func (s *Spec) Changed() bool { return s.changed }

// Marshal encodes the document, indented, with keys sorted and every
// untouched value's bytes kept (HTML characters are not escaped).
func (s *Spec) Marshal() ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "\t")
	if err := enc.Encode(s.top); err != nil {
		return nil, fmt.Errorf("encode spec: %w", err)
	}
	return buf.Bytes(), nil
}

// Annotations returns the spec's annotations (nil when there are none).
func (s *Spec) Annotations() (map[string]string, error) {
	raw, ok := s.top["annotations"]
	if !ok || isNull(raw) {
		return nil, nil
	}
	var a map[string]string
	if err := json.Unmarshal(raw, &a); err != nil {
		return nil, fmt.Errorf("decode annotations: %w", err)
	}
	return a, nil
}

// Hooks returns the hooks of stage (e.g. "createRuntime").
func (s *Spec) Hooks(stage string) ([]specs.Hook, error) {
	hooks, err := s.child(s.top, "hooks")
	if err != nil || hooks == nil {
		return nil, err
	}
	entries, err := array(hooks[stage])
	if err != nil {
		return nil, fmt.Errorf("hooks.%s: %w", stage, err)
	}
	out := make([]specs.Hook, 0, len(entries))
	for i, e := range entries {
		var h specs.Hook
		if err := json.Unmarshal(e, &h); err != nil {
			return nil, fmt.Errorf("decode hooks.%s[%d]: %w", stage, i, err)
		}
		out = append(out, h)
	}
	return out, nil
}

// AddHook appends h to stage unless a hook with the same path and args is
// already there. It reports whether it added h.
func (s *Spec) AddHook(stage string, h specs.Hook) (bool, error) {
	existing, err := s.Hooks(stage)
	if err != nil {
		return false, err
	}
	for _, e := range existing {
		if sameHook(e, h) {
			return false, nil
		}
	}
	hooks, err := s.child(s.top, "hooks")
	if err != nil {
		return false, err
	}
	if hooks == nil {
		hooks = map[string]json.RawMessage{}
	}
	entries, _ := array(hooks[stage]) // checked by Hooks above
	hb, err := marshal(h)
	if err != nil {
		return false, err
	}
	entries = append(entries, hb)
	if hooks[stage], err = marshal(entries); err != nil {
		return false, err
	}
	if s.top["hooks"], err = marshal(hooks); err != nil {
		return false, err
	}
	s.changed = true
	return true, nil
}

func sameHook(a, b specs.Hook) bool {
	if a.Path != b.Path || len(a.Args) != len(b.Args) {
		return false
	}
	for i := range a.Args {
		if a.Args[i] != b.Args[i] {
			return false
		}
	}
	return true
}

// HasLinux reports whether the spec has a "linux" object.
func (s *Spec) HasLinux() bool {
	raw, ok := s.top["linux"]
	return ok && !isNull(raw)
}

// Namespaces returns linux.namespaces.
func (s *Spec) Namespaces() ([]specs.LinuxNamespace, error) {
	linux, err := s.child(s.top, "linux")
	if err != nil || linux == nil {
		return nil, err
	}
	entries, err := array(linux["namespaces"])
	if err != nil {
		return nil, fmt.Errorf("linux.namespaces: %w", err)
	}
	out := make([]specs.LinuxNamespace, 0, len(entries))
	for i, e := range entries {
		var ns specs.LinuxNamespace
		if err := json.Unmarshal(e, &ns); err != nil {
			return nil, fmt.Errorf("decode linux.namespaces[%d]: %w", i, err)
		}
		out = append(out, ns)
	}
	return out, nil
}

// AddNamespace appends ns to linux.namespaces unless a namespace of the same
// type is listed. It creates "linux" when missing and reports whether it
// added ns.
func (s *Spec) AddNamespace(ns specs.LinuxNamespace) (bool, error) {
	existing, err := s.Namespaces()
	if err != nil {
		return false, err
	}
	for _, e := range existing {
		if e.Type == ns.Type {
			return false, nil
		}
	}
	linux, err := s.child(s.top, "linux")
	if err != nil {
		return false, err
	}
	if linux == nil {
		linux = map[string]json.RawMessage{}
	}
	entries, _ := array(linux["namespaces"]) // checked by Namespaces above
	nb, err := marshal(ns)
	if err != nil {
		return false, err
	}
	entries = append(entries, nb)
	if linux["namespaces"], err = marshal(entries); err != nil {
		return false, err
	}
	if s.top["linux"], err = marshal(linux); err != nil {
		return false, err
	}
	s.changed = true
	return true, nil
}

// SetTimeOffset sets linux.timeOffsets[clock] unless that clock already has
// an offset. It reports whether it set it.
func (s *Spec) SetTimeOffset(clock string, off specs.LinuxTimeOffset) (bool, error) {
	linux, err := s.child(s.top, "linux")
	if err != nil {
		return false, err
	}
	if linux == nil {
		linux = map[string]json.RawMessage{}
	}
	offsets, err := s.child(linux, "timeOffsets")
	if err != nil {
		return false, fmt.Errorf("linux.%w", err)
	}
	if offsets == nil {
		offsets = map[string]json.RawMessage{}
	}
	if _, ok := offsets[clock]; ok {
		return false, nil
	}
	if offsets[clock], err = marshal(off); err != nil {
		return false, err
	}
	if linux["timeOffsets"], err = marshal(offsets); err != nil {
		return false, err
	}
	if s.top["linux"], err = marshal(linux); err != nil {
		return false, err
	}
	s.changed = true
	return true, nil
}

// child decodes parent[key] as an object; nil when absent or null.
func (s *Spec) child(parent map[string]json.RawMessage, key string) (map[string]json.RawMessage, error) {
	raw, ok := parent[key]
	if !ok {
		return nil, nil
	}
	m, err := object(raw)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", key, err)
	}
	return m, nil
}

// object decodes a JSON object into raw members; nil for null.
func object(b []byte) (map[string]json.RawMessage, error) {
	if isNull(b) {
		return nil, nil
	}
	if t := bytes.TrimSpace(b); len(t) == 0 || t[0] != '{' {
		return nil, ErrNotObject
	}
	var m map[string]json.RawMessage
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if err := d.Decode(&m); err != nil {
		return nil, fmt.Errorf("decode object: %w", err)
	}
	if d.More() {
		return nil, errors.New("trailing data after JSON object")
	}
	if m == nil {
		m = map[string]json.RawMessage{}
	}
	return m, nil
}

// array decodes a JSON array into raw elements; nil for absent or null.
func array(b []byte) ([]json.RawMessage, error) {
	if len(b) == 0 || isNull(b) {
		return nil, nil
	}
	var a []json.RawMessage
	if err := json.Unmarshal(b, &a); err != nil {
		return nil, fmt.Errorf("decode array: %w", err)
	}
	return a, nil
}

func isNull(b []byte) bool { return string(bytes.TrimSpace(b)) == "null" }

// marshal encodes v compactly without HTML escaping, so raw members that
// hold "<" or "&" come back as they were read.
func marshal(v any) (json.RawMessage, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("encode: %w", err)
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

// WriteFile replaces path with b atomically: it writes a temporary file in
// the same directory, fsyncs it, gives it path's mode and owner, renames it
// over path and fsyncs the directory. Readers see the old or the new file,
// never a partial one.
func WriteFile(path string, b []byte) (err error) {
	dir := filepath.Dir(path)
	mode := os.FileMode(0o644)
	uid, gid := -1, -1
	if fi, serr := os.Stat(path); serr == nil {
		mode = fi.Mode().Perm()
		uid, gid = owner(fi)
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".procview-*")
	if err != nil {
		return fmt.Errorf("create temp spec in %s: %w", dir, err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(tmp)
		}
	}()
	if _, err = f.Write(b); err != nil {
		return fmt.Errorf("write %s: %w", tmp, err)
	}
	if err = f.Chmod(mode); err != nil {
		return fmt.Errorf("chmod %s: %w", tmp, err)
	}
	if uid >= 0 && (uid != os.Geteuid() || gid != os.Getegid()) {
		if err = f.Chown(uid, gid); err != nil {
			return fmt.Errorf("chown %s: %w", tmp, err)
		}
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("fsync %s: %w", tmp, err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("close %s: %w", tmp, err)
	}
	if err = os.Rename(tmp, path); err != nil {
		return fmt.Errorf("rename %s: %w", tmp, err)
	}
	if d, derr := os.Open(dir); derr == nil {
		// Best effort: the rename is already visible to runc.
		_ = d.Sync()
		_ = d.Close()
	}
	return nil
}

// IsOptOut reports whether an io.procview.enabled annotation value turns
// procview off.
func IsOptOut(v string) bool {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "false", "0", "no", "off":
		return true
	}
	return false
}

func owner(fi os.FileInfo) (uid, gid int) {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return int(st.Uid), int(st.Gid)
	}
	return -1, -1
}
