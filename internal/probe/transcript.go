package probe

import (
	"fmt"
	"sort"
	"strings"

	"github.com/commission-tool/commission/internal/devices"
	"github.com/commission-tool/commission/internal/printable"
)

// Transcript writes probe results one per line, sorted by name, then
// which TLS versions the HTTPS port accepted: the probe evidence file
// every family puts in its record.
func Transcript(ports map[string]Result, tls TLSReport) string {
	names := make([]string, 0, len(ports))
	for n := range ports {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, n := range names {
		r := ports[n]
		fmt.Fprintf(&b, "%-16s %5d/%s %-8s %s\n", n, r.Port, r.Network, r.State, printable.String(r.Detail))
	}
	vs := make([]string, 0, len(tls.Versions))
	for v := range tls.Versions {
		vs = append(vs, v)
	}
	sort.Strings(vs)
	for _, v := range vs {
		fmt.Fprintf(&b, "https port %d %s accepted: %t\n", tls.Port, v, tls.Versions[v])
	}
	if tls.Error != "" {
		fmt.Fprintf(&b, "https port %d: %s\n", tls.Port, printable.String(tls.Error))
	}
	return b.String()
}

// Evidence is the evidence every family's state offers from its outside
// probes: the certificate its HTTPS service presented (where, in words:
// "the HTTPS console") and the port and TLS probe transcript.
func Evidence(ports map[string]Result, tls TLSReport, where string) []devices.EvidenceFile {
	var ev []devices.EvidenceFile
	if c := tls.Cert; c != nil && c.PEM != "" {
		ev = append(ev, devices.EvidenceFile{Name: "https-certificate.pem",
			Description: "certificate " + where + " presented", Data: []byte(c.PEM)})
	}
	if len(ports) > 0 || len(tls.Versions) > 0 {
		ev = append(ev, devices.EvidenceFile{Name: "probes.txt",
			Description: "outside port and TLS probes at the end of the session", Data: []byte(Transcript(ports, tls))})
	}
	return ev
}
