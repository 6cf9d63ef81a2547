package probe

import (
	"context"
	"encoding/xml"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/commission-tool/commission/internal/peertest"
)

// nmapRun is the part of nmap's XML output the peer test reads.
type nmapRun struct {
	Hosts []struct {
		Ports []struct {
			Protocol string `xml:"protocol,attr"`
			PortID   int    `xml:"portid,attr"`
			State    struct {
				State  string `xml:"state,attr"`
				Reason string `xml:"reason,attr"`
			} `xml:"state"`
		} `xml:"ports>port"`
	} `xml:"host"`
}

// fromNmap maps an nmap port state to ours. nmap's "open|filtered" (a
// UDP port that did not answer) is what we call filtered.
func fromNmap(s string) PortState {
	switch s {
	case "open":
		return Open
	case "closed":
		return Closed
	case "filtered", "open|filtered":
		return Filtered
	}
	return Failed
}

// TestAgreesWithNmap runs nmap against loopback listeners and closed
// ports and checks that Run reaches the same verdict on every port.
func TestAgreesWithNmap(t *testing.T) {
	nmap := peertest.Require(t, "nmap")
	if testing.Short() {
		t.Skip("peer comparison with nmap skipped in -short mode")
	}
	targets := []Target{
		{Name: "open-a", Network: "tcp", Port: tcpOpen(t, false)},
		{Name: "open-b", Network: "tcp", Port: tcpOpen(t, false)},
		{Name: "open-c", Network: "tcp", Port: tcpOpen(t, false)},
		{Name: "closed-a", Network: "tcp", Port: tcpClosed(t)},
		{Name: "closed-b", Network: "tcp", Port: tcpClosed(t)},
	}
	udp := os.Geteuid() == 0 // nmap's UDP scan needs raw sockets
	if udp {
		targets = append(targets,
			Target{Name: "udp-open", Network: "udp", Port: udpServer(t, echoAck), Request: []byte("probe")},
			Target{Name: "udp-closed", Network: "udp", Port: udpClosed(t), Request: []byte("probe")},
			Target{Name: "udp-silent", Network: "udp", Port: udpServer(t, nil), Request: []byte("probe")},
		)
	} else {
		t.Log("not root: comparing TCP only (nmap -sU needs raw sockets)")
	}

	var tcpPorts, udpPorts []string
	for _, tg := range targets {
		if tg.Network == "tcp" {
			tcpPorts = append(tcpPorts, strconv.Itoa(tg.Port))
		} else {
			udpPorts = append(udpPorts, strconv.Itoa(tg.Port))
		}
	}
	spec := "T:" + strings.Join(tcpPorts, ",")
	args := []string{"-Pn", "-n", "-T4", "--max-retries", "1", "-oX", "-"}
	if udp {
		spec += ",U:" + strings.Join(udpPorts, ",")
		args = append(args, "-sS", "-sU")
	}
	args = append(args, "-p", spec, "127.0.0.1")

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, nmap, args...).Output()
	if err != nil {
		t.Fatalf("nmap %s: %v", strings.Join(args, " "), err)
	}
	var run nmapRun
	if err := xml.Unmarshal(out, &run); err != nil {
		t.Fatalf("parse nmap XML: %v", err)
	}
	seen := map[string]string{}
	for _, h := range run.Hosts {
		for _, p := range h.Ports {
			seen[fmt.Sprintf("%d/%s", p.PortID, p.Protocol)] = p.State.State
		}
	}

	got := Run(context.Background(), "127.0.0.1", targets, 300*time.Millisecond)
	for _, r := range got {
		key := fmt.Sprintf("%d/%s", r.Port, r.Network)
		ns, ok := seen[key]
		if !ok {
			t.Errorf("%s (%s): nmap reported nothing", key, r.Name)
			continue
		}
		if want := fromNmap(ns); r.State != want {
			t.Errorf("%s (%s): Run says %s (%s), nmap says %s", key, r.Name, r.State, r.Detail, ns)
		} else {
			t.Logf("%s (%s): both %s (nmap %s)", key, r.Name, r.State, ns)
		}
	}
}
