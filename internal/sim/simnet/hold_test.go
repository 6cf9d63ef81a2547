//go:build linux

package simnet

import (
	"errors"
	"net"
	"syscall"
	"testing"
	"time"
)

// A held TCP port refuses connections, and nobody else can listen on it.
func TestHeldTCPPortIsClosedAndKept(t *testing.T) {
	h, err := HoldPort("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	if h.Port() == 0 {
		t.Fatal("no port chosen")
	}
	if _, err := net.DialTimeout("tcp4", h.Addr(), time.Second); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("dial a held port: %v, want connection refused", err)
	}
	if Bindable("tcp4", h.Addr()) {
		t.Fatal("another socket listened on the held port")
	}
	ln, err := h.Listen()
	if err != nil {
		t.Fatalf("the service could not start on its held port: %v", err)
	}
	defer ln.Close()
	if got := ln.Addr().(*net.TCPAddr).Port; got != h.Port() {
		t.Fatalf("listening on %d, held %d", got, h.Port())
	}
	c, err := net.DialTimeout("tcp4", h.Addr(), time.Second)
	if err != nil {
		t.Fatalf("the started service refused: %v", err)
	}
	c.Close()
}

// After a restart the port's closed connections linger in TIME_WAIT,
// which refuses a plain bind; the hold still takes the port and refuses
// connections.
func TestHoldAfterTimeWait(t *testing.T) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if c, err := ln.Accept(); err == nil {
			c.Close() // the server closes first: its side waits in TIME_WAIT
		}
	}()
	c, err := net.Dial("tcp4", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	<-done
	c.SetReadDeadline(time.Now().Add(2 * time.Second))
	c.Read(make([]byte, 1))
	c.Close()
	h, err := HoldListener(ln)
	if err != nil {
		t.Fatalf("hold after TIME_WAIT: %v", err)
	}
	defer h.Close()
	if !Bindable("tcp4", "127.0.0.1:0") {
		t.Fatal("Bindable says no to any free port")
	}
	if _, err := net.DialTimeout("tcp4", h.Addr(), time.Second); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("dial a held port: %v, want connection refused", err)
	}
}

// A datagram to a held UDP port gets the closed port's answer, and
// nobody else can bind the port.
func TestHeldUDPPortIsClosedAndKept(t *testing.T) {
	h, err := HoldPort("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	if Bindable("udp4", h.Addr()) {
		t.Fatal("another socket bound the held port")
	}
	c, err := net.Dial("udp4", h.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write([]byte("ping"))
	c.SetReadDeadline(time.Now().Add(2 * time.Second))
	if _, err := c.Read(make([]byte, 16)); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("read after a datagram to a held port: %v, want connection refused (port unreachable)", err)
	}
	pc, err := h.ListenPacket()
	if err != nil {
		t.Fatalf("the service could not start on its held port: %v", err)
	}
	defer pc.Close()
	if got := pc.LocalAddr().(*net.UDPAddr).Port; got != h.Port() {
		t.Fatalf("serving %d, held %d", got, h.Port())
	}
}

func TestHoldRefusesANameOrTakenPort(t *testing.T) {
	if _, err := HoldPort("tcp4", "localhost:0"); err == nil {
		t.Fatal("held a host name")
	}
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if h, err := HoldPort("tcp4", ln.Addr().String()); err == nil {
		h.Close()
		t.Fatal("held a port another socket listens on")
	}
}

// Holds keep a stopped service's port, start it on that port, start it
// on its address when the hold was lost, and give every port up at Close.
func TestHoldsKeepListenClose(t *testing.T) {
	hs := Holds{}
	h, err := HoldPort("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := h.Addr()
	hs["web"] = h
	ln, err := hs.Listen("web", "tcp4", addr)
	if err != nil || len(hs) != 0 {
		t.Fatalf("start on the held port: %v, %d holds left", err, len(hs))
	}
	ln.Close()
	hs.Keep("web", "tcp4", addr)
	if Bindable("tcp4", addr) {
		t.Fatal("Keep did not hold the stopped service's port")
	}
	hs.Close()
	if len(hs) != 0 || !Bindable("tcp4", addr) {
		t.Fatal("Close kept a port")
	}
	ln, err = hs.Listen("web", "tcp4", addr) // no hold: listens on the address
	if err != nil {
		t.Fatalf("start without a hold: %v", err)
	}
	ln.Close()
}
