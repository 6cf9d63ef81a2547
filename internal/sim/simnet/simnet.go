// Package simnet keeps a simulated device's ports its own while their
// services are off.
//
// A simulator picks its ports once and keeps them across restarts, as a
// device keeps its port numbers. Between picking a port and serving on
// it, or while a service is off, a freed port can be taken by any other
// socket on the machine: a test's listener, another simulator, or the
// kernel's choice of a client's source port. A probe would then find the
// "closed" port open. A Hold keeps the port bound but not serving, so
// that a connection to it is refused as by a device whose service is
// off, and no socket that lets the kernel choose its port can be given
// this one.
package simnet

import (
	"fmt"
	"net"
)

// Hold is a port kept for a service that does not serve on it now.
type Hold struct {
	network string // "tcp", "tcp4", "udp" or "udp4", as given
	addr    string // host:port with the port chosen
	port    int
	release func() error
}

// HoldPort binds address on network ("tcp", "tcp4", "udp", "udp4") and
// keeps the port without serving on it. With port 0 the kernel chooses
// a free port; Port tells which. A TCP hold never listens, so a
// connection is refused. A UDP hold is connected to itself, so that a
// datagram from anyone else finds no socket and is answered, by the
// kernel, as one to a closed port.
//
// Where the platform gives no way to bind without serving (outside
// Unix), the port is chosen and freed, as the simulators did before
// holds; nothing keeps others from taking it.
func HoldPort(network, address string) (*Hold, error) {
	h, err := hold(network, address)
	if err != nil {
		return nil, fmt.Errorf("hold %s %s: %w", network, address, err)
	}
	return h, nil
}

// Port is the held port's number.
func (h *Hold) Port() int { return h.port }

// Addr is the held address, host:port.
func (h *Hold) Addr() string { return h.addr }

// Close gives the port up.
func (h *Hold) Close() error {
	if h.release == nil {
		return nil
	}
	err := h.release()
	h.release = nil
	return err
}

// Listen gives the held TCP port up and listens on it: the service
// starts on its own port.
func (h *Hold) Listen() (net.Listener, error) {
	h.Close()
	return net.Listen(h.network, h.addr)
}

// ListenPacket gives the held UDP port up and serves it.
func (h *Hold) ListenPacket() (net.PacketConn, error) {
	h.Close()
	return net.ListenPacket(h.network, h.addr)
}

// HoldListener closes ln and holds its port: the service stops and
// its port stays the device's.
func HoldListener(ln net.Listener) (*Hold, error) {
	a := ln.Addr()
	ln.Close()
	return HoldPort(a.Network(), a.String())
}

// HoldPacketConn closes pc and holds its port.
func HoldPacketConn(pc net.PacketConn) (*Hold, error) {
	a := pc.LocalAddr()
	pc.Close()
	return HoldPort(a.Network(), a.String())
}

// Bindable reports whether another socket could listen on (TCP) or bind
// (UDP) address now: false for a port a Hold keeps or a service serves
// on. Tests ask it of a port whose service is off.
func Bindable(network, address string) bool {
	switch network {
	case "udp", "udp4", "udp6":
		pc, err := net.ListenPacket(network, address)
		if err == nil {
			pc.Close()
		}
		return err == nil
	}
	ln, err := net.Listen(network, address)
	if err == nil {
		ln.Close()
	}
	return err == nil
}

// Holds are a simulated device's held ports by service name: those of
// the services that are off. The device guards it with its own lock.
type Holds map[string]*Hold

// Keep holds address on network for the service name, which has just
// stopped, unless its port is held already. A port someone took in the
// moment since is left; the service's next start reports it.
func (hs Holds) Keep(name, network, address string) {
	if _, ok := hs[name]; ok {
		return
	}
	if h, err := HoldPort(network, address); err == nil {
		hs[name] = h
	}
}

// Listen starts the TCP service name on address: it takes the port's
// hold or, when the hold was lost (Keep), listens on the address.
func (hs Holds) Listen(name, network, address string) (net.Listener, error) {
	if h, ok := hs[name]; ok {
		delete(hs, name)
		return h.Listen()
	}
	return net.Listen(network, address)
}

// ListenPacket is Listen for a UDP service.
func (hs Holds) ListenPacket(name, network, address string) (net.PacketConn, error) {
	if h, ok := hs[name]; ok {
		delete(hs, name)
		return h.ListenPacket()
	}
	return net.ListenPacket(network, address)
}

// Close gives every held port up.
func (hs Holds) Close() {
	for name, h := range hs {
		h.Close()
		delete(hs, name)
	}
}
