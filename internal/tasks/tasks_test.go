package tasks

import (
	"errors"
	"os"
	"testing"
	"testing/fstest"
)

func TestParseStat(t *testing.T) {
	tests := []struct {
		name      string
		in        string
		wantState byte
		wantStart uint64
		wantErr   bool
	}{
		{"plain", "42 (sh) S 1 42 42 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 12345 1000 100 18446744073709551615", 'S', 12345, false},
		{"comm with spaces and parens", "7 (a) b) (c) R 1 7 7 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 99 0 0", 'R', 99, false},
		{"truncated", "7 (x) D 1", 'D', 0, true},
		{"garbage", "nonsense", 0, 0, true},
		{"negative starttime", "7 (x) R 1 7 7 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 -5 0 0", 'R', 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, err := ParseState([]byte(tt.in))
			if err == nil && st != tt.wantState {
				t.Errorf("state = %c, want %c", st, tt.wantState)
			}
			start, err := ParseStartTime([]byte(tt.in))
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if err != nil && !errors.Is(err, ErrParse) {
				t.Errorf("error %v is not ErrParse", err)
			}
			if start != tt.wantStart {
				t.Errorf("start = %d, want %d", start, tt.wantStart)
			}
		})
	}
}

func TestScan(t *testing.T) {
	status := func(state, nspid string, v, nv string) *fstest.MapFile {
		return &fstest.MapFile{Data: []byte("Name:\tx\nState:\t" + state + "\nNSpid:\t" + nspid +
			"\nvoluntary_ctxt_switches:\t" + v + "\nnonvoluntary_ctxt_switches:\t" + nv + "\n")}
	}
	// A thread's stat, which Scan must not read (it sums over the whole
	// thread group): a wrong state here shows if it does.
	stat := &fstest.MapFile{Data: []byte("1 (x) D 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 5 0 0\n")}
	fsys := fstest.MapFS{
		"100/stat": stat, "100/status": status("R (running)", "100\t1", "3", "4"),
		"101/stat": stat, "101/status": status("D (disk sleep)", "101\t2", "1", "0"),
		"102/stat": stat, "102/status": status("S (sleeping)", "102\t7", "0", "0"),
		"103/status": {Data: []byte("Name:\tno state line\n")},
	}
	got := Scan(fsys, []int{100, 102, 999}, []int{100, 101, 102, 103, 998})
	want := Summary{Running: 1, Blocked: 1, Threads: 3, LastPID: 7, CtxtSwitches: 8}
	if got != want {
		t.Errorf("Scan = %+v, want %+v", got, want)
	}
}

func TestStartTimeSelf(t *testing.T) {
	ns, err := StartTime(os.DirFS("/proc"), os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if ns == 0 {
		t.Error("start time of this process is 0")
	}
}

func TestParseBoottimeOffset(t *testing.T) {
	tests := []struct {
		in   string
		want int64
	}{
		{"monotonic           0         0\nboottime        -5832         0\n", -5832e9},
		{"monotonic 0 0\nboottime 0 0\n", 0},
		{"boottime -1 500\n", -1e9 + 500},
		{"7 -3 0\n", -3e9},
		{"garbage", 0},
		{"boottime x 0\n", 0},
	}
	for _, tt := range tests {
		if got := ParseBoottimeOffset([]byte(tt.in)); got != tt.want {
			t.Errorf("ParseBoottimeOffset(%q) = %d, want %d", tt.in, got, tt.want)
		}
	}
}
