//go:build linux

package mount

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
)

// propagation keeps view mounts inside the container. A container mount
// that is a shared peer of a mount in runc's (the parent's) mount
// namespace, e.g. /sys bound rshared (docker's `-v /sys:/sys:rshared`,
// Kubernetes' Bidirectional hostPath) with rootfsPropagation "shared",
// passes every mount made on it to that peer: the parent would then read
// the container's CPU list in /sys/devices/system/cpu/online, and keep it
// after the container is gone. Such a target is skipped. Making the mount
// private first would keep the view inside, but it would also silently
// cut the propagation the user asked for.
type propagation struct {
	// outside holds the peer groups of runc's and init's mount namespaces.
	outside map[int]bool
	// inside maps the container namespace's mount IDs to their entries;
	// err says why it could not be read.
	inside map[int]mountEntry
	err    error
}

// readInside reads the container's mount table; it runs on the thread that
// entered the container's mount namespace.
func (p *propagation) readInside() {
	data, err := os.ReadFile("/proc/thread-self/mountinfo")
	if err != nil {
		p.err = fmt.Errorf("read container mountinfo: %w", err)
		return
	}
	entries, err := parseMountEntries(data)
	if err != nil {
		p.err = fmt.Errorf("parse container mountinfo: %w", err)
		return
	}
	p.inside = make(map[int]mountEntry, len(entries))
	for _, e := range entries {
		p.inside[e.id] = e
	}
}

// check refuses a target whose mount is a shared peer of a mount outside
// the container. Without the container's mount table nothing is mounted.
func (p *propagation) check(target *os.File, name string) error {
	if p.err != nil {
		return fmt.Errorf("target %s: cannot tell its mount's propagation: %w", name, p.err)
	}
	id, err := mountID(target)
	if err != nil {
		return fmt.Errorf("target %s: %w", name, err)
	}
	e, ok := p.inside[id]
	if !ok {
		return fmt.Errorf("target %s: mount %d not in the container's mountinfo", name, id)
	}
	if e.shared != 0 && p.outside[e.shared] {
		return fmt.Errorf("target %s: %w: its mount (%s) is shared with peer group %d outside the container; view skipped",
			name, ErrPropagates, e.point, e.shared)
	}
	return nil
}

// mountID is the ID of the mount f lives on, from /proc/thread-self/fdinfo.
func mountID(f *os.File) (int, error) {
	p := fmt.Sprintf("/proc/thread-self/fdinfo/%d", f.Fd())
	data, err := os.ReadFile(p)
	if err != nil {
		return 0, fmt.Errorf("read %s: %w", p, err)
	}
	for _, line := range bytes.Split(data, []byte("\n")) {
		if v, ok := bytes.CutPrefix(line, []byte("mnt_id:")); ok {
			id, err := strconv.Atoi(string(bytes.TrimSpace(v)))
			if err != nil {
				return 0, fmt.Errorf("%s: mnt_id %q: %w", p, v, err)
			}
			return id, nil
		}
	}
	return 0, fmt.Errorf("%s: no mnt_id", p)
}
