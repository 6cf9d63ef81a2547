package thingspro

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/commission-tool/commission/internal/devices"
	"github.com/commission-tool/commission/internal/probe"
)

// Evidence returns the files this state offers the record as evidence:
// the certificate the HTTPS API presented, the outside port and TLS
// probes, and what the device itself reported. Nothing in them is
// secret: secret fields are not part of a State's JSON, and passwords
// are never read back from a device.
func (s State) Evidence() []devices.EvidenceFile {
	ev := probe.Evidence(s.Observed.Ports, s.Observed.TLS, "the HTTPS API")
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
