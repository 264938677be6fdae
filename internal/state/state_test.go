package state

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

func TestKeyUnambiguous(t *testing.T) {
	weird := "../../etc"
	hashed := Key(weird)
	if !regexp.MustCompile(`^h-[0-9a-f]{32}$`).MatchString(hashed) {
		t.Fatalf("Key(%q) = %q, want a hashed key", weird, hashed)
	}
	// A literal id spelling another id's hashed key must not get its directory.
	if got := Key(hashed); got == hashed {
		t.Errorf("Key(%q) = %q: a literal id names a hashed key", hashed, got)
	}
	for _, id := range []string{"abc", "h-abc", "h-" + "0123456789abcdef0123456789abcde", "c0ffee"} {
		if got := Key(id); got != id {
			t.Errorf("Key(%q) = %q, want the id itself", id, got)
		}
	}
}

func TestWriteMetaIgnoresPlantedTemp(t *testing.T) {
	dir := t.TempDir()
	outside := filepath.Join(t.TempDir(), "victim")
	if err := os.WriteFile(outside, []byte("keep"), 0o644); err != nil {
		t.Fatal(err)
	}
	// The old fixed temp name, planted as a symlink out of the state root.
	if err := os.Symlink(outside, filepath.Join(dir, "meta.json.tmp")); err != nil {
		t.Fatal(err)
	}
	if err := WriteMeta(dir, &Meta{ID: "x", Pid: 1}); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(outside); string(b) != "keep" {
		t.Errorf("file behind the planted symlink now holds %q", b)
	}
	m, err := ReadMeta(dir)
	if err != nil || m.ID != "x" {
		t.Fatalf("ReadMeta = %+v, %v", m, err)
	}
	left, _ := filepath.Glob(filepath.Join(dir, ".meta.json.tmp-*"))
	if len(left) != 0 {
		t.Errorf("temp files left: %v", left)
	}
}

func TestRemoveIf(t *testing.T) {
	root := Root(t.TempDir())
	if err := os.MkdirAll(root.Dir("c"), 0o755); err != nil {
		t.Fatal(err)
	}
	old, err := root.Ident("c")
	if err != nil {
		t.Fatal(err)
	}
	// Re-created with the same id: the old identity must not remove it.
	if err := os.Remove(root.Dir("c")); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(root.Dir("c"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root.Dir("c"), "meta.json"), []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	cur, _ := root.Ident("c")
	if cur == old {
		t.Skip("filesystem reused the inode number")
	}
	if err := root.RemoveIf("c", old); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root.Dir("c"), "meta.json")); err != nil {
		t.Fatalf("new directory was removed: %v", err)
	}
	if err := root.RemoveIf("c", cur); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(root.Dir("c")); !os.IsNotExist(err) {
		t.Errorf("directory still there: %v", err)
	}
	if keys, _ := root.List(); len(keys) != 0 {
		t.Errorf("List = %v, want none", keys)
	}
	if err := root.RemoveIf("c", cur); err != nil {
		t.Errorf("RemoveIf on a missing directory: %v", err)
	}
}
