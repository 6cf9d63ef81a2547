// Package devices holds what every device family shares: the identity a
// driver reports and the evidence it offers. Strings from a device are
// cleaned by package printable.
//
// It knows no UI and no simulator. Each family lives in a sub-package
// (nport, thingspro, kepware) with its driver and its quirks table.
package devices

// Identity is who a device says it is. Every string in it has been
// passed through printable.String by the driver that filled it.
type Identity struct {
	Family   string   `json:"family"`             // "nport", "thingspro", "kepware"
	Model    string   `json:"model"`              // e.g. "NPort 5150A"
	Firmware string   `json:"firmware,omitempty"` // e.g. "1.6 Build 21051010"
	Serial   string   `json:"serial,omitempty"`
	MAC      string   `json:"mac,omitempty"`
	Name     string   `json:"name,omitempty"`    // the device's server name
	Address  string   `json:"address"`           // host the tool talked to
	Sources  []string `json:"sources,omitempty"` // where each fact came from, e.g. "udp4800", "snmp", "telnet"
}
