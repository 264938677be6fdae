// Command mkstate registers N synthetic containers in a procview state root,
// the way procview-hook would, so the refresh-cost benchmark can run
// procviewd over 1, 100 or 1000 containers without starting that many
// runtimes.
//
//	mkstate -config C -pids FILE          one container per pid in FILE (live
//	                                      cgroups: each pid sits in its own cgroup)
//	mkstate -config C -fixture -n N       N copies of the leaf cgroup of the
//	                                      fixture tree that C's cgroup_root and
//	                                      proc_root point into
//	mkstate -config C -tick K             (after -fixture) until killed, every
//	                                      second move the memory and CPU usage
//	                                      counters of the first K copies, as a
//	                                      live container that changes would
//
// In fixture mode every copy gets a fake /proc/<pid>/stat, so the daemon's
// liveness check and task scan cost what they cost on a live host.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/procview/procview/internal/cgroupstats"
	"github.com/procview/procview/internal/config"
	"github.com/procview/procview/internal/daemon"
	"github.com/procview/procview/internal/publish"
	"github.com/procview/procview/internal/state"
	"github.com/procview/procview/internal/tasks"
)

func main() {
	cfgPath := flag.String("config", "", "procview config (state_root, cgroup_root, proc_root)")
	pidsFile := flag.String("pids", "", "file with one pid per line (live mode)")
	fixture := flag.Bool("fixture", false, "copy the fixture's leaf cgroup N times (fixture mode)")
	n := flag.Int("n", 1, "containers to make in fixture mode")
	tick := flag.Int("tick", -1, "move the counters of the first K fixture copies every second")
	flag.Parse()
	log := logrus.New()
	log.SetLevel(logrus.WarnLevel)
	var err error
	if *tick >= 0 {
		err = tickFixture(*cfgPath, *tick)
	} else {
		err = run(*cfgPath, *pidsFile, *fixture, *n, log)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "mkstate:", err)
		os.Exit(1)
	}
}

func run(cfgPath, pidsFile string, fixture bool, n int, log logrus.FieldLogger) error {
	cfg, err := config.Load(cfgPath)
	if err != nil {
		return err
	}
	d, err := daemon.New(cfg, log)
	if err != nil {
		return err
	}
	host, err := d.Sampler.Host()
	if err != nil {
		return err
	}
	root := state.Root(cfg.StateRoot)
	register := func(id string, pid int, loc cgroupstats.Location) error {
		start, err := tasks.StartTime(d.Sampler.ProcFS, pid)
		if err != nil {
			return fmt.Errorf("container %s: %w", id, err)
		}
		meta := &state.Meta{
			ID: id, Pid: pid, Location: loc, StartNs: start, InitStartNs: start,
			CPUView: config.CPUViewQuota, Views: config.AllViews, Created: time.Now().UTC(),
		}
		s, err := publish.Create(root, state.Key(id), meta, d.Sampler, host)
		if err != nil {
			return fmt.Errorf("container %s: %w", id, err)
		}
		s.Close()
		return nil
	}
	if !fixture {
		pids, err := readPids(pidsFile)
		if err != nil {
			return err
		}
		for i, pid := range pids {
			loc, err := cgroupstats.ReadLocation(d.Sampler.ProcFS, pid)
			if err != nil {
				return err
			}
			if err := register(fmt.Sprintf("bench-%d", i), pid, loc); err != nil {
				return err
			}
		}
		return nil
	}
	b, err := os.ReadFile(filepath.Join(cfg.ProcRoot, "self", "cgroup"))
	if err != nil {
		return fmt.Errorf("read fixture cgroup file: %w", err)
	}
	loc, err := cgroupstats.ParseProcCgroup(b)
	if err != nil {
		return err
	}
	leaf := loc.Unified
	if leaf == "" || leaf == "/" {
		leaf = loc.V1["memory"]
	}
	leafDirs, err := findDirs(cfg.CgroupRoot, filepath.Base(leaf))
	if err != nil {
		return err
	}
	if len(leafDirs) == 0 {
		return fmt.Errorf("no %s directory under %s", filepath.Base(leaf), cfg.CgroupRoot)
	}
	for i := range n {
		pid := 100000 + i
		suffix := fmt.Sprintf("-b%d", i)
		for _, dir := range leafDirs {
			if err := os.CopyFS(dir+suffix, os.DirFS(dir)); err != nil {
				return fmt.Errorf("copy %s: %w", dir, err)
			}
			p := []byte(strconv.Itoa(pid) + "\n")
			for _, f := range []string{"cgroup.procs", "cgroup.threads", "tasks"} {
				if _, err := os.Stat(filepath.Join(dir+suffix, f)); err == nil {
					if err := os.WriteFile(filepath.Join(dir+suffix, f), p, 0o644); err != nil {
						return fmt.Errorf("write %s: %w", f, err)
					}
				}
			}
		}
		if err := fakeStat(cfg.ProcRoot, pid); err != nil {
			return err
		}
		l := cgroupstats.Location{V1: map[string]string{}}
		for c, p := range loc.V1 {
			l.V1[c] = rename(p, leaf, suffix)
		}
		l.Unified = rename(loc.Unified, leaf, suffix)
		if err := register(fmt.Sprintf("bench-%d", i), pid, l); err != nil {
			return err
		}
	}
	return nil
}

// rename appends suffix to p when p is the fixture's leaf cgroup.
func rename(p, leaf, suffix string) string {
	if p == leaf {
		return p + suffix
	}
	return p
}

// findDirs lists every directory named name below root, without following
// symlinks (hybrid trees have cpu -> cpu,cpuacct links).
func findDirs(root, name string) ([]string, error) {
	var dirs []string
	err := filepath.WalkDir(root, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if e.IsDir() && e.Name() == name {
			dirs = append(dirs, p)
			return fs.SkipDir
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("walk %s: %w", root, err)
	}
	return dirs, nil
}

// fakeStat writes <procRoot>/<pid>/stat for a sleeping single-threaded
// task that started 100 s after boot.
func fakeStat(procRoot string, pid int) error {
	dir := filepath.Join(procRoot, strconv.Itoa(pid))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	fields := make([]string, 50) // fields 3..52
	for i := range fields {
		fields[i] = "0"
	}
	fields[0] = "S"      // state
	fields[1] = "1"      // ppid
	fields[17] = "1"     // num_threads
	fields[19] = "10000" // starttime, ticks
	line := fmt.Sprintf("%d (sleep) %s\n", pid, strings.Join(fields, " "))
	if err := os.WriteFile(filepath.Join(dir, "stat"), []byte(line), 0o644); err != nil {
		return fmt.Errorf("write fake stat: %w", err)
	}
	return nil
}

func readPids(path string) ([]int, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open pids file: %w", err)
	}
	defer f.Close()
	var pids []int
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		t := strings.TrimSpace(sc.Text())
		if t == "" {
			continue
		}
		pid, err := strconv.Atoi(t)
		if err != nil {
			return nil, fmt.Errorf("pids file %s: %w", path, err)
		}
		pids = append(pids, pid)
	}
	return pids, sc.Err()
}

// counterFiles are the usage counters tickFixture moves.
var counterFiles = []string{"memory.usage_in_bytes", "memory.current", "cpuacct.usage", "cpu.stat"}

// tickFixture moves the usage counters of fixture copies 0..k-1 every
// second until killed: memory usage up or down by 256 KiB, CPU usage up by
// 1 ms. Files are rewritten in place (same inode, as cgroupfs keeps them).
func tickFixture(cfgPath string, k int) error {
	cfg, err := config.Load(cfgPath)
	if err != nil {
		return err
	}
	var files []string
	err = filepath.WalkDir(cfg.CgroupRoot, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if e.IsDir() {
			return nil
		}
		i := strings.LastIndex(filepath.Base(filepath.Dir(p)), "-b")
		if i < 0 {
			return nil
		}
		n, err := strconv.Atoi(filepath.Base(filepath.Dir(p))[i+2:])
		if err != nil || n >= k {
			return nil
		}
		for _, c := range counterFiles {
			if e.Name() == c {
				files = append(files, p)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("walk %s: %w", cfg.CgroupRoot, err)
	}
	for up := true; ; up = !up {
		time.Sleep(time.Second)
		for _, p := range files {
			if err := bump(p, up); err != nil {
				return err
			}
		}
	}
}

func bump(p string, up bool) error {
	b, err := os.ReadFile(p)
	if err != nil {
		return err
	}
	var out string
	switch filepath.Base(p) {
	case "cpu.stat":
		lines := strings.Split(string(b), "\n")
		for i, l := range lines {
			if f := strings.Fields(l); len(f) == 2 && f[0] == "usage_usec" {
				v, _ := strconv.ParseUint(f[1], 10, 64)
				lines[i] = "usage_usec " + strconv.FormatUint(v+1000, 10)
			}
		}
		out = strings.Join(lines, "\n")
	default:
		v, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		switch {
		case filepath.Base(p) == "cpuacct.usage":
			v += 1e6
		case up:
			v += 256 << 10
		case v >= 256<<10:
			v -= 256 << 10
		}
		out = strconv.FormatUint(v, 10) + "\n"
	}
	f, err := os.OpenFile(p, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	// One write at offset 0, as long as the old content or longer: a
	// reader never sees an empty file.
	if _, err := f.WriteAt([]byte(out), 0); err != nil {
		return err
	}
	if len(out) < len(b) {
		return f.Truncate(int64(len(out)))
	}
	return nil
}
