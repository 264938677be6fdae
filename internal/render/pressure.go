package render

import (
	"io"
)

// pressureZero is a PSI file with no stall recorded. Every resource has a
// "full" line since Linux 5.13 (cpu's is 0 at the system level).
const pressureZero = "some avg10=0.00 avg60=0.00 avg300=0.00 total=0\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n"

// PressureCPU renders /proc/pressure/cpu; see renderPressure.
func PressureCPU(w io.Writer, in *Input) error { return renderPressure(w, in, "cpu") }

// PressureMemory renders /proc/pressure/memory; see renderPressure.
func PressureMemory(w io.Writer, in *Input) error { return renderPressure(w, in, "memory") }

// PressureIO renders /proc/pressure/io; see renderPressure.
func PressureIO(w io.Writer, in *Input) error { return renderPressure(w, in, "io") }

// renderPressure writes the PSI file of one resource
// (Documentation/accounting/psi.rst): the cgroup's <resource>.pressure as it
// is when there is one (cgroup v2, or the unified tree of a hybrid host);
// else, on pure cgroup v1, the host's /proc/pressure/<resource>, which is
// system-wide pressure (documented as such in docs/views.md: there is no
// per-cgroup PSI on v1, and the host's stalls are still the stalls the
// container's tasks suffer); else zeros.
func renderPressure(w io.Writer, in *Input, resource string) error {
	var raw []byte
	if in.Cgroup != nil {
		switch resource {
		case "cpu":
			raw = in.Cgroup.Pressure.CPU
		case "memory":
			raw = in.Cgroup.Pressure.Memory
		case "io":
			raw = in.Cgroup.Pressure.IO
		}
	}
	if len(raw) == 0 && in.Host != nil {
		raw = in.Host.Pressure[resource]
	}
	if len(raw) == 0 {
		raw = []byte(pressureZero)
	}
	return write(w, raw, "pressure/"+resource)
}
