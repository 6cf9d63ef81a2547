package nport

import (
	"net"
	"net/url"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"

	"github.com/commission-tool/commission/internal/peertest"
)

func snmpClient(t *testing.T, d *Device, community string, v gosnmp.SnmpVersion) *gosnmp.GoSNMP {
	t.Helper()
	port := d.Ports()[SvcSNMP]
	g := &gosnmp.GoSNMP{Target: "127.0.0.1", Port: uint16(port), Community: community, Version: v,
		Timeout: 300 * time.Millisecond, Retries: 0, MaxOids: 10}
	if err := g.Connect(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.Conn.Close() })
	return g
}

func TestSNMPSystemGroup(t *testing.T) {
	d := start(t, Config{})
	g := snmpClient(t, d, "public", gosnmp.Version2c)
	r, err := g.Get([]string{".1.3.6.1.2.1.1.1.0", ".1.3.6.1.2.1.1.2.0", ".1.3.6.1.2.1.1.5.0"})
	if err != nil {
		t.Fatal(err)
	}
	if got := string(r.Variables[0].Value.([]byte)); got != "NP5150A" {
		t.Errorf("sysDescr = %q", got)
	}
	if got := r.Variables[1].Value.(string); got != ".1.3.6.1.4.1.8691.2.7" {
		t.Errorf("sysObjectID = %q", got)
	}
	if got := string(r.Variables[2].Value.([]byte)); got != "NP5150A_6621" {
		t.Errorf("sysName = %q", got)
	}
	var names []string
	if err := g.Walk(".1.3.6.1.2.1.1", func(p gosnmp.SnmpPDU) error { names = append(names, p.Name); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(names) != 7 || names[0] != ".1.3.6.1.2.1.1.1.0" || names[6] != ".1.3.6.1.2.1.1.7.0" {
		t.Errorf("walk = %v", names)
	}
	var bulk []string
	if err := g.BulkWalk(".1.3.6.1.2.1.1", func(p gosnmp.SnmpPDU) error { bulk = append(bulk, p.Name); return nil }); err != nil || len(bulk) != 7 {
		t.Errorf("bulk walk = %v, %v", bulk, err)
	}
	if _, err := snmpClient(t, d, "private", gosnmp.Version1).Get([]string{".1.3.6.1.2.1.1.1.0"}); err != nil {
		t.Errorf("v1 with write community: %v", err)
	}
	if _, err := snmpClient(t, d, "wrong", gosnmp.Version2c).Get([]string{".1.3.6.1.2.1.1.1.0"}); err == nil {
		t.Error("wrong community answered")
	}
	// Disable SNMP: after Save/Restart the agent is silent.
	w := newWeb(t, d, SvcHTTP, nil)
	w.login("admin", "moxa")
	w.mustSubmit("/snmp.htm", url.Values{"snmp_en": {"0"}, "snmp_v1": {"1"}})
	if d.Saved().SNMP.ReadCommunity != "public" {
		t.Error("empty community submit changed the community")
	}
	w.saveRestart(d)
	if _, err := snmpClient(t, d, "public", gosnmp.Version2c).Get([]string{".1.3.6.1.2.1.1.1.0"}); err == nil {
		t.Error("SNMP answered after it was disabled")
	}
}

// TestSNMPNetSNMPPeer proves net-snmp's snmpget can read sysDescr.
func TestSNMPNetSNMPPeer(t *testing.T) {
	bin := peertest.Require(t, "snmpget")
	d := start(t, Config{})
	out, err := exec.Command(bin, "-v2c", "-c", "public", "-t", "1", "-r", "0", "-On",
		"udp:"+d.Addr(SvcSNMP), ".1.3.6.1.2.1.1.1.0").CombinedOutput()
	if err != nil {
		t.Fatalf("snmpget: %v: %s", err, out)
	}
	if !strings.Contains(string(out), `STRING: "NP5150A"`) && !strings.Contains(string(out), "STRING: NP5150A") {
		t.Fatalf("snmpget output: %s", out)
	}
}

func TestPortsStableAndNoLeaks(t *testing.T) {
	before := runtime.NumGoroutine()
	d, err := Start(Config{SerialPorts: 2, RestartDelay: 20 * time.Millisecond, Telnet: true})
	if err != nil {
		t.Fatal(err)
	}
	ports := d.Ports()
	for _, k := range []string{"http", "https", "telnet", "snmp", "moxa-udp", "moxa-tcp", "moxa-tcp2",
		"realcom-data-1", "realcom-cmd-1", "tcp-server-1", "udp-data-1", "realcom-data-2", "udp-data-2"} {
		if ports[k] == 0 {
			t.Errorf("no port for %s", k)
		}
	}
	// Hold a connection open across the restart: it must be closed.
	c, err := net.Dial("tcp", d.Addr("realcom-data-2"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	w := newWeb(t, d, SvcHTTP, nil)
	w.login("admin", "moxa")
	w.mustSubmit("/opmode.htm?Port=2", url.Values{"opmode": {"2"}}) // TCP Server
	w.saveRestart(d)
	c.SetReadDeadline(time.Now().Add(time.Second))
	if _, err := c.Read(make([]byte, 1)); err == nil {
		t.Error("connection survived the restart")
	}
	if tcpOpen(d.Addr("realcom-data-2")) || !tcpOpen(d.Addr("tcp-server-2")) {
		t.Error("port 2 listeners do not follow TCP Server mode")
	}
	for k, v := range d.Ports() {
		if ports[k] != v {
			t.Errorf("%s moved from %d to %d", k, ports[k], v)
		}
	}
	d.Close()
	w.c.CloseIdleConnections()
	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > before+2 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before+2 {
		t.Errorf("goroutines: %d before, %d after Close", before, n)
	}
	if tcpOpen(d.Addr(SvcHTTPS)) {
		t.Error("HTTPS still listening after Close")
	}
}
