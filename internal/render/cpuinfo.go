package render

import (
	"fmt"
	"io"
	"strconv"
	"strings"
)

// CPUInfo renders /proc/cpuinfo (Documentation/filesystems/proc.rst,
// "cpuinfo"): one block per visible CPU i, copied from the host block of
// processor in.HostCPUs[i] with "processor : i".
//
// The topology lines are rewritten so the n visible CPUs read as n cores of
// one package without SMT, whatever host cores back them: physical id 0,
// siblings n, cpu cores n, core id i, apicid and initial apicid i. Copying the
// host's topology would describe CPUs the container cannot see (siblings 2
// with one block, or two blocks claiming the same core). A host CPU missing
// from the host file (offline) falls back to the first host block.
func CPUInfo(w io.Writer, in *Input) error {
	if in.Host == nil {
		return fmt.Errorf("render cpuinfo: %w", errNoHost)
	}
	blocks := in.Host.CPUInfo.Blocks
	if len(blocks) == 0 {
		return fmt.Errorf("render cpuinfo: host cpuinfo is empty")
	}
	if in.CPUs < 1 {
		return fmt.Errorf("render cpuinfo: %d CPUs", in.CPUs)
	}
	byProc := make(map[int][]string, len(blocks))
	for _, blk := range blocks {
		for _, line := range blk {
			if k, v, ok := cpuinfoField(line); ok && k == "processor" {
				if p, err := strconv.Atoi(v); err == nil {
					byProc[p] = blk
				}
				break
			}
		}
	}
	n := strconv.Itoa(in.CPUs)
	b := scratch(w, in.CPUs*len(blocks[0])*48)
	for i := range in.CPUs {
		blk := blocks[0]
		if i < len(in.HostCPUs) {
			if hb, ok := byProc[in.HostCPUs[i]]; ok {
				blk = hb
			}
		}
		id := strconv.Itoa(i)
		for _, line := range blk {
			k, _, ok := cpuinfoField(line)
			var v string
			switch {
			case !ok:
			case k == "processor", k == "core id", k == "apicid", k == "initial apicid":
				v = id
			case k == "physical id":
				v = "0"
			case k == "siblings", k == "cpu cores":
				v = n
			}
			if v == "" {
				b = append(b, line...)
			} else {
				// Keep the host's "key\t\t:" spacing.
				b = append(b, line[:strings.IndexByte(line, ':')+1]...)
				b = append(b, ' ')
				b = append(b, v...)
			}
			b = append(b, '\n')
		}
		b = append(b, '\n')
	}
	return write(w, b, "cpuinfo")
}

// cpuinfoField splits "key\t\t: value".
func cpuinfoField(line string) (key, value string, ok bool) {
	k, v, ok := strings.Cut(line, ":")
	if !ok {
		return "", "", false
	}
	return strings.TrimSpace(k), strings.TrimSpace(v), true
}
