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
