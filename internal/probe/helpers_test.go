package probe

import (
	"net"
	"sync"
	"testing"

	"github.com/commission-tool/commission/internal/sim/simnet"
)

// tcpOpen starts a loopback TCP listener that holds every connection
// until the test ends, or closes it at once when closeAtOnce is set (as
// an allow list would). It returns the port.
func tcpOpen(tb testing.TB, closeAtOnce bool) int {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		conns []net.Conn
	)
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			if closeAtOnce {
				c.Close()
				continue
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	})
	tb.Cleanup(func() {
		ln.Close()
		wg.Wait()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
	})
	return ln.Addr().(*net.TCPAddr).Port
}

// tcpClosed returns a loopback TCP port nobody listens on, held
// (simnet.Hold) until the test ends so that no other socket takes it.
func tcpClosed(tb testing.TB) int {
	return held(tb, "tcp4")
}

func held(tb testing.TB, network string) int {
	tb.Helper()
	h, err := simnet.HoldPort(network, "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { h.Close() })
	return h.Port()
}

// udpServer starts a loopback UDP listener. reply, when not nil, makes
// the answer to each datagram; a nil reply never answers. It returns the
// port.
func udpServer(tb testing.TB, reply func(req []byte) []byte) int {
	tb.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		buf := make([]byte, 2048)
		for {
			n, addr, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			if reply != nil {
				_, _ = pc.WriteTo(reply(buf[:n]), addr)
			}
		}
	})
	tb.Cleanup(func() {
		pc.Close()
		wg.Wait()
	})
	return pc.LocalAddr().(*net.UDPAddr).Port
}

// udpClosed returns a loopback UDP port nobody listens on, held like
// tcpClosed's: a datagram to it gets the closed port's answer.
func udpClosed(tb testing.TB) int {
	return held(tb, "udp4")
}

// echoAck answers a request with the request prefixed by "ACK ".
func echoAck(req []byte) []byte { return append([]byte("ACK "), req...) }
