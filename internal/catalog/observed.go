package catalog

import (
	"fmt"
	"strings"

	"github.com/commission-tool/commission/internal/probe"
)

// Ports is what the outside probes saw of a device, one result per
// service name ("https", "ssh", ...), as every family's State records it
// in Observed.Ports: a check converts with catalog.Ports(s.Observed.Ports).
// A name that was not probed is never taken as closed or as open.

type Ports map[string]probe.Result

// Text describes the named ports, such as "https 8443/tcp open, ssh: not probed".
func (p Ports) Text(names ...string) string {
	parts := make([]string, 0, len(names))
	for _, n := range names {
		r, ok := p[n]
		if !ok {
			parts = append(parts, n+": not probed")
			continue
		}
		parts = append(parts, fmt.Sprintf("%s %d/%s %s", n, r.Port, r.Network, r.State))
	}
	return strings.Join(parts, ", ")
}

// Numbers describes the named ports without their names, such as
// "23/tcp closed, 80/tcp open", for a sentence that has named the
// service already.
func (p Ports) Numbers(names ...string) string {
	parts := make([]string, 0, len(names))
	for _, n := range names {
		r, ok := p[n]
		if !ok {
			parts = append(parts, n+": not probed")
			continue
		}
		parts = append(parts, fmt.Sprintf("%d/%s %s", r.Port, r.Network, r.State))
	}
	return strings.Join(parts, ", ")
}

// Open reports whether the named port was probed and answered.
func (p Ports) Open(name string) bool {
	r, ok := p[name]
	return ok && r.State == probe.Open
}

// AllClosed reports whether every named port was probed and refused or
// did not answer. A port not probed, open, or whose probe failed is not
// closed.
func (p Ports) AllClosed(names ...string) bool {
	for _, n := range names {
		r, ok := p[n]
		if !ok || (r.State != probe.Closed && r.State != probe.Filtered) {
			return false
		}
	}
	return true
}

// AllOpen reports whether every named port was probed and answered.
func (p Ports) AllOpen(names ...string) bool {
	for _, n := range names {
		if !p.Open(n) {
			return false
		}
	}
	return true
}
