//go:build linux

package nport

import (
	"net"
	"testing"
	"time"

	"github.com/commission-tool/commission/internal/sim/simnet"
)

// takenBySomeoneElse reports whether another socket could bind the
// device's port of svc: a port whose service is off must stay the
// device's, or a probe may find another program's listener there.
func takenBySomeoneElse(d *Device, svc string, udp bool) bool {
	if udp {
		return simnet.Bindable("udp4", d.Addr(svc))
	}
	return simnet.Bindable("tcp4", d.Addr(svc))
}

func TestOffServicesKeepTheirPorts(t *testing.T) {
	d := start(t, Config{})
	// factory: telnet off
	if takenBySomeoneElse(d, SvcTelnet, false) {
		t.Fatal("another socket took the telnet port while telnet is off")
	}
	if c, err := net.DialTimeout("tcp4", d.Addr(SvcTelnet), time.Second); err == nil {
		c.Close()
		t.Fatal("telnet is off but its port answers")
	}
	// hardening stops HTTP, SNMP and the Moxa service: their ports stay held
	d.Harden(HardenOptions{})
	for _, s := range []struct {
		svc string
		udp bool
	}{{SvcHTTP, false}, {SvcMoxaTCP, false}, {SvcSNMP, true}, {SvcMoxaUDP, true}, {SvcTelnet, false}} {
		if takenBySomeoneElse(d, s.svc, s.udp) {
			t.Errorf("another socket took the %s port after the service was turned off", s.svc)
		}
	}
	if !tcpOpen(d.Addr(SvcHTTPS)) {
		t.Fatal("HTTPS stopped serving")
	}
	telnet := d.Addr(SvcTelnet)
	d.Close()
	ln, err := net.Listen("tcp4", telnet)
	if err != nil {
		t.Fatalf("a closed simulator still holds its telnet port: %v", err)
	}
	ln.Close()
}
