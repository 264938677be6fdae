package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/procview/procview/internal/snapshot"
)

// procview ps and top read procviewd's snapshot over the state root's socket;
// -o json carries the fields the issue names.
func TestPsFromDaemonSocket(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(cfg, []byte("state_root = \""+dir+"\"\nlog_file = \""+dir+"/log\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	snap := &snapshot.Snapshot{Time: time.Now(), Containers: []snapshot.Container{
		{ID: strings.Repeat("a", 64), Name: "small", Kind: snapshot.KindContainer, Managed: true, Pid: 7, MemoryLimitBytes: 268435456,
			MemoryWorkingSetBytes: 1 << 20, CPULimitCores: 0.5, CPUPercent: 12.5, Threads: 3, Started: time.Now().Add(-time.Hour)},
		{ID: strings.Repeat("b", 64), Name: "big", Kind: snapshot.KindContainer, Runtime: "docker", Pid: 8,
			MemoryWorkingSetBytes: 1 << 30, CPUPercent: 50},
	}}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := snapshot.Serve(ctx, snapshot.SocketPath(dir), func() *snapshot.Snapshot { return snap }); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(snapshot.SocketPath(dir)); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("socket: %v, mode %v (want 0600)", err, st.Mode().Perm())
	}
	var out, errb bytes.Buffer
	if code := Main([]string{"ps", "-o", "json", "--order", "memory", "--config", cfg}, &out, &errb); code != 0 {
		t.Fatalf("ps: exit %d: %s", code, errb.String())
	}
	var got []map[string]any
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("ps -o json: %v\n%s", err, out.String())
	}
	if len(got) != 2 || got[0]["name"] != "big" {
		t.Fatalf("ps -o json --order memory: %s", out.String())
	}
	for _, k := range []string{"id", "name", "managed", "pid", "memory_limit_bytes", "memory_working_set_bytes", "cpu_limit_cores", "cpu_percent"} {
		if _, ok := got[1][k]; !ok {
			t.Errorf("ps -o json lacks %q", k)
		}
	}
	if got[1]["managed"] != true || got[1]["memory_limit_bytes"] != float64(268435456) || got[1]["cpu_limit_cores"] != 0.5 {
		t.Errorf("ps -o json: %v", got[1])
	}
	out.Reset()
	if code := Main([]string{"ps", "--config", cfg}, &out, &errb); code != 0 || !strings.Contains(out.String(), "aaaaaaaaaaaa  small") ||
		!strings.Contains(out.String(), "256.0Mi") {
		t.Errorf("ps table: exit %d\n%s", code, out.String())
	}
	out.Reset()
	if code := Main([]string{"top", "-b", "-n", "2", "-d", "10ms", "--config", cfg}, &out, &errb); code != 0 || strings.Count(out.String(), "procview top") != 2 {
		t.Errorf("top -b -n 2: exit %d\n%s", code, out.String())
	}
	if code := Main([]string{"ps", "--order", "nonsense", "--config", cfg}, &out, &errb); code != 2 {
		t.Errorf("ps --order nonsense: exit %d, want 2", code)
	}
}
