package wrapper

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"
)

// DefaultRuntime is the runtime exec'd when the config names none.
const DefaultRuntime = "runc"

// fallbackPath is searched after $PATH: engines sometimes run the runtime
// with a minimal environment.
const fallbackPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// featuresTimeout bounds "<runtime> features".
const featuresTimeout = 2 * time.Second

// ErrRuntimeNotFound is returned when no real runtime can be found.
var ErrRuntimeNotFound = errors.New("runtime not found")

// FindRuntime returns the absolute path of the real runtime: name itself when
// it contains a slash, else the first executable called name in pathEnv
// (then in the usual system directories) that is not the file self. This
// lets procview-runc be installed as "runc" ahead of the real one on $PATH.
// self may be empty.
func FindRuntime(name, pathEnv, self string) (string, error) {
	if name == "" {
		name = DefaultRuntime
	}
	var selfInfo os.FileInfo
	if self != "" {
		selfInfo, _ = os.Stat(self)
	}
	isSelf := func(fi os.FileInfo) bool { return selfInfo != nil && os.SameFile(fi, selfInfo) }

	if strings.Contains(name, "/") {
		p, err := filepath.Abs(name)
		if err != nil {
			return "", fmt.Errorf("runtime %s: %w", name, err)
		}
		fi, err := executable(p)
		if err != nil {
			return "", fmt.Errorf("runtime %s: %w", p, err)
		}
		if isSelf(fi) {
			return "", fmt.Errorf("runtime %s is this wrapper itself: %w", p, ErrRuntimeNotFound)
		}
		return p, nil
	}

	dirs := filepath.SplitList(pathEnv)
	dirs = append(dirs, filepath.SplitList(fallbackPath)...)
	for _, dir := range dirs {
		if dir == "" {
			// POSIX reads an empty entry as the working directory: a
			// runc there would be whatever the caller's cwd (a bundle)
			// holds.
			continue
		}
		p, err := filepath.Abs(filepath.Join(dir, name))
		if err != nil {
			continue
		}
		fi, err := executable(p)
		if err != nil || isSelf(fi) {
			continue
		}
		return p, nil
	}
	return "", fmt.Errorf("%q in $PATH: %w", name, ErrRuntimeNotFound)
}

func executable(p string) (os.FileInfo, error) {
	fi, err := os.Stat(p)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() || fi.Mode().Perm()&0o111 == 0 {
		return nil, fmt.Errorf("not an executable file: %w", fs.ErrPermission)
	}
	return fi, nil
}

// RuntimeNamespaces runs "<runtime> features" and returns the namespaces it
// lists under linux.namespaces. CachedNamespaces keeps its answer.
func RuntimeNamespaces(ctx context.Context, runtime string) ([]string, error) {
	out, err := runFeatures(ctx, runtime)
	if err != nil {
		return nil, err
	}
	return parseFeatureNamespaces(out)
}

// runFeatures runs "<runtime> features" and returns its output.
func runFeatures(ctx context.Context, runtime string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, featuresTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, runtime, "features")
	// Don't wait for pipes held open by a stray grandchild.
	cmd.WaitDelay = featuresTimeout
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("run %s features: %w", runtime, err)
	}
	return out, nil
}

func parseFeatureNamespaces(b []byte) ([]string, error) {
	var f struct {
		Linux *struct {
			Namespaces []string `json:"namespaces"`
		} `json:"linux"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("decode runtime features: %w", err)
	}
	if f.Linux == nil {
		return nil, nil
	}
	return f.Linux.Namespaces, nil
}

func hasString(list []string, s string) bool { return slices.Contains(list, s) }

// CachedNamespaces is RuntimeNamespaces with the answer kept in dir, one
// file per runtime binary: a key of its path, inode, size, mtime and ctime,
// so an upgraded runtime is asked again. Asking costs an exec of the
// runtime (several ms) on every container start otherwise. A cache that
// cannot be read or written is ignored.
func CachedNamespaces(dir string) func(ctx context.Context, runtime string) ([]string, error) {
	return cachedFeature(dir, "features-", RuntimeNamespaces)
}

// cachedFeature keeps what ask answers about a runtime binary in
// dir/<prefix><key>.json (see CachedNamespaces).
func cachedFeature[T any](dir, prefix string, ask func(ctx context.Context, runtime string) (T, error)) func(ctx context.Context, runtime string) (T, error) {
	return func(ctx context.Context, runtime string) (T, error) {
		fi, err := os.Stat(runtime)
		if err != nil {
			return ask(ctx, runtime)
		}
		st, ok := fi.Sys().(*syscall.Stat_t)
		if !ok {
			return ask(ctx, runtime)
		}
		sum := sha256.Sum256(fmt.Appendf(nil, "%s\x00%d\x00%d\x00%d.%d\x00%d.%d", runtime, st.Ino, st.Size,
			st.Mtim.Sec, st.Mtim.Nsec, st.Ctim.Sec, st.Ctim.Nsec))
		path := filepath.Join(dir, prefix+hex.EncodeToString(sum[:8])+".json")
		if b, err := os.ReadFile(path); err == nil {
			var v T
			if json.Unmarshal(b, &v) == nil {
				return v, nil
			}
		}
		v, err := ask(ctx, runtime)
		if err != nil {
			return v, err
		}
		if b, err := json.Marshal(v); err == nil && os.MkdirAll(dir, 0o755) == nil {
			// Written whole then renamed: a concurrent reader sees the old
			// file or the new one.
			if tmp, err := os.CreateTemp(dir, "."+prefix+"*"); err == nil {
				_, werr := tmp.Write(b)
				cerr := tmp.Close()
				if werr != nil || cerr != nil || os.Rename(tmp.Name(), path) != nil {
					_ = os.Remove(tmp.Name())
				}
			}
		}
		return v, nil
	}
}
