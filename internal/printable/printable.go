// Package printable makes a string that came from a device safe to show
// and to store: no control character (so no terminal escape sequence), no
// invalid UTF-8, no bidi override, a bounded length.
package printable

import (
	"strings"
	"unicode"
)

// MaxField bounds any single string taken from a device.
const MaxField = 512

// String strips control characters (including ESC, so no terminal
// escape sequence survives), invalid UTF-8 and surrounding space from a
// string that came from a device, and bounds its length. Tabs become
// spaces; newlines are kept only when keepNewlines is true.
func String(s string, keepNewlines ...bool) string {
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
