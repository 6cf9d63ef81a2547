package printable

import "testing"

func TestStringStripsEscapes(t *testing.T) {
	cases := map[string]string{
		"NPort\x1b[2J\x1b[31m 5150A": "NPort[2J[31m 5150A",
		"\x1b]0;pwned\x07Model":      "]0;pwnedModel",
		"ok\r\n\x00name\u202e":       "okname",
		"  tab\tbed  ":               "tab bed",
		"bad\xffutf8":                "badutf8",
		"\u009b31mCSI":               "31mCSI",
	}
	for in, want := range cases {
		if got := String(in); got != want {
			t.Errorf("String(%q) = %q, want %q", in, got, want)
		}
	}
	if got := String("a\nb\x1b", true); got != "a\nb" {
		t.Errorf("keepNewlines: got %q", got)
	}
}
