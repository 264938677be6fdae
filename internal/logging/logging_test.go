package logging

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
)

func TestNewSinks(t *testing.T) {
	tests := []struct {
		name      string
		opts      func(dir string) Options
		wantLevel logrus.Level
		wantErr   bool
		// which sinks must hold the "visible" line
		file, runcJSON, runcText bool
	}{
		{
			name:      "file only, default level",
			opts:      func(d string) Options { return Options{File: filepath.Join(d, "sub", "dir", "procview.log")} },
			wantLevel: logrus.InfoLevel,
			file:      true,
		},
		{
			name: "runc json log and file",
			opts: func(d string) Options {
				return Options{Level: "warn", File: filepath.Join(d, "sub", "dir", "procview.log"),
					RuncLog: filepath.Join(d, "log.json"), RuncLogFormat: "json"}
			},
			wantLevel: logrus.WarnLevel,
			file:      true, runcJSON: true,
		},
		{
			name: "runc text log, debug forced",
			opts: func(d string) Options {
				return Options{Level: "error", Debug: true, RuncLog: filepath.Join(d, "log.txt")}
			},
			wantLevel: logrus.DebugLevel,
			runcText:  true,
		},
		{
			name:      "bad level falls back to info",
			opts:      func(d string) Options { return Options{Level: "loud", RuncLog: filepath.Join(d, "log.txt")} },
			wantLevel: logrus.InfoLevel,
			wantErr:   true,
			runcText:  true,
		},
		{
			name: "unopenable file is dropped, runc log still works",
			opts: func(d string) Options {
				// a regular file as parent directory cannot be created, even as root
				blocker := filepath.Join(d, "blocker")
				if err := os.WriteFile(blocker, nil, 0o644); err != nil {
					panic(err)
				}
				return Options{File: filepath.Join(blocker, "x", "procview.log"),
					RuncLog: filepath.Join(d, "log.json"), RuncLogFormat: "json"}
			},
			wantLevel: logrus.InfoLevel,
			wantErr:   true,
			runcJSON:  true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			o := tt.opts(dir)
			log, closeFn, err := New(o)
			if (err != nil) != tt.wantErr {
				t.Fatalf("New() err = %v, wantErr %v", err, tt.wantErr)
			}
			if log.GetLevel() != tt.wantLevel {
				t.Errorf("level = %v, want %v", log.GetLevel(), tt.wantLevel)
			}
			before := time.Now().Add(-time.Second)
			log.WithField("container", "c1").Error("visible error")
			log.Trace("never shown")
			if err := closeFn(); err != nil {
				t.Fatalf("close: %v", err)
			}

			check := func(path string, want bool) string {
				t.Helper()
				b, err := os.ReadFile(path)
				if !want {
					if err == nil && len(b) > 0 {
						t.Errorf("%s: unexpected content %q", path, b)
					}
					return ""
				}
				if err != nil {
					t.Fatalf("read %s: %v", path, err)
				}
				if strings.Contains(string(b), "never shown") {
					t.Errorf("%s: trace line written at level %v", path, tt.wantLevel)
				}
				if !strings.Contains(string(b), "visible error") {
					t.Errorf("%s: missing error line, got %q", path, b)
				}
				return string(b)
			}
			if o.File != "" {
				check(o.File, tt.file)
			}
			if tt.runcJSON {
				s := check(o.RuncLog, true)
				var m map[string]any
				if err := json.Unmarshal([]byte(strings.TrimSpace(s)), &m); err != nil {
					t.Fatalf("runc json log line %q: %v", s, err)
				}
				if m["level"] != "error" || m["msg"] != "visible error" || m["container"] != "c1" {
					t.Errorf("runc json log line = %v", m)
				}
				ts, _ := m["time"].(string)
				tm, err := time.Parse(time.RFC3339Nano, ts)
				if err != nil || !strings.HasSuffix(ts, "Z") || tm.Before(before) {
					t.Errorf("time %q: want a recent UTC RFC 3339 time (err %v)", ts, err)
				}
			}
			if tt.runcText {
				s := check(o.RuncLog, true)
				if !strings.Contains(s, `level=error msg="visible error"`) {
					t.Errorf("runc text log = %q, want logrus text form", s)
				}
			}
		})
	}
}

func TestAppendKeepsExistingLines(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log.json")
	const old = `{"level":"info","msg":"runc said this","time":"2026-01-01T00:00:00Z"}` + "\n"
	if err := os.WriteFile(path, []byte(old), 0o644); err != nil {
		t.Fatal(err)
	}
	log, closeFn, err := New(Options{RuncLog: path, RuncLogFormat: "json"})
	if err != nil {
		t.Fatal(err)
	}
	log.Error("ours")
	_ = closeFn()
	b, _ := os.ReadFile(path)
	if !bytes.HasPrefix(b, []byte(old)) || bytes.Count(b, []byte("\n")) != 2 {
		t.Errorf("log file = %q, want the old line then ours", b)
	}
}

func TestStderrSink(t *testing.T) {
	var buf bytes.Buffer
	log, closeFn, err := New(Options{Stderr: &buf})
	if err != nil {
		t.Fatal(err)
	}
	defer closeFn()
	log.Info("hello")
	log.Debug("hidden")
	if !strings.Contains(buf.String(), "msg=hello") || strings.Contains(buf.String(), "hidden") {
		t.Errorf("stderr sink = %q", buf.String())
	}
}

// TestRuncLogExisting covers the hook's use of runc's log: warnings and
// errors only, and only into an existing regular file.
func TestRuncLogExisting(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		path    string
		create  bool
		wantErr bool
	}{
		{"existing file", filepath.Join(dir, "log.json"), true, false},
		{"missing file is not created", filepath.Join(dir, "gone", "log.json"), false, true},
		{"fifo without reader is refused without blocking", fifo, false, true},
		{"directory is refused", dir, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.create {
				if err := os.WriteFile(tt.path, nil, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			log, closeFn, err := New(Options{RuncLog: tt.path, RuncLogFormat: "json", RuncLogExisting: true, Level: "debug"})
			if (err != nil) != tt.wantErr {
				t.Fatalf("New() err = %v, wantErr %v", err, tt.wantErr)
			}
			log.Info("info stays out")
			log.Warn("warning goes in")
			_ = closeFn()
			if tt.wantErr {
				if _, err := os.Stat(filepath.Join(dir, "gone")); err == nil {
					t.Error("a missing log's directory was created")
				}
				return
			}
			b, _ := os.ReadFile(tt.path)
			if strings.Contains(string(b), "info stays out") || !strings.Contains(string(b), `"level":"warning","msg":"warning goes in"`) {
				t.Errorf("runc log = %q, want only the warning", b)
			}
		})
	}
}
