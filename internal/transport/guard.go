package transport

import (
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"
	"syscall"
	"time"
)

// DestinationCheck decides whether the tool may contact address ("host",
// "host:port" or "[v6]:port") over network ("tcp", "udp", ...). It is
// asked before any name lookup, so it can refuse a name before a DNS
// query leaves the machine, and again with the resolved address just
// before a socket connects or sends.
type DestinationCheck func(network, address string) error

var (
	checkMu sync.RWMutex
	check   DestinationCheck
)

// SetDestinationCheck installs c for every dial and datagram of this
// process (transport, the drivers through it, and the probes) and returns
// a function that restores the previous check. A nil c removes the check.
// Tests install LoopbackOnly so that no packet leaves 127.0.0.0/8.
func SetDestinationCheck(c DestinationCheck) (restore func()) {
	checkMu.Lock()
	prev := check
	check = c
	checkMu.Unlock()
	return func() {
		checkMu.Lock()
		check = prev
		checkMu.Unlock()
	}
}

// CheckDestination asks the installed DestinationCheck, if any, about
// address. Every place that chooses a destination calls it before the
// first lookup or packet.
func CheckDestination(network, address string) error {
	checkMu.RLock()
	c := check
	checkMu.RUnlock()
	if c == nil {
		return nil
	}
	if err := c(network, address); err != nil {
		return fmt.Errorf("%s %s: %w", network, address, err)
	}
	return nil
}

// ErrNotLoopback is returned by LoopbackOnly for a destination outside
// the loopback range.
var ErrNotLoopback = fmt.Errorf("destination outside 127.0.0.0/8 and ::1 refused by the loopback-only check")

// LoopbackOnly is a DestinationCheck that accepts only loopback IP
// literals (127.0.0.0/8, ::1). A host name is refused too: resolving it
// could send a DNS query off the machine.
func LoopbackOnly(_, address string) error {
	host := address
	if h, _, err := net.SplitHostPort(address); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if i := strings.IndexByte(host, '%'); i >= 0 {
		host = host[:i]
	}
	a, err := netip.ParseAddr(host)
	if err != nil || !a.Unmap().IsLoopback() {
		return fmt.Errorf("%q: %w", address, ErrNotLoopback)
	}
	return nil
}

// dialControl re-checks the resolved address just before a socket
// connects (net.Dialer.Control).
func dialControl(network, address string, _ syscall.RawConn) error {
	return CheckDestination(network, address)
}

// Dialer returns a net.Dialer with timeout whose every connection is
// checked by the installed DestinationCheck after name resolution. Call
// CheckDestination with the unresolved address first.
func Dialer(timeout time.Duration) *net.Dialer {
	return &net.Dialer{Timeout: timeout, Control: dialControl}
}
