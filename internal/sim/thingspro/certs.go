package thingspro

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"time"
)

// quietLog drops the HTTP server's own log lines (TLS handshake noise from probes).
func quietLog() *log.Logger { return log.New(io.Discard, "", 0) }

// certAuthority is the gateway's built-in "ThingsPro Edge Root CA for HTTPS".
type certAuthority struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

func serial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	return n
}

func newCA(now time.Time) (*certAuthority, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate CA key: %w", err)
	}
	tmpl := &x509.Certificate{SerialNumber: serial(),
		Subject:   pkix.Name{Organization: []string{"Moxa Inc."}, CommonName: "ThingsPro Edge Root CA for HTTPS"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(10, 0, 0),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("create CA: %w", err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("parse CA: %w", err)
	}
	return &certAuthority{cert: c, key: key}, nil
}

// leaf issues the gateway's default HTTPS certificate.
func (ca *certAuthority) leaf(cn string, hosts []string, now time.Time) (tls.Certificate, []byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, fmt.Errorf("generate key: %w", err)
	}
	tmpl := &x509.Certificate{SerialNumber: serial(), Subject: pkix.Name{CommonName: cn},
		NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(5, 0, 0),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	addSANs(tmpl, hosts)
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		return tls.Certificate{}, nil, fmt.Errorf("create certificate: %w", err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, der, nil
}

func addSANs(tmpl *x509.Certificate, hosts []string) {
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
}

// PlantCA is a plant certificate authority for tests and the demo: it
// issues RSA certificates in the PEM forms the gateway imports.
type PlantCA struct {
	cert *x509.Certificate
	key  *rsa.PrivateKey
	now  time.Time
}

func newPlantCA(now time.Time) (*PlantCA, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("generate plant CA key: %w", err)
	}
	tmpl := &x509.Certificate{SerialNumber: serial(),
		Subject:   pkix.Name{Organization: []string{"Example Plant"}, CommonName: "Example Plant Issuing CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(10, 0, 0),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("create plant CA: %w", err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("parse plant CA: %w", err)
	}
	return &PlantCA{cert: c, key: key, now: now}, nil
}

// IssueOptions shapes a certificate from the plant CA; zero values give
// a good certificate valid for a year.
type IssueOptions struct {
	Hosts    []string                // SANs
	SHA1     bool                    // sign with SHA-1 (refused by the tool)
	NotAfter time.Time               // zero: a year from now
	Algo     x509.SignatureAlgorithm // zero: SHA256WithRSA (overridden by SHA1)
	KeyBits  int                     // RSA key size; zero: 2048
}

// Issue returns a certificate and its PKCS#1 RSA key, both PEM.
func (ca *PlantCA) Issue(cn string, o IssueOptions) (certPEM, keyPEM string, err error) {
	if o.KeyBits == 0 {
		o.KeyBits = 2048
	}
	key, err := rsa.GenerateKey(rand.Reader, o.KeyBits)
	if err != nil {
		return "", "", fmt.Errorf("generate key: %w", err)
	}
	tmpl := &x509.Certificate{SerialNumber: serial(), Subject: pkix.Name{CommonName: cn},
		NotBefore: ca.now.Add(-48 * time.Hour), NotAfter: o.NotAfter,
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		SignatureAlgorithm: o.Algo}
	if tmpl.NotAfter.IsZero() {
		tmpl.NotAfter = ca.now.AddDate(1, 0, 0)
	}
	if o.SHA1 {
		tmpl.SignatureAlgorithm = x509.SHA1WithRSA
	}
	addSANs(tmpl, o.Hosts)
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		return "", "", fmt.Errorf("create certificate: %w", err)
	}
	certPEM = string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	keyPEM = string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}))
	return certPEM, keyPEM, nil
}

// ServeCert makes the HTTPS port serve this pair from now on, as if the
// plant had imported it in the web console (for tests of what the tool
// says about a served certificate).
func (d *Device) ServeCert(certPEM, keyPEM string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.installCertLocked(certPEM, keyPEM, "served.crt", "served.key"); err != nil {
		return err
	}
	return d.persistLocked()
}
