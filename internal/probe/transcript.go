package probe

import (
	"fmt"
	"sort"
	"strings"

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
