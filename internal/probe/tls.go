package probe

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/commission-tool/commission/internal/printable"
	"github.com/commission-tool/commission/internal/transport"
)

// TLS version names used as keys of TLSReport.Versions.
const (
	TLS10 = "TLS 1.0"
	TLS11 = "TLS 1.1"
	TLS12 = "TLS 1.2"
	TLS13 = "TLS 1.3"
)

// tlsVersions lists the versions tried, newest first: the certificate is
// taken from the newest version that succeeds.
var tlsVersions = []struct {
	name string
	id   uint16
}{
	{TLS13, tls.VersionTLS13},
	{TLS12, tls.VersionTLS12},
	{TLS11, tls.VersionTLS11},
	{TLS10, tls.VersionTLS10},
}

// legacySuites is offered for TLS 1.0 to 1.2: every suite Go implements,
// including the CBC-SHA and RSA key exchange suites that old devices
// need and Go leaves out by default. Listing them explicitly is what
// makes Go offer them; no GODEBUG setting is needed for that.
var legacySuites = func() []uint16 {
	var ids []uint16
	for _, s := range tls.CipherSuites() {
		ids = append(ids, s.ID)
	}
	for _, s := range tls.InsecureCipherSuites() {
		ids = append(ids, s.ID)
	}
	return ids
}()

// errSeen ends a probe's handshake once the server has been seen.
var errSeen = errors.New("the server's version and certificate are seen")

// MaxCertPEM bounds the PEM data CertFromPEM accepts.
const MaxCertPEM = 1 << 20

// TLS tries a handshake with each of TLS 1.0, 1.1, 1.2 and 1.3 on
// host:port separately and in parallel, each bounded by timeout and ctx,
// and reports which succeeded and the leaf certificate the server sent.
// It does not verify the certificate: this is an observation, not trust.
// A non-positive timeout means DefaultTimeout. When no version succeeds,
// Error says why (the reason for the newest version).
func TLS(ctx context.Context, host string, port int, timeout time.Duration) TLSReport {
	return TLSWith(ctx, host, port, timeout, nil)
}

// TLSWith is TLS, told what the driver's own verified connection to the
// same port showed (nil: nothing). The version that connection
// negotiated is accepted, and every version it offered above that one is
// not: a server picks the newest version both sides have, and a TLS 1.3
// server that answers with an older one is caught by the client's
// downgrade check. Only the other versions are probed, and the
// certificate is the connection's. The report's FromSession names the
// versions answered so.
func TLSWith(ctx context.Context, host string, port int, timeout time.Duration, seen *transport.TLSSeen) TLSReport {
	ch := make(chan *transport.TLSSeen, 1)
	ch <- seen
	return TLSBeside(ctx, host, port, timeout, 0, ch)
}

// TLSBeside is TLSWith for a probe that runs while the driver's own
// connection is still being made. The versions below below (which that
// connection does not offer, so it can settle nothing about them) are
// probed at once; the others once seen gives what the connection showed
// (nil, or ctx ending first: they are probed too). A driver that starts
// its probes with its login so keeps them off the page reads that
// follow the login.
func TLSBeside(ctx context.Context, host string, port int, timeout time.Duration, below uint16, seen <-chan *transport.TLSSeen) TLSReport {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	rep := TLSReport{Port: port, Versions: make(map[string]bool, len(tlsVersions))}
	for _, v := range tlsVersions {
		rep.Versions[v.name] = false
	}
	if port < 1 || port > 65535 {
		rep.Error = fmt.Sprintf("port %d out of range", port)
		return rep
	}
	ip, err := resolve(ctx, host, timeout)
	if err != nil {
		rep.Error = printable.String(err.Error())
		return rep
	}
	serverName := ""
	if net.ParseIP(strings.Trim(strings.TrimSpace(host), "[]")) == nil {
		serverName = strings.TrimSpace(host)
	}
	addr := net.JoinHostPort(ip, strconv.Itoa(port))

	certs := make([]*x509.Certificate, len(tlsVersions))
	errs := make([]error, len(tlsVersions))
	var wg sync.WaitGroup
	probe := func(i int, id uint16) {
		wg.Go(func() {
			certs[i], errs[i] = handshake(ctx, addr, serverName, id, timeout)
		})
	}
	for i, v := range tlsVersions {
		if v.id < below {
			probe(i, v.id)
		}
	}
	var ts *transport.TLSSeen
	select {
	case ts = <-seen:
	case <-ctx.Done():
	}
	for i, v := range tlsVersions {
		if v.id < below {
			continue
		}
		if known, ok := ts.Answers(v.id); ok {
			rep.FromSession = append(rep.FromSession, v.name)
			if known {
				certs[i] = ts.Leaf
			} else {
				errs[i] = fmt.Errorf("the driver's connection offered %s and the server chose %s", v.name, versionName(ts.Version))
			}
			continue
		}
		probe(i, v.id)
	}
	wg.Wait()
	for i, v := range tlsVersions {
		if errs[i] != nil {
			continue
		}
		rep.Versions[v.name] = true
		if rep.Cert == nil && certs[i] != nil {
			ci := Inspect(certs[i])
			rep.Cert = &ci
		}
	}
	if rep.Cert == nil {
		rep.Error = "no TLS version accepted: " + joinErrors(errs)
	}
	return rep
}

// versionName names a TLS version id as TLSReport does.
func versionName(id uint16) string {
	for _, v := range tlsVersions {
		if v.id == id {
			return v.name
		}
	}
	return fmt.Sprintf("version %#x", id)
}

// joinErrors names each version's error, once when all are the same.
func joinErrors(errs []error) string {
	var parts []string
	seen := map[string]bool{}
	for i, err := range errs {
		if err == nil {
			continue
		}
		msg := printable.String(err.Error())
		if !seen[msg] {
			seen[msg] = true
			parts = append(parts, tlsVersions[i].name+": "+msg)
		}
	}
	if len(seen) == 1 {
		_, msg, _ := strings.Cut(parts[0], ": ")
		return msg
	}
	return strings.Join(parts, "; ")
}

// handshake starts one TLS handshake at exactly version and returns the
// leaf certificate, hanging up once the server has sent it.
func handshake(ctx context.Context, addr, serverName string, version uint16, timeout time.Duration) (*x509.Certificate, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := transport.CheckDestination("tcp", addr); err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	raw, err := transport.Dialer(0).DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	defer raw.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = raw.SetDeadline(dl)
	}
	cfg := &tls.Config{
		ServerName:         serverName,
		InsecureSkipVerify: true, // an observation of what is offered; pinning is done elsewhere
		MinVersion:         version,
		MaxVersion:         version,
	}
	if version < tls.VersionTLS13 {
		cfg.CipherSuites = legacySuites
	}
	// The probe hangs up as soon as the server has shown its version
	// and certificate: the key exchange and Finished messages after that
	// tell nothing more, and cost both sides about a third of the
	// handshake. The socket is closed before the handshake returns, so no
	// alert blames the server's certificate.
	var seen *tls.ConnectionState
	cfg.VerifyConnection = func(cs tls.ConnectionState) error {
		seen = &cs
		raw.Close()
		return errSeen
	}
	conn := tls.Client(raw, cfg)
	if err := conn.HandshakeContext(ctx); seen == nil {
		if err == nil {
			err = errors.New("the server sent no certificate")
		}
		return nil, fmt.Errorf("handshake: %w", err)
	}
	st := *seen
	if st.Version != version {
		return nil, fmt.Errorf("handshake: server chose version %#x", st.Version)
	}
	if len(st.PeerCertificates) == 0 {
		return nil, nil
	}
	return st.PeerCertificates[0], nil
}

// CertFromPEM parses the first CERTIFICATE block of pemBytes (other
// blocks, such as a private key, are skipped and never echoed).
func CertFromPEM(pemBytes []byte) (*CertInfo, error) {
	if len(pemBytes) > MaxCertPEM {
		return nil, fmt.Errorf("pem data too large: %d bytes (limit %d)", len(pemBytes), MaxCertPEM)
	}
	rest := pemBytes
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			return nil, errors.New("no certificate in pem data")
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("parse certificate: %w", err)
		}
		ci := Inspect(cert)
		return &ci, nil
	}
}

// Inspect describes cert. Every string taken from the certificate passes
// through printable.String.
func Inspect(cert *x509.Certificate) CertInfo {
	sum := sha256.Sum256(cert.Raw)
	ci := CertInfo{
		Subject:            printable.String(cert.Subject.String()),
		Issuer:             printable.String(cert.Issuer.String()),
		SelfSigned:         selfSigned(cert),
		NotBefore:          cert.NotBefore.UTC(),
		NotAfter:           cert.NotAfter.UTC(),
		SignatureAlgorithm: cert.SignatureAlgorithm.String(),
		SHA1Signed:         isSHA1(cert.SignatureAlgorithm),
		SHA256:             colonHex(sum[:]),
		PEM:                string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})),
	}
	for _, n := range cert.DNSNames {
		ci.SANs = append(ci.SANs, printable.String(n))
	}
	for _, ip := range cert.IPAddresses {
		ci.SANs = append(ci.SANs, ip.String())
	}
	for _, e := range cert.EmailAddresses {
		ci.SANs = append(ci.SANs, printable.String(e))
	}
	for _, u := range cert.URIs {
		ci.SANs = append(ci.SANs, printable.String(u.String()))
	}
	return ci
}

// isSHA1 reports whether a signature algorithm hashes with SHA-1.
func isSHA1(a x509.SignatureAlgorithm) bool {
	return a == x509.SHA1WithRSA || a == x509.ECDSAWithSHA1 || a == x509.DSAWithSHA1
}

// selfSigned reports whether cert names itself as issuer and its
// signature verifies with its own key (CheckSignature still accepts
// SHA-1 signatures). Go cannot check DSA signatures; for those the key
// identifiers decide.
func selfSigned(cert *x509.Certificate) bool {
	if string(cert.RawIssuer) != string(cert.RawSubject) {
		return false
	}
	if cert.PublicKeyAlgorithm == x509.DSA {
		return len(cert.AuthorityKeyId) == 0 || string(cert.AuthorityKeyId) == string(cert.SubjectKeyId)
	}
	return cert.CheckSignature(cert.SignatureAlgorithm, cert.RawTBSCertificate, cert.Signature) == nil
}

// colonHex formats b as upper-case hex bytes joined by colons.
func colonHex(b []byte) string {
	const digits = "0123456789ABCDEF"
	out := make([]byte, 0, len(b)*3)
	for i, c := range b {
		if i > 0 {
			out = append(out, ':')
		}
		out = append(out, digits[c>>4], digits[c&0xf])
	}
	return string(out)
}
