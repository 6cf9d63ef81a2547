//go:build !windows

package probe

import (
	"errors"
	"syscall"
)

// isRefused reports whether err says the peer refused: a TCP RST, or an
// ICMP port unreachable reported on a connected UDP socket.
func isRefused(err error) bool {
	return errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET)
}

// isUnreachable reports whether err says the host or network cannot be
// reached (an ICMP host or network unreachable, or no route).
func isUnreachable(err error) bool {
	return errors.Is(err, syscall.EHOSTUNREACH) || errors.Is(err, syscall.ENETUNREACH)
}
