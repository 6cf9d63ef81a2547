//go:build windows

package probe

import (
	"errors"
	"syscall"
)

// Winsock error numbers that package syscall does not name.
const (
	wsaECONNREFUSED syscall.Errno = 10061
	wsaENETUNREACH  syscall.Errno = 10051
	wsaEHOSTUNREACH syscall.Errno = 10065
)

// isRefused reports whether err says the peer refused: a TCP RST, or an
// ICMP port unreachable, which Windows reports on a connected UDP socket
// as WSAECONNRESET.
func isRefused(err error) bool {
	return errors.Is(err, wsaECONNREFUSED) || errors.Is(err, syscall.WSAECONNRESET) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET)
}

// isUnreachable reports whether err says the host or network cannot be
// reached.
func isUnreachable(err error) bool {
	return errors.Is(err, wsaEHOSTUNREACH) || errors.Is(err, wsaENETUNREACH)
}
