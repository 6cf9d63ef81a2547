//go:build unix

package simnet

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"syscall"
)

func hold(network, address string) (*Hold, error) {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return nil, fmt.Errorf("the address must be an IP and a port: %w", err)
	}
	ip := ap.Addr().Unmap()
	switch network {
	case "tcp", "tcp4", "tcp6":
		return holdTCP(network, ip, ap.Port())
	case "udp", "udp4", "udp6":
		return holdUDP(network, ip, ap.Port())
	}
	return nil, fmt.Errorf("unknown network %q", network)
}

// holdTCP binds a stream socket it never listens on. It binds without
// SO_REUSEADDR first, which keeps even an explicit bind to the port out.
// A port whose closed connections linger in TIME_WAIT (as after a
// restart) only takes a bind with SO_REUSEADDR: that hold keeps out every
// bind that lets the kernel choose its port, and every client's source
// port, but not a listener asking for this port by number.
func holdTCP(network string, ip netip.Addr, port uint16) (*Hold, error) {
	fd, err := bindSocket(syscall.SOCK_STREAM, ip, port, false)
	if errors.Is(err, syscall.EADDRINUSE) {
		fd, err = bindSocket(syscall.SOCK_STREAM, ip, port, true)
	}
	if err != nil {
		return nil, err
	}
	return held(network, ip, fd)
}

// holdUDP binds the port and connects the socket to itself: the kernel
// delivers a connected socket only its peer's datagrams, so anyone
// else's finds no socket and gets the closed port's answer. Connecting a
// UDP socket sends nothing.
func holdUDP(network string, ip netip.Addr, port uint16) (*Hold, error) {
	fd, err := bindSocket(syscall.SOCK_DGRAM, ip, port, false)
	if err != nil {
		return nil, err
	}
	sa, err := syscall.Getsockname(fd)
	if err == nil {
		err = syscall.Connect(fd, sa)
	}
	if err != nil {
		syscall.Close(fd)
		return nil, err
	}
	return held(network, ip, fd)
}

// held is the Hold of the bound socket fd.
func held(network string, ip netip.Addr, fd int) (*Hold, error) {
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		syscall.Close(fd)
		return nil, err
	}
	port := sockPort(sa)
	return &Hold{network: network, addr: net.JoinHostPort(ip.String(), strconv.Itoa(port)), port: port,
		release: func() error { return syscall.Close(fd) }}, nil
}

func bindSocket(typ int, ip netip.Addr, port uint16, reuse bool) (int, error) {
	family, sa := sockaddr(ip, port)
	fd, err := syscall.Socket(family, typ, 0)
	if err != nil {
		return -1, err
	}
	syscall.CloseOnExec(fd)
	if reuse {
		if err := syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_REUSEADDR, 1); err != nil {
			syscall.Close(fd)
			return -1, err
		}
	}
	if err := syscall.Bind(fd, sa); err != nil {
		syscall.Close(fd)
		return -1, err
	}
	return fd, nil
}

func sockaddr(ip netip.Addr, port uint16) (int, syscall.Sockaddr) {
	if ip.Is4() {
		return syscall.AF_INET, &syscall.SockaddrInet4{Port: int(port), Addr: ip.As4()}
	}
	return syscall.AF_INET6, &syscall.SockaddrInet6{Port: int(port), Addr: ip.As16()}
}

func sockPort(sa syscall.Sockaddr) int {
	switch v := sa.(type) {
	case *syscall.SockaddrInet4:
		return v.Port
	case *syscall.SockaddrInet6:
		return v.Port
	}
	return 0
}
