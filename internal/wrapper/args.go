package wrapper

import (
	"strconv"
	"strings"
)

// Global runtime flags that take a value (runc ≤ 1.1 has --criu; crun has
// --cgroup-manager and --log-level). Any other dash argument before the
// subcommand is a boolean (--debug, --systemd-cgroup, --version, --help, …).
var globalValueFlags = map[string]bool{
	"log":            true,
	"log-format":     true,
	"log-level":      true,
	"root":           true,
	"rootless":       true,
	"criu":           true,
	"cgroup-manager": true,
}

// Flags of create and run that take a value, in runc and crun. crun's
// -f/--config names another config file than config.json.
var createValueFlags = map[string]bool{
	"b":              true,
	"bundle":         true,
	"console-socket": true,
	"pid-file":       true,
	"preserve-fds":   true,
	"f":              true,
	"config":         true,
}

// Args is what the wrapper reads from a runtime command line. It never
// changes the command line: the real runtime gets it as it came.
type Args struct {
	// Command is the subcommand ("create", "state", …); empty when there is
	// none (e.g. "--version").
	Command string
	// Bundle is the -b/--bundle value of create and run as given; empty
	// means the current directory.
	Bundle string
	// ConfigFile is crun's -f/--config value of create and run, if any.
	ConfigFile string
	// ContainerID is the last positional argument of create and run.
	ContainerID string
	// Log and LogFormat are the global --log and --log-format values.
	Log       string
	LogFormat string
	// Debug is the global --debug flag.
	Debug bool
}

// EditsSpec reports whether the command creates a container from a bundle,
// so that procview edits its config.json first. Only create and run do.
// restore also takes a bundle, but it is passed through untouched: CRIU
// restores the checkpointed mount table as it was, and a checkpoint taken
// inside procview already carries the binds its create made.
func (a Args) EditsSpec() bool {
	return a.Command == "create" || a.Command == "run"
}

// ParseArgs reads the runtime arguments (os.Args[1:]). Flags may be written
// with one or two dashes and as "--x=y" or "--x y", as runc's CLI library
// and crun accept.
func ParseArgs(args []string) Args {
	var a Args
	i := 0
	for i < len(args) {
		arg := args[i]
		if arg == "--" {
			i++
			break
		}
		if !isFlag(arg) {
			break
		}
		name, val, hasVal := splitFlag(arg)
		switch {
		case globalValueFlags[name]:
			if !hasVal && i+1 < len(args) {
				i++
				val = args[i]
			}
			switch name {
			case "log":
				a.Log = val
			case "log-format":
				a.LogFormat = val
			}
		case name == "debug":
			a.Debug = !hasVal || parseBool(val)
		}
		i++
	}
	if i >= len(args) {
		return a
	}
	a.Command = args[i]
	if !a.EditsSpec() {
		return a
	}

	rest := args[i+1:]
	var positional []string
	for j := 0; j < len(rest); j++ {
		arg := rest[j]
		if arg == "--" {
			positional = append(positional, rest[j+1:]...)
			break
		}
		if !isFlag(arg) {
			positional = append(positional, arg)
			continue
		}
		name, val, hasVal := splitFlag(arg)
		if !createValueFlags[name] {
			continue
		}
		if !hasVal && j+1 < len(rest) {
			j++
			val = rest[j]
		}
		switch name {
		case "b", "bundle":
			a.Bundle = val // the last one wins, as with Go's flag package
		case "f", "config":
			a.ConfigFile = val
		}
	}
	if len(positional) > 0 {
		a.ContainerID = positional[len(positional)-1]
	}
	return a
}

func isFlag(s string) bool { return len(s) > 1 && s[0] == '-' }

// splitFlag turns "--name=value" / "-name" into its parts.
func splitFlag(s string) (name, val string, hasVal bool) {
	name = strings.TrimPrefix(strings.TrimPrefix(s, "-"), "-")
	if k, v, ok := strings.Cut(name, "="); ok {
		return k, v, true
	}
	return name, "", false
}

func parseBool(s string) bool {
	b, err := strconv.ParseBool(s)
	return err == nil && b
}
