// Package transport moves bytes to and from devices: pinned TLS (trust on
// first use), a bounded HTTP client with an optional transcript, telnet
// with IAC handling and UDP request/reply. Every call has a timeout and
// every read a size limit. It knows no device family.
package transport

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"syscall"
	"time"
)

// DefaultTimeout is used when a caller passes no timeout.
const DefaultTimeout = 3 * time.Second

// ErrPortUnreachable is returned when a UDP request is answered with an
// ICMP port unreachable: the host is there, the service is not.
var ErrPortUnreachable = errors.New("port unreachable: the service is off on the device")

// ErrTooLarge is returned when a reply exceeds the caller's size limit.
var ErrTooLarge = errors.New("reply larger than the limit")

// UnreachableKind says how a device failed to answer.
type UnreachableKind string

// Kinds of unreachable.
const (
	NoAnswer UnreachableKind = "timeout" // nothing came back within the timeout
	Refused  UnreachableKind = "refused" // the port refused the connection
	Silent   UnreachableKind = "silent"  // connected, then no reply in time
)

// UnreachableError is a connection that could not be made or used, with a
// message the technician can act on.
type UnreachableError struct {
	HostPort string
	Kind     UnreachableKind
	Timeout  time.Duration
	Err      error
}

func (e *UnreachableError) Error() string {
	switch e.Kind {
	case Refused:
		return fmt.Sprintf("%s refused the connection: the service is off or the Accessible IP list blocks this laptop", e.HostPort)
	case Silent:
		return fmt.Sprintf("%s accepted the connection but sent no reply within %s: the service hangs or something in between drops the traffic", e.HostPort, e.Timeout)
	default:
		return fmt.Sprintf("no answer from %s within %s: check the address, the cable and that your laptop is on the device's subnet", e.HostPort, e.Timeout)
	}
}

// Unwrap returns the underlying network error.
func (e *UnreachableError) Unwrap() error { return e.Err }

// isTimeout reports whether err is a deadline or timeout.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) ||
		(errors.As(err, &ne) && ne.Timeout())
}

// Classify turns a dial error into an *UnreachableError when it is a
// timeout or a refusal; other errors (cancelled, bad address) are wrapped.
func Classify(hostport string, timeout time.Duration, err error) error {
	if err == nil {
		return nil
	}
	var ue *UnreachableError
	if errors.As(err, &ue) {
		return err
	}
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return &UnreachableError{HostPort: hostport, Kind: Refused, Timeout: timeout, Err: err}
	case errors.Is(err, context.Canceled):
		return fmt.Errorf("connect to %s: %w", hostport, err)
	case isTimeout(err):
		return &UnreachableError{HostPort: hostport, Kind: NoAnswer, Timeout: timeout, Err: err}
	}
	return fmt.Errorf("connect to %s: %w", hostport, err)
}

// Dial opens a connection with a timeout (DefaultTimeout when zero) and
// classifies failures. The installed DestinationCheck sees hostport
// before any lookup and the resolved address before the connection.
func Dial(ctx context.Context, network, hostport string, timeout time.Duration) (net.Conn, error) {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	if err := CheckDestination(network, hostport); err != nil {
		return nil, err
	}
	c, err := Dialer(timeout).DialContext(ctx, network, hostport)
	if err != nil {
		return nil, Classify(hostport, timeout, err)
	}
	return c, nil
}
