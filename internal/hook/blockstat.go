package hook

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/sirupsen/logrus"

	"github.com/procview/procview/internal/config"
	"github.com/procview/procview/internal/render"
)

// blockStatViews lists the per-device sysfs stat views for the host's block
// devices under sys (/sys): every disk in /sys/block with media (size > 0)
// and its partitions, named render.BlockStatName(major, minor), with the
// real sysfs path of each stat file as target (/sys/block/<dev> is a
// symlink, and binds never go through one).
func blockStatViews(log logrus.FieldLogger, cfg config.Config, sys string) (names []string, targets map[string]string) {
	if !cfg.ViewEnabled(config.ViewBlockStat) {
		return nil, nil
	}
	ents, err := os.ReadDir(filepath.Join(sys, "block"))
	if err != nil {
		log.WithError(err).Warn("no block stat views")
		return nil, nil
	}
	targets = map[string]string{}
	add := func(dir string) {
		name, target, err := blockStatView(sys, dir)
		if err != nil {
			log.WithError(err).Debug("block stat view skipped")
			return
		}
		names = append(names, name)
		targets[name] = target
	}
	for _, e := range ents {
		dir, err := filepath.EvalSymlinks(filepath.Join(sys, "block", e.Name()))
		if err != nil {
			continue
		}
		if b, err := os.ReadFile(filepath.Join(dir, "size")); err != nil || strings.TrimSpace(string(b)) == "0" {
			continue // no media (an unattached loop device): nothing to count
		}
		add(dir)
		parts, _ := os.ReadDir(dir)
		for _, p := range parts {
			if _, err := os.Stat(filepath.Join(dir, p.Name(), "partition")); err == nil {
				add(filepath.Join(dir, p.Name()))
			}
		}
	}
	return names, targets
}

// blockStatView reads a device directory's dev ("major:minor").
func blockStatView(sys, dir string) (name, target string, err error) {
	b, err := os.ReadFile(filepath.Join(dir, "dev"))
	if err != nil {
		return "", "", fmt.Errorf("read dev of %s: %w", dir, err)
	}
	ma, mi, ok := strings.Cut(strings.TrimSpace(string(b)), ":")
	major, err1 := strconv.ParseUint(ma, 10, 32)
	minor, err2 := strconv.ParseUint(mi, 10, 32)
	if !ok || err1 != nil || err2 != nil {
		return "", "", fmt.Errorf("%s/dev: %q is not major:minor", dir, b)
	}
	rel, err := filepath.Rel(sys, dir)
	if err != nil || strings.HasPrefix(rel, "..") {
		return "", "", fmt.Errorf("%s is outside %s", dir, sys)
	}
	return render.BlockStatName(uint32(major), uint32(minor)), "/sys/" + rel + "/stat", nil
}
