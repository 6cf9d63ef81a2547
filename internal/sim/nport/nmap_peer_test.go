package nport

import (
	"context"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/commission-tool/commission/internal/peertest"
)

// TestNmapRecognisesTheSimulator runs nmap's service detection against the
// simulator's telnet and HTTP consoles on loopback: its probes recognise a
// real NPort by the telnet option bytes and banner lines and by the web
// console's Server header and title, so they must recognise the simulator.
func TestNmapRecognisesTheSimulator(t *testing.T) {
	nmap := peertest.Require(t, "nmap")
	for _, g := range Generations() {
		t.Run(string(g), func(t *testing.T) {
			d := start(t, Config{Telnet: true, Generation: g})
			ports := strconv.Itoa(d.Ports()[SvcTelnet]) + "," + strconv.Itoa(d.Ports()[SvcHTTP])
			ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
			defer cancel()
			out, err := exec.CommandContext(ctx, nmap, "-sV", "-Pn", "-n", "--version-intensity", "2", "-p", ports, d.Host()).CombinedOutput()
			if err != nil {
				t.Fatalf("nmap: %v\n%s", err, out)
			}
			s := string(out)
			if !strings.Contains(s, "Moxa NPort 5150A serial-to-IP converter telnetd") || !strings.Contains(s, "1.6 Build 21051010") {
				t.Errorf("nmap did not recognise the telnet console:\n%s", s)
			}
			if !strings.Contains(s, "MoxaHttp") {
				t.Errorf("nmap did not recognise the web console:\n%s", s)
			}
			if g == GenGA && !strings.Contains(s, "Moxa NPort serial to IP http config") {
				t.Errorf("nmap did not recognise the GA web console by its title:\n%s", s)
			}
		})
	}
}
