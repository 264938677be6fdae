// Package logging builds the logrus loggers used by procview's binaries.
//
// A logger can write to up to three sinks, each with its own format:
//   - File: procview's own log file (text, appended; its parent directory is
//     created). The hook and the daemon log there.
//   - RuncLog: the file the caller passed to runc as --log, in runc's own
//     format ("json" gives {"level":…,"msg":…,"time":…} lines, which the
//     containerd shim scans for the last error). Only the wrapper uses it.
//   - Stderr: for the daemon under systemd.
//
// A sink that cannot be opened is dropped: logging must never stop a
// container from starting.
package logging

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/sirupsen/logrus"
)

// Options selects the level and sinks of a logger.
type Options struct {
	// Level is a logrus level name ("info", "debug", …); empty means info.
	Level string
	// Debug forces the debug level (runc's --debug).
	Debug bool
	// File is procview's log file; empty means none.
	File string
	// RuncLog is runc's --log file; empty means none.
	RuncLog string
	// RuncLogFormat is runc's --log-format: "json" or "text" (default).
	RuncLogFormat string
	// RuncLogExisting opens RuncLog only if it is an existing regular file
	// and sends it warnings and errors only. The hook uses it: runc has
	// created the file, and a path the hook would have to create (a bundle
	// gone at poststop) or a fifo nobody reads must not hold it up.
	RuncLogExisting bool
	// Stderr also writes text lines to Stderr when non-nil.
	Stderr io.Writer
	// StderrFormat is "json" or "text" (default) for Stderr.
	StderrFormat string
}

// New builds a logger from o. The logger is always usable, even when err is
// not nil: err then says which sinks were dropped or that the level was not
// understood (info is used). close releases the files; call it before
// exec'ing another program.
func New(o Options) (log *logrus.Logger, closeFn func() error, err error) {
	log = logrus.New()
	log.Out = io.Discard // every sink is a hook with its own format
	log.Level = logrus.InfoLevel

	var errs []error
	if o.Level != "" {
		lvl, perr := logrus.ParseLevel(o.Level)
		if perr != nil {
			errs = append(errs, fmt.Errorf("parse log level: %w", perr))
		} else {
			log.Level = lvl
		}
	}
	if o.Debug {
		log.Level = logrus.DebugLevel
	}

	var files []*os.File
	if o.File != "" {
		f, ferr := openAppend(o.File, true)
		if ferr != nil {
			errs = append(errs, ferr)
		} else {
			files = append(files, f)
			log.AddHook(&sink{w: f, f: formatter("text"), levels: logrus.AllLevels})
		}
	}
	if o.RuncLog != "" {
		// runc creates its own --log file; its directory is the caller's.
		var f *os.File
		var ferr error
		levels := logrus.AllLevels
		if o.RuncLogExisting {
			f, ferr = openExisting(o.RuncLog)
			levels = logrus.AllLevels[:logrus.WarnLevel+1]
		} else {
			f, ferr = openAppend(o.RuncLog, false)
		}
		if ferr != nil {
			errs = append(errs, ferr)
		} else {
			files = append(files, f)
			log.AddHook(&sink{w: f, f: formatter(o.RuncLogFormat), levels: levels})
		}
	}
	if o.Stderr != nil {
		log.AddHook(&sink{w: o.Stderr, f: formatter(o.StderrFormat), levels: logrus.AllLevels})
	}

	closeFn = func() error {
		var cerrs []error
		for _, f := range files {
			if cerr := f.Close(); cerr != nil {
				cerrs = append(cerrs, fmt.Errorf("close log %s: %w", f.Name(), cerr))
			}
		}
		files = nil
		return errors.Join(cerrs...)
	}
	return log, closeFn, errors.Join(errs...)
}

func openAppend(path string, mkdir bool) (*os.File, error) {
	if mkdir {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return nil, fmt.Errorf("create log directory %s: %w", filepath.Dir(path), err)
		}
	}
	// O_APPEND keeps lines whole when runc and other processes share the file.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open log %s: %w", path, err)
	}
	return f, nil
}

// openExisting opens path for appending if it is a regular file that
// exists. O_NONBLOCK keeps a fifo from blocking the open; it is then refused.
func openExisting(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, fmt.Errorf("open log %s: %w", path, err)
	}
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("open log %s: not a regular file", path)
	}
	return f, nil
}

// formatter returns runc's formatter for format: logrus JSON or text, with
// UTC RFC 3339 timestamps.
func formatter(format string) logrus.Formatter {
	if strings.EqualFold(format, "json") {
		return &logrus.JSONFormatter{TimestampFormat: time.RFC3339Nano}
	}
	return &logrus.TextFormatter{DisableColors: true, FullTimestamp: true, TimestampFormat: time.RFC3339Nano}
}

// sink is a logrus hook writing every entry to w in its own format, so one
// logger can feed files with different formats.
type sink struct {
	mu     sync.Mutex
	w      io.Writer
	f      logrus.Formatter
	levels []logrus.Level
}

func (s *sink) Levels() []logrus.Level { return s.levels }

// Fire never returns an error: logrus would print it on stderr, which
// belongs to the wrapper's caller.
func (s *sink) Fire(e *logrus.Entry) error {
	// Format a UTC copy: runc's and containerd's logs use "Z" times.
	c := *e
	c.Time = e.Time.UTC()
	b, err := s.f.Format(&c)
	if err != nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	// One write per line, so O_APPEND keeps it whole.
	_, _ = s.w.Write(b)
	return nil
}
