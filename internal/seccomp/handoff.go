package seccomp

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// maxHandoff bounds the hand-over message (state with annotations).
const maxHandoff = 1 << 20

// HandoffTimeout bounds reading one hand-over: the runtime sends it in one
// sendmsg and closes the connection.
var HandoffTimeout = 5 * time.Second

// Handoff is one listener hand-over: a process started under a filter
// with listenerPath (container init at create, or a runc exec).
type Handoff struct {
	State specs.ContainerProcessState
	// Listener is the seccomp listener fd, owned by the receiver.
	Listener int
}

// ErrEmpty: the peer connected and closed without a message (a probe
// whether the socket accepts).
var ErrEmpty = errors.New("empty hand-over")

// ReadHandoff reads the runtime's hand-over from c (runtime-spec
// config-linux "seccomp": JSON ContainerProcessState, fds by SCM_RIGHTS,
// the listener named "seccompFd"). Any other fd received is closed.
func ReadHandoff(c *net.UnixConn) (*Handoff, error) {
	if err := c.SetReadDeadline(time.Now().Add(HandoffTimeout)); err != nil {
		return nil, fmt.Errorf("set deadline: %w", err)
	}
	var (
		msg []byte
		fds []int
	)
	buf := make([]byte, 64<<10)
	oob := make([]byte, unix.CmsgSpace(16*4))
	for {
		n, oobn, _, _, err := c.ReadMsgUnix(buf, oob)
		if oobn > 0 {
			got, perr := parseRights(oob[:oobn])
			fds = append(fds, got...)
			if perr != nil && err == nil {
				err = perr
			}
		}
		msg = append(msg, buf[:n]...)
		if errors.Is(err, io.EOF) || (err == nil && n == 0) {
			break
		}
		if err != nil {
			closeAll(fds)
			return nil, fmt.Errorf("read hand-over: %w", err)
		}
		if len(msg) > maxHandoff {
			closeAll(fds)
			return nil, fmt.Errorf("hand-over larger than %d bytes", maxHandoff)
		}
		// runc and crun send one message; stop once it is a complete JSON
		// object rather than waiting for the close.
		if len(fds) > 0 && json.Valid(msg) {
			break
		}
	}
	if len(msg) == 0 && len(fds) == 0 {
		return nil, ErrEmpty
	}
	h := &Handoff{Listener: -1}
	if err := json.Unmarshal(msg, &h.State); err != nil {
		closeAll(fds)
		return nil, fmt.Errorf("decode hand-over: %w", err)
	}
	i := slices.Index(h.State.Fds, specs.SeccompFdName)
	if i < 0 || i >= len(fds) {
		closeAll(fds)
		return nil, fmt.Errorf("hand-over without %q (fds %v, %d received)", specs.SeccompFdName, h.State.Fds, len(fds))
	}
	h.Listener = fds[i]
	closeAll(slices.Delete(fds, i, i+1))
	return h, nil
}

func parseRights(oob []byte) ([]int, error) {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return nil, fmt.Errorf("parse control message: %w", err)
	}
	var fds []int
	for i := range msgs {
		got, err := unix.ParseUnixRights(&msgs[i])
		if err != nil {
			continue
		}
		for _, fd := range got {
			unix.CloseOnExec(fd)
		}
		fds = append(fds, got...)
	}
	return fds, nil
}

func closeAll(fds []int) {
	for _, fd := range fds {
		_ = unix.Close(fd)
	}
}
