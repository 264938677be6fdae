package spec

import (
	"encoding/json"
	"fmt"
	"runtime"
	"slices"
)

// Seccomp actions as spelled in config.json.
const (
	ActAllow  = "SCMP_ACT_ALLOW"
	ActLog    = "SCMP_ACT_LOG"
	ActNotify = "SCMP_ACT_NOTIFY"
)

// HostArchitectures lists the seccomp architectures a profile procview
// adds must name on this host: the native one and those whose binaries
// the kernel runs natively (i386 and x32 on x86_64, arm on arm64).
// libseccomp kills callers of an architecture the profile does not list.
// Nil on other hosts: procview adds no profile there.
func HostArchitectures() []string {
	switch runtime.GOARCH {
	case "amd64":
		return []string{"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"}
	case "arm64":
		return []string{"SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"}
	}
	return nil
}

// NotifySyscalls makes Syscalls notify the seccomp listener at
// ListenerPath (procview-agent's socket), with Metadata (the container's
// state key) in every hand-over:
//
//   - a profile whose effective action for each syscall is allow or log
//     gets the name removed from every unconditional rule naming it and a
//     SCMP_ACT_NOTIFY rule first (libseccomp keeps the first unconditional
//     rule for a syscall and silently drops later ones);
//   - no profile: one is added with defaultAction SCMP_ACT_ALLOW, the
//     notify rule and Architectures;
//   - the spec is left alone, with the reason in *Skipped, when the
//     profile has a listenerPath of its own, denies (or traps, or already
//     notifies) one of the syscalls, has a rule with argument conditions
//     for it, or when there is no profile and Architectures is empty.
type NotifySyscalls struct {
	Syscalls      []string
	ListenerPath  string
	Metadata      string
	Architectures []string
	// Skipped, when not nil, receives why the spec was left alone ("" when
	// it was edited).
	Skipped *string
}

var _ Modifier = NotifySyscalls{}

// rule is the part of a seccomp rule procview reads; the rest of the
// object is kept as raw JSON.
type rule struct {
	Names  []string          `json:"names"`
	Action string            `json:"action"`
	Args   []json.RawMessage `json:"args"`
}

// Modify implements Modifier.
func (n NotifySyscalls) Modify(s *Spec) error {
	reason, err := n.apply(s)
	if n.Skipped != nil {
		*n.Skipped = reason
	}
	return err
}

func (n NotifySyscalls) apply(s *Spec) (string, error) {
	if len(n.Syscalls) == 0 {
		return "no system call configured", nil
	}
	linux, err := s.child(s.top, "linux")
	if err != nil {
		return "", err
	}
	if linux == nil {
		return "spec has no linux object", nil
	}
	notify := map[string]any{"names": n.Syscalls, "action": ActNotify}
	sec, err := s.child(linux, "seccomp")
	if err != nil {
		return "", fmt.Errorf("linux.%w", err)
	}
	if sec == nil {
		if len(n.Architectures) == 0 {
			return "no seccomp profile and no known architectures for this host", nil
		}
		sec = map[string]json.RawMessage{}
		if err := setAll(sec, map[string]any{
			"defaultAction": ActAllow,
			"architectures": n.Architectures,
			"syscalls":      []any{notify},
		}); err != nil {
			return "", err
		}
	} else {
		if reason, err := n.editProfile(sec, notify); reason != "" || err != nil {
			return reason, err
		}
	}
	if err := setAll(sec, map[string]any{"listenerPath": n.ListenerPath, "listenerMetadata": n.Metadata}); err != nil {
		return "", err
	}
	if linux["seccomp"], err = marshal(sec); err != nil {
		return "", err
	}
	if s.top["linux"], err = marshal(linux); err != nil {
		return "", err
	}
	s.changed = true
	return "", nil
}

// editProfile rewrites sec's rules, or returns why it must not.
func (n NotifySyscalls) editProfile(sec map[string]json.RawMessage, notify map[string]any) (string, error) {
	var lp string
	if raw, ok := sec["listenerPath"]; ok && !isNull(raw) {
		if err := json.Unmarshal(raw, &lp); err != nil {
			return "", fmt.Errorf("linux.seccomp.listenerPath: %w", err)
		}
	}
	if lp != "" {
		return fmt.Sprintf("the seccomp profile has its own listenerPath %q", lp), nil
	}
	var def string
	if raw, ok := sec["defaultAction"]; ok {
		if err := json.Unmarshal(raw, &def); err != nil {
			return "", fmt.Errorf("linux.seccomp.defaultAction: %w", err)
		}
	}
	raws, err := array(sec["syscalls"])
	if err != nil {
		return "", fmt.Errorf("linux.seccomp.syscalls: %w", err)
	}
	rules := make([]rule, len(raws))
	for i, r := range raws {
		if err := json.Unmarshal(r, &rules[i]); err != nil {
			return "", fmt.Errorf("decode linux.seccomp.syscalls[%d]: %w", i, err)
		}
	}
	for _, name := range n.Syscalls {
		effective, first := def, true
		for _, r := range rules {
			if !slices.Contains(r.Names, name) {
				continue
			}
			if len(r.Args) > 0 {
				return fmt.Sprintf("the seccomp profile has a rule with argument conditions for %s", name), nil
			}
			if first {
				effective, first = r.Action, false
			}
		}
		if effective != ActAllow && effective != ActLog {
			return fmt.Sprintf("the seccomp profile's action for %s is %q", name, effective), nil
		}
	}
	out := make([]json.RawMessage, 0, len(raws)+1)
	nb, err := marshal(notify)
	if err != nil {
		return "", err
	}
	out = append(out, nb)
	for i, r := range rules {
		kept := slices.DeleteFunc(slices.Clone(r.Names), func(x string) bool { return slices.Contains(n.Syscalls, x) })
		switch {
		case len(kept) == len(r.Names):
			out = append(out, raws[i])
		case len(kept) > 0:
			obj, err := object(raws[i])
			if err != nil {
				return "", fmt.Errorf("linux.seccomp.syscalls[%d]: %w", i, err)
			}
			if err := setAll(obj, map[string]any{"names": kept}); err != nil {
				return "", err
			}
			b, err := marshal(obj)
			if err != nil {
				return "", err
			}
			out = append(out, b)
		}
		// A rule naming only these syscalls goes.
	}
	return "", setAll(sec, map[string]any{"syscalls": out})
}

// setAll encodes each value into obj.
func setAll(obj map[string]json.RawMessage, vals map[string]any) error {
	for k, v := range vals {
		b, err := marshal(v)
		if err != nil {
			return fmt.Errorf("%s: %w", k, err)
		}
		obj[k] = b
	}
	return nil
}
