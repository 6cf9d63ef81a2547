package probe

import (
	"strings"
	"testing"
)

// The transcript lists ports sorted by name, then the TLS versions, with
// device text made printable.
func TestTranscriptSortedAndPrintable(t *testing.T) {
	got := Transcript(map[string]Result{
		"telnet": {Port: 23, Network: "tcp", State: Closed},
		"https":  {Port: 443, Network: "tcp", State: Open, Detail: "ok\x1b[2J"},
	}, TLSReport{Port: 443, Versions: map[string]bool{"TLS 1.2": true, "TLS 1.0": false}})
	lines := strings.Split(strings.TrimSpace(got), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[0], "https") || !strings.HasPrefix(lines[1], "telnet") ||
		!strings.Contains(lines[2], "TLS 1.0 accepted: false") || !strings.Contains(lines[3], "TLS 1.2 accepted: true") {
		t.Fatalf("transcript:\n%s", got)
	}
	if strings.Contains(got, "\x1b") {
		t.Errorf("escape sequence kept: %q", got)
	}
}

func TestEvidenceOffersCertificateAndProbes(t *testing.T) {
	if ev := Evidence(nil, TLSReport{}, "the console"); len(ev) != 0 {
		t.Errorf("nothing probed, evidence %+v", ev)
	}
	ports := map[string]Result{"telnet": {Port: 23, Network: "tcp", State: Closed}}
	tls := TLSReport{Port: 443, Cert: &CertInfo{PEM: "-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n"}}
	ev := Evidence(ports, tls, "the console")
	if len(ev) != 2 || ev[0].Name != "https-certificate.pem" || string(ev[0].Data) != tls.Cert.PEM ||
		!strings.Contains(ev[0].Description, "the console") || ev[1].Name != "probes.txt" || !strings.Contains(string(ev[1].Data), "telnet") {
		t.Errorf("evidence %+v", ev)
	}
}
