//go:build linux

package thingspro_test

import (
	"encoding/json"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/commission-tool/commission/internal/sim/simnet"

	simthingspro "github.com/commission-tool/commission/internal/sim/thingspro"
)

// udp reports whether a service's port is the UDP one.
func udp(svc string) bool { return svc == simthingspro.PortDiscovery }

// takenBySomeoneElse reports whether another socket could bind the
// gateway's port of svc: a port whose service is off must stay the
// gateway's, or a probe may find another program's socket there.
func takenBySomeoneElse(d *simthingspro.Device, svc string) bool {
	if udp(svc) {
		return simnet.Bindable("udp", d.Addr(svc))
	}
	return simnet.Bindable("tcp", d.Addr(svc))
}

// refused reports whether a connection to svc (for UDP: a datagram, as
// the kernel answers one to a closed port) is refused.
func refused(t *testing.T, d *simthingspro.Device, svc string) bool {
	t.Helper()
	if !udp(svc) {
		c, err := net.DialTimeout("tcp", d.Addr(svc), time.Second)
		if err == nil {
			c.Close()
		}
		return errors.Is(err, syscall.ECONNREFUSED)
	}
	c, err := net.Dial("udp", d.Addr(svc))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write([]byte("discover"))
	c.SetReadDeadline(time.Now().Add(2 * time.Second))
	_, err = c.Read(make([]byte, 1500))
	return errors.Is(err, syscall.ECONNREFUSED)
}

// checkOff fails the test unless svc is off with its port kept.
func checkOff(t *testing.T, d *simthingspro.Device, svc, when string) {
	t.Helper()
	if takenBySomeoneElse(d, svc) {
		t.Errorf("%s: another socket took the %s port while the service is off", when, svc)
	}
	if !refused(t, d, svc) {
		t.Errorf("%s: %s is off but its port does not refuse", when, svc)
	}
}

func TestOffServicesKeepTheirPorts(t *testing.T) {
	d, err := simthingspro.Start(simthingspro.Config{NoForcedChange: true})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	// factory: SSH off
	checkOff(t, d, simthingspro.PortSSH, "at start")

	a := newAPI(t, d)
	if code := a.login("admin", "admin@123"); code != 200 {
		t.Fatalf("login %d", code)
	}
	// on, then off again: the service takes its hold and gives it back
	if code, _ := a.call("PUT", "/system/sshserver", map[string]any{"enable": true}); code != 200 {
		t.Fatalf("SSH on: %d", code)
	}
	if refused(t, d, simthingspro.PortSSH) {
		t.Fatal("SSH turned on but refuses")
	}
	for _, c := range []struct {
		method, path string
		body         any
		svc          string
	}{
		{"PUT", "/system/sshserver", map[string]any{"enable": false}, simthingspro.PortSSH},
		{"PUT", "/system/services/httpservice/disable", nil, simthingspro.PortHTTP},
		{"PUT", "/system/discovery", map[string]any{"enable": false}, simthingspro.PortDiscovery},
	} {
		if code, _ := a.call(c.method, c.path, c.body); code != 200 {
			t.Fatalf("%s %s: %d", c.method, c.path, code)
		}
		checkOff(t, d, c.svc, "turned off through the API")
	}

	// HTTPS goes once the call that turns it off has its reply. The
	// gateway closes that connection, so it lingers in TIME_WAIT on the
	// port, and the hold then keeps out only the binds that let the
	// kernel choose (simnet.HoldPort): a listener asking for the port by
	// number could still bind it, so only the refusal is checked here
	// (TestOffAtResumeKeepsItsPort checks the hold of an HTTPS that is off).
	if code, _ := a.call("PUT", "/system/services/httpsservice/disable", nil); code != 200 {
		t.Fatalf("turning HTTPS off: %d, want its reply (200) before HTTPS stops", code)
	}
	for deadline := time.Now().Add(3 * time.Second); !refused(t, d, simthingspro.PortHTTPS); {
		if time.Now().After(deadline) {
			t.Fatal("HTTPS turned off but still answers")
		}
		time.Sleep(10 * time.Millisecond)
	}

	ports := d.Ports()
	d.Close()
	for svc, port := range ports {
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		var err error
		if udp(svc) {
			var pc net.PacketConn
			if pc, err = net.ListenPacket("udp", addr); err == nil {
				pc.Close()
			}
		} else {
			var ln net.Listener
			if ln, err = net.Listen("tcp", addr); err == nil {
				ln.Close()
			}
		}
		if err != nil {
			t.Errorf("a closed simulator still holds its %s port: %v", svc, err)
		}
	}
}

// TestHardenedAndResumedKeepTheirPorts: Harden turns HTTP, SSH and
// discovery off; a start from the state folder holds their saved ports
// as it checks them.
func TestHardenedAndResumedKeepTheirPorts(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "gw")
	d, err := simthingspro.Start(simthingspro.Config{StateDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Harden(simthingspro.HardenOptions{}); err != nil {
		d.Close()
		t.Fatal(err)
	}
	off := []string{simthingspro.PortHTTP, simthingspro.PortSSH, simthingspro.PortDiscovery}
	for _, svc := range off {
		checkOff(t, d, svc, "after Harden")
	}
	d.Close()
	d2, err := simthingspro.Start(simthingspro.Config{StateDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer d2.Close()
	for _, svc := range off {
		checkOff(t, d2, svc, "resumed")
	}
	if refused(t, d2, simthingspro.PortHTTPS) {
		t.Fatal("the resumed gateway's HTTPS refuses")
	}
}

// TestOffAtResumeKeepsItsPort: a state file whose HTTPS is off (and
// whose ports no connection used) starts with the HTTPS port held.
func TestOffAtResumeKeepsItsPort(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "gw")
	d, err := simthingspro.Start(simthingspro.Config{StateDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	d.Close()
	path := filepath.Join(dir, simthingspro.StateFileName)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var st map[string]any
	if err := json.Unmarshal(b, &st); err != nil {
		t.Fatal(err)
	}
	st["state"].(map[string]any)["Services"].(map[string]any)["httpsservice"] = false
	if b, err = json.Marshal(st); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	d2, err := simthingspro.Start(simthingspro.Config{StateDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer d2.Close()
	checkOff(t, d2, simthingspro.PortHTTPS, "off in the state file")
	checkOff(t, d2, simthingspro.PortSSH, "off in the state file")
	if refused(t, d2, simthingspro.PortHTTP) {
		t.Error("the resumed gateway's HTTP refuses")
	}
}
