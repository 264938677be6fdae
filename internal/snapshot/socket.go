package snapshot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"
)

// SocketName is the snapshot socket's name in the state root.
const SocketName = "procviewd.sock"

// SocketPath is the snapshot socket of a state root.
func SocketPath(stateRoot string) string { return filepath.Join(stateRoot, SocketName) }

// Serve answers GET /v1/snapshot on a unix socket at path (mode 0600:
// root's only) with load's snapshot as JSON, until ctx ends.
func Serve(ctx context.Context, path string, load func() *Snapshot) error {
	_ = os.Remove(path) // a stale socket of a dead daemon; the lock says we own the state root
	ln, err := net.Listen("unix", path)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", path, err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return fmt.Errorf("chmod %s: %w", path, err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/snapshot", func(w http.ResponseWriter, _ *http.Request) {
		s := load()
		if s == nil {
			http.Error(w, "no snapshot yet", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(s)
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		_ = srv.Close()
		_ = os.Remove(path)
	}()
	go func() { _ = srv.Serve(ln) }()
	return nil
}

// ErrNoDaemon means nothing answers on the socket.
var ErrNoDaemon = errors.New("no procviewd answers")

// Fetch asks the daemon of a state root for its snapshot.
func Fetch(stateRoot string, timeout time.Duration) (*Snapshot, error) {
	path := SocketPath(stateRoot)
	c := &http.Client{Timeout: timeout, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", path)
		},
	}}
	resp, err := c.Get("http://procviewd/v1/snapshot")
	if err != nil {
		return nil, fmt.Errorf("%w on %s: %w", ErrNoDaemon, path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%w on %s: %s", ErrNoDaemon, path, resp.Status)
	}
	var s Snapshot
	if err := json.NewDecoder(resp.Body).Decode(&s); err != nil {
		return nil, fmt.Errorf("decode snapshot from %s: %w", path, err)
	}
	return &s, nil
}
