//go:build linux

package mount

import "testing"

func TestMountShared(t *testing.T) {
	mi := []byte("29 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw\n" +
		"40 29 0:21 / /sys rw,nosuid master:7 - sysfs sysfs rw\n" +
		"41 29 0:22 / /proc rw - proc proc rw\n")
	for id, want := range map[string]bool{"29": true, "40": false, "41": false} {
		got, err := mountShared(mi, id)
		if err != nil || got != want {
			t.Errorf("mountShared(%s) = %v, %v; want %v", id, got, err, want)
		}
	}
	if _, err := mountShared(mi, "99"); err == nil {
		t.Error("unknown mount id: no error")
	}
}
