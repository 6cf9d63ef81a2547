package transport

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"fmt"
	"time"

	clean "github.com/commission-tool/commission/internal/printable"
)

// MinKeyBits is the smallest RSA key the tool accepts without a deviation.
const MinKeyBits = 2048

// CertInfo is what the technician and the record are shown about a
// certificate beside its fingerprint.
type CertInfo struct {
	Fingerprint string    `json:"fingerprint"`        // OpenSSH form, "SHA256:base64"
	SHA256Hex   string    `json:"sha256_hex"`         // hex pairs, as browsers show it
	Subject     string    `json:"subject"`            // the subject's common name or DN, made printable
	NotBefore   time.Time `json:"not_before"`         // validity start
	NotAfter    time.Time `json:"not_after"`          // expiry
	SigAlg      string    `json:"signature_alg"`      // e.g. "SHA256-RSA"
	KeyAlg      string    `json:"key_alg"`            // "RSA", "ECDSA", "Ed25519"
	KeyBits     int       `json:"key_bits"`           // RSA modulus or curve size
	SelfSigned  bool      `json:"self_signed"`        // issuer equals subject and the signature checks
	Problems    []string  `json:"problems,omitempty"` // deviations: expired, SHA-1, weak key
}

// DescribeCert summarises a certificate and judges it at now: an expired
// or not-yet-valid certificate, a SHA-1 or MD5 signature, or an RSA key of
// fewer than MinKeyBits bits is a problem, with its reason.
func DescribeCert(c *x509.Certificate, now time.Time) CertInfo {
	fp := Fingerprint(c.Raw)
	ci := CertInfo{
		Fingerprint: fp,
		SHA256Hex:   FingerprintHex(fp),
		Subject:     clean.String(c.Subject.CommonName),
		NotBefore:   c.NotBefore.UTC(),
		NotAfter:    c.NotAfter.UTC(),
		SigAlg:      c.SignatureAlgorithm.String(),
	}
	if ci.Subject == "" {
		ci.Subject = clean.String(c.Subject.String())
	}
	switch k := c.PublicKey.(type) {
	case *rsa.PublicKey:
		ci.KeyAlg, ci.KeyBits = "RSA", k.N.BitLen()
	case *ecdsa.PublicKey:
		ci.KeyAlg, ci.KeyBits = "ECDSA", k.Curve.Params().BitSize
	case ed25519.PublicKey:
		ci.KeyAlg, ci.KeyBits = "Ed25519", 256
	default:
		ci.KeyAlg = c.PublicKeyAlgorithm.String()
	}
	ci.SelfSigned = c.CheckSignatureFrom(c) == nil && c.Issuer.String() == c.Subject.String()
	switch {
	case now.After(c.NotAfter):
		ci.Problems = append(ci.Problems, fmt.Sprintf("expired on %s", c.NotAfter.UTC().Format("2006-01-02")))
	case now.Before(c.NotBefore):
		ci.Problems = append(ci.Problems, fmt.Sprintf("not valid before %s", c.NotBefore.UTC().Format("2006-01-02")))
	}
	switch c.SignatureAlgorithm {
	case x509.SHA1WithRSA, x509.ECDSAWithSHA1, x509.DSAWithSHA1, x509.MD5WithRSA, x509.MD2WithRSA:
		ci.Problems = append(ci.Problems, fmt.Sprintf("signed with %s, a broken hash", c.SignatureAlgorithm))
	}
	if ci.KeyAlg == "RSA" && ci.KeyBits < MinKeyBits {
		ci.Problems = append(ci.Problems, fmt.Sprintf("%d-bit RSA key, fewer than %d bits", ci.KeyBits, MinKeyBits))
	}
	return ci
}

// Key describes the public key, such as "RSA 2048 bits".
func (c CertInfo) Key() string {
	if c.KeyBits == 0 {
		return c.KeyAlg
	}
	return fmt.Sprintf("%s %d bits", c.KeyAlg, c.KeyBits)
}

// Lines shows the certificate as the technician compares it with the
// device: the SHA-256 as hex pairs (as browsers show it) and in OpenSSH
// form, the subject, the expiry, the signature and the key, then each
// problem on a line of its own.
func (c CertInfo) Lines() []string {
	lines := []string{
		"SHA-256:    " + c.SHA256Hex,
		"OpenSSH:    " + c.Fingerprint,
		"Subject:    " + c.Subject,
		"Valid:      " + c.NotBefore.Format("2006-01-02") + " to " + c.NotAfter.Format("2006-01-02"),
		"Signature:  " + c.SigAlg,
		"Key:        " + c.Key(),
	}
	for _, p := range c.Problems {
		lines = append(lines, "Warning:    "+p)
	}
	return lines
}
