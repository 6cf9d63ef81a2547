//go:build !unix

package simnet

import (
	"fmt"
	"net"
)

// hold chooses the port as the simulators did before holds: it opens
// the service's socket and closes it again. Nothing keeps the port.
func hold(network, address string) (*Hold, error) {
	switch network {
	case "tcp", "tcp4", "tcp6":
		ln, err := net.Listen(network, address)
		if err != nil {
			return nil, err
		}
		a := ln.Addr().(*net.TCPAddr)
		ln.Close()
		return &Hold{network: network, addr: a.String(), port: a.Port}, nil
	case "udp", "udp4", "udp6":
		pc, err := net.ListenPacket(network, address)
		if err != nil {
			return nil, err
		}
		a := pc.LocalAddr().(*net.UDPAddr)
		pc.Close()
		return &Hold{network: network, addr: a.String(), port: a.Port}, nil
	}
	return nil, fmt.Errorf("unknown network %q", network)
}
