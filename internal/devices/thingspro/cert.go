package thingspro

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"
)

// ParsedCert is a certificate and RSA key ready for import.
type ParsedCert struct {
	Cert   *x509.Certificate
	KeyPEM string // PKCS#1, as the gateway wants it
}

// ParseCertKey reads a PEM certificate and PEM private key and checks
// what can be checked without the gateway: the key is RSA (the gateway
// takes PKCS#1 RSA keys; PKCS#8 RSA keys are converted), the key matches
// the certificate, the signature is not SHA-1 or MD5, and it is valid at
// now. The errors say what to fix; they never include the key.
func ParseCertKey(certPEM, keyPEM string, now time.Time) (ParsedCert, error) {
	cb, _ := pem.Decode([]byte(strings.TrimSpace(certPEM)))
	if cb == nil || cb.Type != "CERTIFICATE" {
		return ParsedCert{}, errors.New("the certificate is not PEM: paste the text from -----BEGIN CERTIFICATE----- to -----END CERTIFICATE-----")
	}
	cert, err := x509.ParseCertificate(cb.Bytes)
	if err != nil {
		return ParsedCert{}, fmt.Errorf("the certificate cannot be read: %w", err)
	}
	kb, _ := pem.Decode([]byte(strings.TrimSpace(keyPEM)))
	if kb == nil {
		return ParsedCert{}, errors.New("the private key is not PEM: paste the text from -----BEGIN ... PRIVATE KEY----- to -----END ... PRIVATE KEY-----")
	}
	var key *rsa.PrivateKey
	switch kb.Type {
	case "RSA PRIVATE KEY":
		if key, err = x509.ParsePKCS1PrivateKey(kb.Bytes); err != nil {
			return ParsedCert{}, errors.New("the RSA private key cannot be read (is it encrypted? the gateway needs it without a passphrase)")
		}
	case "PRIVATE KEY":
		k, err := x509.ParsePKCS8PrivateKey(kb.Bytes)
		if err != nil {
			return ParsedCert{}, errors.New("the private key cannot be read")
		}
		var ok bool
		if key, ok = k.(*rsa.PrivateKey); !ok {
			return ParsedCert{}, errors.New("the private key is not RSA: the gateway's HTTPS service takes RSA keys only")
		}
	case "ENCRYPTED PRIVATE KEY":
		return ParsedCert{}, errors.New("the private key is encrypted: the gateway needs it without a passphrase")
	default:
		return ParsedCert{}, fmt.Errorf("the private key is a %q block: the gateway's HTTPS service takes RSA keys only", kb.Type)
	}
	pub, ok := cert.PublicKey.(*rsa.PublicKey)
	if !ok || !pub.Equal(&key.PublicKey) {
		return ParsedCert{}, errors.New("the certificate and the private key do not match: the key belongs to another certificate")
	}
	switch cert.SignatureAlgorithm {
	case x509.SHA1WithRSA, x509.DSAWithSHA1, x509.ECDSAWithSHA1, x509.MD5WithRSA, x509.MD2WithRSA:
		return ParsedCert{}, fmt.Errorf("the certificate is signed with %s, which is broken: ask the CA for a SHA-256 certificate", cert.SignatureAlgorithm)
	}
	switch {
	case now.After(cert.NotAfter):
		return ParsedCert{}, fmt.Errorf("the certificate expired on %s: ask the CA for a new one", cert.NotAfter.UTC().Format("2006-01-02"))
	case now.Before(cert.NotBefore):
		return ParsedCert{}, fmt.Errorf("the certificate is not valid before %s: check the laptop's and the CA's clocks", cert.NotBefore.UTC().Format("2006-01-02 15:04 MST"))
	}
	return ParsedCert{Cert: cert, KeyPEM: string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}))}, nil
}

// CoversAddress checks that the certificate's SAN names the gateway's
// address (or host name), so a browser reaching it there accepts it.
func (p ParsedCert) CoversAddress(addr netip.Addr, names ...string) error {
	for _, ip := range p.Cert.IPAddresses {
		if a, ok := netip.AddrFromSlice(ip); ok && a.Unmap() == addr.Unmap() {
			return nil
		}
	}
	for _, n := range names {
		if n != "" && p.Cert.VerifyHostname(n) == nil {
			return nil
		}
	}
	var sans []string
	for _, ip := range p.Cert.IPAddresses {
		sans = append(sans, ip.String())
	}
	sans = append(sans, p.Cert.DNSNames...)
	if len(sans) == 0 {
		return fmt.Errorf("the certificate has no Subject Alternative Name: browsers will refuse it for %s; ask the CA to add IP:%s", addr, addr)
	}
	return fmt.Errorf("the certificate's Subject Alternative Names (%s) do not include the gateway's address %s: ask the CA to add IP:%s", strings.Join(sans, ", "), addr, addr)
}
