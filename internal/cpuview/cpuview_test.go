package cpuview

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/procview/procview/internal/cgroupstats"
)

func TestCompute(t *testing.T) {
	host := []int{0, 1}
	tests := []struct {
		name string
		cpu  cgroupstats.CPU
		mode Mode
		want View
	}{
		{"no limits", cgroupstats.CPU{Quota: -1}, Quota, View{N: 2, HostCPUs: []int{0, 1}, Capacity: 2}},
		{"half cpu", cgroupstats.CPU{Quota: 50000, Period: 100000}, Quota, View{N: 1, HostCPUs: []int{0}, Capacity: 0.5}},
		{"half cpu, cpuset mode", cgroupstats.CPU{Quota: 50000, Period: 100000}, Cpuset, View{N: 2, HostCPUs: []int{0, 1}, Capacity: 0.5}},
		{"one and a half", cgroupstats.CPU{Quota: 150000, Period: 100000}, Quota, View{N: 2, HostCPUs: []int{0, 1}, Capacity: 1.5}},
		{"exactly one", cgroupstats.CPU{Quota: 100000, Period: 100000}, Quota, View{N: 1, HostCPUs: []int{0}, Capacity: 1}},
		{"cpuset only", cgroupstats.CPU{Quota: -1, Cpuset: []int{1}}, Quota, View{N: 1, HostCPUs: []int{1}, Capacity: 1}},
		{"quota above cpuset", cgroupstats.CPU{Quota: 400000, Period: 100000, Cpuset: []int{1}}, Quota, View{N: 1, HostCPUs: []int{1}, Capacity: 1}},
		{"tiny quota", cgroupstats.CPU{Quota: 1000, Period: 100000}, Quota, View{N: 1, HostCPUs: []int{0}, Capacity: 0.01}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Compute(tt.cpu, host, tt.mode)
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("Compute() (-want +got):\n%s", d)
			}
		})
	}
}
