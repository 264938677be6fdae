package spec

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// ErrAmbiguousKeys means an object of the document repeats a key, or holds
// two keys that differ only in case. runc decodes config.json into Go
// structs, whose field matching is case-insensitive and where a repeated
// key merges into the same field; procview's raw-map editing would keep
// one of them and write the document back without the other (dropping,
// say, the seccomp profile of a second "linux"). Such a document is never
// edited.
var ErrAmbiguousKeys = errors.New("ambiguous keys")

// caseSensitiveMaps are the objects that runtime-spec decodes into Go
// maps: their keys are data (annotation names, sysctls, cgroup files), so
// "a" and "A" are two distinct keys there. Exact repeats still count.
var caseSensitiveMaps = map[string]bool{
	"annotations":             true,
	"linux.sysctl":            true,
	"linux.resources.unified": true,
	"linux.timeoffsets":       true,
	"linux.netdevices":        true,
}

// editedKeys are the members procview reads or writes, by the path of
// their object. A lone "Hooks" is read by runc as "hooks", but procview
// would add a "hooks" next to it and one of the two would be lost.
var editedKeys = map[string][]string{
	"":      {"hooks", "linux", "annotations", "process", "root"},
	"hooks": {StageCreateRuntime, StagePoststop},
	"linux": {"namespaces", "timeOffsets"},
}

// checkKeys walks the whole document with the token decoder and returns an
// error wrapping ErrAmbiguousKeys at the first object with a repeated key
// (anywhere) or with keys differing only in case (outside
// caseSensitiveMaps).
func checkKeys(b []byte) error {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if err := walkValue(d, ""); err != nil {
		return err
	}
	if _, err := d.Token(); err != io.EOF {
		return errors.New("trailing data after JSON object")
	}
	return nil
}

// walkValue consumes one value; path names it ("linux.resources", "" for
// the top level, array elements keep their array's path).
func walkValue(d *json.Decoder, path string) error {
	tok, err := d.Token()
	if err != nil {
		return fmt.Errorf("decode %s: %w", pathName(path), err)
	}
	switch tok {
	case json.Delim('{'):
		return walkObject(d, path)
	case json.Delim('['):
		for d.More() {
			if err := walkValue(d, path); err != nil {
				return err
			}
		}
		_, err := d.Token() // ']'
		return err
	}
	return nil
}

func walkObject(d *json.Decoder, path string) error {
	exact := map[string]bool{}
	folded := map[string]string{}
	foldCase := !caseSensitiveMaps[strings.ToLower(path)]
	edited := editedKeys[path]
	for d.More() {
		tok, err := d.Token()
		if err != nil {
			return fmt.Errorf("decode %s: %w", pathName(path), err)
		}
		key, _ := tok.(string)
		if exact[key] {
			return fmt.Errorf("%w: %q appears twice in %s", ErrAmbiguousKeys, key, pathName(path))
		}
		exact[key] = true
		if foldCase {
			low := strings.ToLower(key)
			if other, ok := folded[low]; ok {
				return fmt.Errorf("%w: %q and %q differ only in case in %s", ErrAmbiguousKeys, other, key, pathName(path))
			}
			folded[low] = key
		}
		for _, k := range edited {
			if key != k && strings.EqualFold(key, k) {
				return fmt.Errorf("%w: %q in %s is spelled %q in the OCI spec", ErrAmbiguousKeys, key, pathName(path), k)
			}
		}
		child := key
		if path != "" {
			child = path + "." + key
		}
		if err := walkValue(d, child); err != nil {
			return err
		}
	}
	_, err := d.Token() // '}'
	return err
}

func pathName(path string) string {
	if path == "" {
		return "the top level"
	}
	return path
}
