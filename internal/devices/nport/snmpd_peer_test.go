package nport

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"

	"github.com/commission-tool/commission/internal/peertest"
	"github.com/commission-tool/commission/internal/probe"
)

// startSnmpd runs net-snmp's snmpd on a free loopback UDP port with the
// given read-only community, as a real peer for the driver's SNMP code.
func startSnmpd(t *testing.T, community string) int {
	t.Helper()
	bin := peertest.Require(t, "snmpd")
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := pc.LocalAddr().(*net.UDPAddr).Port
	pc.Close()
	dir := t.TempDir()
	conf := filepath.Join(dir, "snmpd.conf")
	cfg := fmt.Sprintf("agentAddress udp:127.0.0.1:%d\nrocommunity %s 127.0.0.1\nsysDescr NP5150A\nsysObjectID .1.3.6.1.4.1.8691.2.7\nsysName NP5150A_6621\n", port, community)
	if err := os.WriteFile(conf, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-f", "-Lo", "-C", "-c", conf, "-p", filepath.Join(dir, "pid"))
	cmd.Env = append(os.Environ(), "SNMP_PERSISTENT_DIR="+dir, "MIBS=")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	// Wait until it answers with its own community.
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		info, _ := snmpGet(ctx, net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), community, gosnmp.Version2c, nil)
		cancel()
		if info.ok {
			return port
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("snmpd never answered")
	return 0
}

// TestSNMPAgainstNetSNMP checks the driver's SNMP identification and the
// default-community probe against a real agent, net-snmp's snmpd.
func TestSNMPAgainstNetSNMP(t *testing.T) {
	port := startSnmpd(t, "public")
	info, res := readSNMP(context.Background(), "127.0.0.1", port, time.Second, newRoundTrip())
	if !info.ok || !info.defaultCommunity || res.State != probe.Open {
		t.Fatalf("snmpd with community public: %+v", info)
	}
	if info.descr != "NP5150A" {
		t.Errorf("sysDescr %q, want NP5150A", info.descr)
	}
	if info.objectID != ".1.3.6.1.4.1.8691.2.7" {
		t.Errorf("sysObjectID %q", info.objectID)
	}
}

// TestSNMPChangedCommunityAgainstNetSNMP: an agent whose communities were
// changed does not count as accepting the factory ones.
func TestSNMPChangedCommunityAgainstNetSNMP(t *testing.T) {
	port := startSnmpd(t, "Pl4nt-only")
	info, res := readSNMP(context.Background(), "127.0.0.1", port, 300*time.Millisecond, newRoundTrip())
	if info.ok || info.defaultCommunity || res.State != probe.Filtered {
		t.Fatalf("an agent without public/private was read with a default community: %+v", info)
	}
}
