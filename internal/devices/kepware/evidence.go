package kepware

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/commission-tool/commission/internal/devices"
	"github.com/commission-tool/commission/internal/printable"
	"github.com/commission-tool/commission/internal/probe"
)

// Evidence returns the files this state offers the record as evidence:
// the certificate the Configuration API's HTTPS port presented, the outside port and TLS
// probes, and what the device itself reported. Nothing in them is
// secret: secret fields are not part of a State's JSON, and passwords
// are never read back from a device.
func (s State) Evidence() []devices.EvidenceFile {
	ev := probe.Evidence(s.Observed.Ports, s.Observed.TLS, "the Configuration API's HTTPS port")
	if len(s.Events) > 0 {
		var b strings.Builder
		for _, e := range s.Events {
			fmt.Fprintf(&b, "%s %-11s %s: %s\n", e.Time.UTC().Format(time.RFC3339), e.Kind, printable.String(e.Source), printable.String(e.Message))
		}
		ev = append(ev, devices.EvidenceFile{Name: "event-log.txt", Description: "the server's event log since commissioning began", Data: []byte(b.String())})
	}
	settings := s
	settings.Observed = Observed{}
	settings.Events = nil
	if b, err := json.MarshalIndent(settings, "", "  "); err == nil {
		ev = append(ev, devices.EvidenceFile{Name: "api-settings.json", Description: "the project, users, groups and endpoints the Configuration API returned at the end of the session, as decoded (secrets excluded)", Data: append(b, '\n')})
	}
	return ev
}
