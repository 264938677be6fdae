//go:build linux

package mount

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"
)

func TestCheckRootfs(t *testing.T) {
	tests := []struct {
		rootfs string
		ok     bool
	}{
		{"/var/lib/c/rootfs", true},
		{"/r", true},
		{"", false},
		{"/", false},
		{"rootfs", false},
		{"./rootfs", false},
		{"/var/lib/../etc", false},
		{"/var/lib/c/rootfs/", false},
		{"/var//lib", false},
		{"/var/lib/c/rootfs/..", false},
	}
	for _, tt := range tests {
		err := checkRootfs(tt.rootfs)
		if (err == nil) != tt.ok {
			t.Errorf("checkRootfs(%q) = %v, want ok=%v", tt.rootfs, err, tt.ok)
		}
	}
}

func TestCheckTarget(t *testing.T) {
	tests := []struct {
		target string
		ok     bool
	}{
		{"/proc/meminfo", true},
		{"/proc/pressure/io", true},
		{"/sys/devices/system/cpu/online", true},
		{"/proc", false},
		{"/sys", false},
		{"/proc/", false},
		{"/etc/passwd", false},
		{"/procfoo/meminfo", false},
		{"proc/meminfo", false},
		{"/proc/../etc/passwd", false},
		{"/proc/./meminfo", false},
		{"/proc//meminfo", false},
		{"", false},
	}
	for _, tt := range tests {
		err := checkTarget(tt.target)
		if (err == nil) != tt.ok {
			t.Errorf("checkTarget(%q) = %v, want ok=%v", tt.target, err, tt.ok)
		}
		if err != nil && !errors.Is(err, ErrBadPath) {
			t.Errorf("checkTarget(%q) = %v, want ErrBadPath", tt.target, err)
		}
	}
}

func TestExpectedMagic(t *testing.T) {
	tests := []struct {
		target string
		want   int64
	}{
		{"/proc/meminfo", unix.PROC_SUPER_MAGIC},
		{"/sys/devices/system/cpu/online", unix.SYSFS_MAGIC},
		{"/dev/null", 0},
		{"/proc", 0},
	}
	for _, tt := range tests {
		if got := expectedMagic(tt.target); got != tt.want {
			t.Errorf("expectedMagic(%q) = %#x, want %#x", tt.target, got, tt.want)
		}
	}
}

func TestMountAttrs(t *testing.T) {
	tests := []struct {
		name  string
		flags int64
		want  uint64
	}{
		{"plain", 0, unix.MOUNT_ATTR_RDONLY},
		{"relatime ignored", unix.ST_RELATIME, unix.MOUNT_ATTR_RDONLY},
		{"nosuid", unix.ST_NOSUID, unix.MOUNT_ATTR_RDONLY | unix.MOUNT_ATTR_NOSUID},
		{"all three", unix.ST_NOSUID | unix.ST_NODEV | unix.ST_NOEXEC | unix.ST_RELATIME,
			unix.MOUNT_ATTR_RDONLY | unix.MOUNT_ATTR_NOSUID | unix.MOUNT_ATTR_NODEV | unix.MOUNT_ATTR_NOEXEC},
	}
	for _, tt := range tests {
		if got := mountAttrs(tt.flags); got != tt.want {
			t.Errorf("%s: mountAttrs(%#x) = %#x, want %#x", tt.name, tt.flags, got, tt.want)
		}
	}
}

func TestParseMountPoints(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []string
		wantErr bool
	}{
		{
			name: "typical",
			in: "22 27 0:21 / /proc rw,relatime - proc proc rw\n" +
				"27 1 254:0 / / rw,relatime - ext4 /dev/vda rw\n" +
				"90 22 0:40 /meminfo /r/proc/meminfo ro,nosuid,nodev,noexec,relatime shared:7 - tmpfs tmpfs rw\n",
			want: []string{"/proc", "/", "/r/proc/meminfo"},
		},
		{
			name: "escaped space, tab, newline and backslash",
			in:   `1 0 0:1 / /a\040b\011c\012d\134e rw - tmpfs tmpfs rw` + "\n",
			want: []string{"/a b\tc\nd\\e"},
		},
		{name: "empty", in: "", want: nil},
		{name: "blank lines", in: "\n\n", want: nil},
		{name: "short line", in: "1 0 0:1 /\n", wantErr: true},
		{name: "truncated escape", in: `1 0 0:1 / /a\04 rw - t t rw`, wantErr: true},
		{name: "bad escape", in: `1 0 0:1 / /a\9zz rw - t t rw`, wantErr: true},
	}
	for _, tt := range tests {
		got, err := parseMountPoints([]byte(tt.in))
		if (err != nil) != tt.wantErr {
			t.Errorf("%s: err = %v, wantErr %v", tt.name, err, tt.wantErr)
			continue
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s: mount points (-want +got):\n%s", tt.name, diff)
		}
	}
}

func TestStatusString(t *testing.T) {
	seen := map[string]Status{}
	for _, s := range []Status{StatusMounted, StatusMissing, StatusRefused, StatusFailed, Status(42)} {
		name := s.String()
		if prev, dup := seen[name]; dup {
			t.Errorf("%d and %d both print as %q", prev, s, name)
		}
		seen[name] = s
	}
}

func TestMsFlags(t *testing.T) {
	tests := []struct {
		attrs uint64
		want  uintptr
	}{
		{0, 0},
		{unix.MOUNT_ATTR_RDONLY, unix.MS_RDONLY},
		{unix.MOUNT_ATTR_RDONLY | unix.MOUNT_ATTR_NOSUID | unix.MOUNT_ATTR_NODEV | unix.MOUNT_ATTR_NOEXEC,
			unix.MS_RDONLY | unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC},
		{unix.MOUNT_ATTR_NOEXEC, unix.MS_NOEXEC},
	}
	for _, tt := range tests {
		if got := msFlags(tt.attrs); got != tt.want {
			t.Errorf("msFlags(%#x) = %#x, want %#x", tt.attrs, got, tt.want)
		}
	}
}
