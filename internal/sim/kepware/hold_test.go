//go:build linux

package kepware

import (
	"errors"
	"net"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/commission-tool/commission/internal/sim/simnet"
)

// httpAddr is the server's Configuration API HTTP address.
func httpAddr(d *Device) string {
	return net.JoinHostPort(d.Host(), strconv.Itoa(d.Ports()[SvcConfigHTTP]))
}

// checkHTTPOff fails the test unless the HTTP port is off and still the
// server's: another listener cannot bind it, and a connection is
// refused (a probe may otherwise find another program's listener).
func checkHTTPOff(t *testing.T, d *Device, when string) {
	t.Helper()
	if simnet.Bindable("tcp4", httpAddr(d)) {
		t.Errorf("%s: another socket took the HTTP port while it is off", when)
	}
	c, err := net.DialTimeout("tcp4", httpAddr(d), time.Second)
	if err == nil {
		c.Close()
	}
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("%s: the HTTP port is off but a dial gave %v, want connection refused", when, err)
	}
}

// dialHTTP checks that the HTTP port serves. The client closes first, so
// no closed connection lingers in TIME_WAIT on the server's port (which
// would let a listener asking for the port by number bind it beside
// the hold, see simnet.HoldPort).
func dialHTTP(t *testing.T, d *Device) {
	t.Helper()
	c, err := net.DialTimeout("tcp4", httpAddr(d), time.Second)
	if err != nil {
		t.Fatalf("the HTTP port is on but refuses: %v", err)
	}
	c.Close()
}

func TestHTTPOffKeepsItsPort(t *testing.T) {
	d, err := Start(Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	dialHTTP(t, d)
	if err := d.SetHTTP(false); err != nil {
		t.Fatal(err)
	}
	checkHTTPOff(t, d, "SetHTTP(false)")
	if err := d.SetHTTP(true); err != nil {
		t.Fatalf("HTTP on again on its held port: %v", err)
	}
	dialHTTP(t, d)
	if err := d.Harden(); err != nil {
		t.Fatal(err)
	}
	checkHTTPOff(t, d, "Harden")
	addr := httpAddr(d)
	d.Close()
	ln, err := net.Listen("tcp4", addr)
	if err != nil {
		t.Fatalf("a closed simulator still holds its HTTP port: %v", err)
	}
	ln.Close()
}

// TestHTTPOffAtResumeKeepsItsPort: a server whose state file has the
// HTTP port off starts with that port held, not served.
func TestHTTPOffAtResumeKeepsItsPort(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "kp")
	d, err := Start(Config{StateDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.SetHTTP(false); err != nil {
		d.Close()
		t.Fatal(err)
	}
	d.Close()
	d2, err := Start(Config{StateDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer d2.Close()
	checkHTTPOff(t, d2, "resumed with HTTP off")
	if err := d2.SetHTTP(true); err != nil {
		t.Fatalf("HTTP on on its held port: %v", err)
	}
	dialHTTP(t, d2)
}
