// Package devices holds what every device family shares: the identity a
// driver reports and the cleaning of strings that come from a device.
//
// It knows no UI and no simulator. Each family lives in a sub-package
// (nport, thingspro, kepware) with its driver and its quirks table.
package devices

import (
	"strings"
	"unicode"
)

// Identity is who a device says it is. Every string in it has been
// passed through Printable by the driver that filled it.
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

// MaxField bounds any single string taken from a device.
const MaxField = 512

// Printable strips control characters (including ESC, so no terminal
// escape sequence survives), invalid UTF-8 and surrounding space from a
// string that came from a device, and bounds its length. Tabs become
// spaces; newlines are kept only when keepNewlines is true.
func Printable(s string, keepNewlines ...bool) string {
	keepNL := len(keepNewlines) > 0 && keepNewlines[0]
	var b strings.Builder
	n := 0
	for _, r := range strings.ToValidUTF8(s, "") {
		if n >= MaxField*4 {
			break
		}
		switch {
		case r == '\n' && keepNL:
			b.WriteRune(r)
		case r == '\t':
			b.WriteByte(' ')
		case r == unicode.ReplacementChar:
			continue
		case unicode.IsControl(r) || (r >= 0x80 && r <= 0x9f):
			continue
		case unicode.Is(unicode.Cf, r): // bidi overrides and other format characters
			continue
		default:
			b.WriteRune(r)
		}
		n++
	}
	out := strings.TrimSpace(b.String())
	if !keepNL && len(out) > MaxField {
		out = out[:MaxField]
	}
	return strings.ToValidUTF8(out, "")
}
