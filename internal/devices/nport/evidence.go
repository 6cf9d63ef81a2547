package nport

import (
	"strings"

	"github.com/commission-tool/commission/internal/devices"
	"github.com/commission-tool/commission/internal/probe"
)

// Evidence returns the files this state offers the record as evidence:
// the certificate the HTTPS console presented, the outside port and TLS
// probes, and what the device itself reported. Nothing in them is
// secret: secret fields are not part of a State's JSON, and passwords
// are never read back from a device.
func (s State) Evidence() []devices.EvidenceFile {
	ev := probe.Evidence(s.Observed.Ports, s.Observed.TLS, "the HTTPS console")
	if len(s.LogLines) > 0 {
		ev = append(ev, devices.EvidenceFile{Name: "device-log.txt", Description: "the NPort's system log (Monitor > System Log) as read at the end of the session",
			Data: []byte(strings.Join(s.LogLines, "\n") + "\n")})
	}
	if s.Observed.DSCILeak {
		ev = append(ev, devices.EvidenceFile{Name: "udp4800.txt", Description: "what UDP 4800 discovery answered without authentication",
			Data: []byte("function 0x28 returned a non-empty SNMP community without authentication (its value is not recorded)\n")})
	}
	return ev
}
