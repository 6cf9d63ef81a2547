// Package probe checks from outside what a device really exposes: TCP and
// UDP ports, the TLS versions an HTTPS service offers, and its
// certificate. Every probe has a bounded timeout and reads a bounded
// number of bytes; probes of one host run in parallel.
package probe

import (
	"maps"
	"slices"
	"time"
)

// PortState is what a probe concluded about one port.
type PortState string

// Port states.
const (
	Open     PortState = "open"     // TCP accepted, or UDP answered
	Closed   PortState = "closed"   // TCP refused, or UDP answered with ICMP port unreachable
	Filtered PortState = "filtered" // no answer within the timeout
	Failed   PortState = "error"    // the probe itself failed (bad address, ...)
)

// Target is one port to probe.
type Target struct {
	Name    string // service name, e.g. "http", "moxa-udp"
	Network string // "tcp" or "udp"
	Port    int
	// Request is sent on UDP (required there: a UDP port answers only a
	// request it understands). Ignored for TCP.
	Request []byte
	// Accept, if set, decides whether a UDP reply counts as the service
	// answering. Nil accepts any reply.
	Accept func(reply []byte) bool
}

// Result is one probe's conclusion.
type Result struct {
	Name    string        `json:"name"`
	Network string        `json:"network"`
	Port    int           `json:"port"`
	State   PortState     `json:"state"`
	Detail  string        `json:"detail,omitempty"`
	Elapsed time.Duration `json:"elapsed_ns"`
}

// TLSReport is what an HTTPS service offers.
type TLSReport struct {
	Port     int             `json:"port"`
	Versions map[string]bool `json:"versions"` // "TLS 1.0", "TLS 1.1", "TLS 1.2", "TLS 1.3" -> accepted
	Cert     *CertInfo       `json:"cert,omitempty"`
	Error    string          `json:"error,omitempty"`
	// FromSession lists the versions whose answer came from the driver's
	// own verified connection (TLSWith), not from a probe of their own.
	FromSession []string `json:"from_session,omitempty"`
}

// Clone returns a deep copy.
func (r TLSReport) Clone() TLSReport {
	c := r
	c.Versions = maps.Clone(r.Versions)
	c.FromSession = slices.Clone(r.FromSession)
	if r.Cert != nil {
		ci := *r.Cert
		ci.SANs = append([]string(nil), r.Cert.SANs...)
		c.Cert = &ci
	}
	return c
}

// CertInfo describes a certificate seen on the wire.
type CertInfo struct {
	Subject            string    `json:"subject"`
	Issuer             string    `json:"issuer"`
	SelfSigned         bool      `json:"self_signed"`
	NotBefore          time.Time `json:"not_before"`
	NotAfter           time.Time `json:"not_after"`
	SignatureAlgorithm string    `json:"signature_algorithm"` // e.g. "SHA256-RSA"
	SHA1Signed         bool      `json:"sha1_signed"`
	SHA256             string    `json:"sha256"` // fingerprint of the DER, hex with colons
	SANs               []string  `json:"sans,omitempty"`
	PEM                string    `json:"pem,omitempty"` // for the record's evidence files
}
