package thingspro

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/commission-tool/commission/internal/devices"
	"github.com/commission-tool/commission/internal/printable"
	"github.com/commission-tool/commission/internal/probe"
)

// Evidence returns the files this state offers the record as evidence:
// the certificate the HTTPS API presented, the outside port and TLS
// probes, and what the device itself reported. Nothing in them is
// secret: secret fields are not part of a State's JSON, and passwords
// are never read back from a device.
func (s State) Evidence() []devices.EvidenceFile {
	var ev []devices.EvidenceFile
	if c := s.Observed.TLS.Cert; c != nil && c.PEM != "" {
		ev = append(ev, devices.EvidenceFile{Name: "https-certificate.pem",
			Description: "certificate the HTTPS API presented", Data: []byte(c.PEM)})
	}
	if len(s.Observed.Ports) > 0 || len(s.Observed.TLS.Versions) > 0 {
		ev = append(ev, devices.EvidenceFile{Name: "probes.txt",
			Description: "outside port and TLS probes at the end of the session", Data: []byte(probeTranscript(s.Observed.Ports, s.Observed.TLS))})
	}
	if len(s.Listening) > 0 {
		var b strings.Builder
		for _, l := range s.Listening {
			fmt.Fprintf(&b, "%s %s:%d\n", l.Proto, l.Addr, l.Port)
		}
		ev = append(ev, devices.EvidenceFile{Name: "listening.txt", Description: "what the gateway's shell showed listening (ss -ltnu)", Data: []byte(b.String())})
	}
	settings := s
	settings.Observed = Observed{}
	if b, err := json.MarshalIndent(settings, "", "  "); err == nil {
		ev = append(ev, devices.EvidenceFile{Name: "api-settings.json", Description: "the settings the gateway's REST API returned at the end of the session, as decoded (secrets excluded)", Data: append(b, '\n')})
	}
	return ev
}

// probeTranscript writes probe results one per line, sorted by name,
// then which TLS versions the HTTPS port accepted.
func probeTranscript(ports map[string]probe.Result, tls probe.TLSReport) string {
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
