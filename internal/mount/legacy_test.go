//go:build linux

package mount

import "testing"

// TestLegacy runs the namespace tests again through the mount(2) path used on
// kernels without open_tree/mount_setattr.
func TestLegacy(t *testing.T) {
	requireRoot(t)
	forceLegacy = true
	defer func() { forceLegacy = false }()
	for _, tt := range []struct {
		name string
		fn   func(*testing.T)
	}{
		{"Mounts", TestBindIntoMounts},
		{"Refuses", TestBindIntoRefuses},
		{"Twice", TestBindIntoTwice},
		{"SharedSource", TestBindIntoSharedSource},
		{"UserNamespace", TestBindIntoUserNamespace},
		{"RuncHook", TestRuncHook},
	} {
		t.Run(tt.name, tt.fn)
	}
}
