package probe

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"math/big"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/commission-tool/commission/internal/transport"
)

var (
	rsaKeyOnce sync.Once
	rsaKey     *rsa.PrivateKey
)

// testRSAKey returns one RSA key shared by the tests (generating one is slow).
func testRSAKey(tb testing.TB) *rsa.PrivateKey {
	rsaKeyOnce.Do(func() {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		rsaKey = k
	})
	return rsaKey
}

// certSpec describes a test certificate.
type certSpec struct {
	cn        string
	notBefore time.Time
	notAfter  time.Time
	sigAlg    x509.SignatureAlgorithm // zero: Go's default for the key
	useRSA    bool
	parent    *x509.Certificate // nil: self-signed
	parentKey crypto.Signer
}

// makeCert creates a certificate and returns it with its key.
func makeCert(tb testing.TB, s certSpec) (*x509.Certificate, crypto.Signer) {
	tb.Helper()
	var key crypto.Signer
	if s.useRSA {
		key = testRSAKey(tb)
	} else {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			tb.Fatal(err)
		}
		key = k
	}
	if s.notBefore.IsZero() {
		s.notBefore = time.Now().Add(-time.Hour)
	}
	if s.notAfter.IsZero() {
		s.notAfter = time.Now().Add(24 * time.Hour)
	}
	tmpl := &x509.Certificate{
		SerialNumber:       big.NewInt(time.Now().UnixNano()),
		Subject:            pkix.Name{CommonName: s.cn, Organization: []string{"Test Plant"}},
		NotBefore:          s.notBefore,
		NotAfter:           s.notAfter,
		SignatureAlgorithm: s.sigAlg,
		DNSNames:           []string{"nport.local"},
		IPAddresses:        []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:           x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment | x509.KeyUsageCertSign,
		ExtKeyUsage:        []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA:               s.parent == nil,
	}
	parent, signer := tmpl, key
	if s.parent != nil {
		parent, signer = s.parent, s.parentKey
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, key.Public(), signer)
	if err != nil {
		tb.Fatalf("create certificate: %v", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		tb.Fatal(err)
	}
	return cert, key
}

// tlsServer starts a loopback TLS server with cfg serving cert; each
// connection is handshaken and closed, and ended, when given, sees how
// each handshake ended. It returns the port.
func tlsServer(tb testing.TB, cfg *tls.Config, cert *x509.Certificate, key crypto.Signer, ended ...func(error)) int {
	tb.Helper()
	cfg = cfg.Clone()
	cfg.Certificates = []tls.Certificate{{Certificate: [][]byte{cert.Raw}, PrivateKey: key, Leaf: cert}}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", cfg)
	if err != nil {
		tb.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() {
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(5 * time.Second))
				err := c.(*tls.Conn).Handshake()
				for _, f := range ended {
					f(err)
				}
			})
		}
	})
	tb.Cleanup(func() {
		ln.Close()
		wg.Wait()
	})
	return ln.Addr().(*net.TCPAddr).Port
}

func TestTLSVersions(t *testing.T) {
	ecCert, ecKey := makeCert(t, certSpec{cn: "ec"})
	rsaCert, rsaKey := makeCert(t, certSpec{cn: "rsa", useRSA: true})
	tests := []struct {
		name string
		cfg  *tls.Config
		cert *x509.Certificate
		key  crypto.Signer
		want map[string]bool
	}{
		{"min TLS 1.0, ECDSA", &tls.Config{MinVersion: tls.VersionTLS10}, ecCert, ecKey,
			map[string]bool{TLS10: true, TLS11: true, TLS12: true, TLS13: true}},
		{"min TLS 1.2", &tls.Config{MinVersion: tls.VersionTLS12}, ecCert, ecKey,
			map[string]bool{TLS10: false, TLS11: false, TLS12: true, TLS13: true}},
		{"TLS 1.3 only", &tls.Config{MinVersion: tls.VersionTLS13}, ecCert, ecKey,
			map[string]bool{TLS10: false, TLS11: false, TLS12: false, TLS13: true}},
		// An old device: RSA key exchange with CBC-SHA only, up to TLS 1.2.
		{"legacy RSA kex, 1.0-1.2", &tls.Config{MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS12,
			CipherSuites: []uint16{tls.TLS_RSA_WITH_AES_128_CBC_SHA}}, rsaCert, rsaKey,
			map[string]bool{TLS10: true, TLS11: true, TLS12: true, TLS13: false}},
		{"TLS 1.1 only, ECDHE-RSA CBC", &tls.Config{MinVersion: tls.VersionTLS11, MaxVersion: tls.VersionTLS11,
			CipherSuites: []uint16{tls.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA}}, rsaCert, rsaKey,
			map[string]bool{TLS10: false, TLS11: true, TLS12: false, TLS13: false}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			port := tlsServer(t, tc.cfg, tc.cert, tc.key)
			rep := TLS(context.Background(), "127.0.0.1", port, 2*time.Second)
			if rep.Port != port {
				t.Errorf("port %d, want %d", rep.Port, port)
			}
			for v, want := range tc.want {
				if rep.Versions[v] != want {
					t.Errorf("%s accepted = %v, want %v (error %q)", v, rep.Versions[v], want, rep.Error)
				}
			}
			if len(rep.Versions) != 4 {
				t.Errorf("versions map has %d entries, want 4: %v", len(rep.Versions), rep.Versions)
			}
			if rep.Cert == nil {
				t.Fatalf("no certificate; error %q", rep.Error)
			}
			if rep.Cert.Subject != tc.cert.Subject.String() {
				t.Errorf("cert subject %q, want %q", rep.Cert.Subject, tc.cert.Subject.String())
			}
			if rep.Error != "" {
				t.Errorf("error %q although a version succeeded", rep.Error)
			}
		})
	}
}

func TestTLSNoServer(t *testing.T) {
	rep := TLS(context.Background(), "127.0.0.1", tcpClosed(t), time.Second)
	if rep.Cert != nil || rep.Error == "" || !strings.Contains(rep.Error, "connect") {
		t.Errorf("closed port: cert %v error %q, want no cert and a connect error", rep.Cert, rep.Error)
	}
	for v, ok := range rep.Versions {
		if ok {
			t.Errorf("%s accepted on a closed port", v)
		}
	}
	// A TCP port that is not TLS: handshakes fail, not hang.
	plain := tcpOpen(t, false)
	start := time.Now()
	rep = TLS(context.Background(), "127.0.0.1", plain, 200*time.Millisecond)
	if rep.Error == "" || rep.Cert != nil {
		t.Errorf("plain TCP: error %q cert %v, want an error", rep.Error, rep.Cert)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("plain TCP probe took %v despite a 200ms timeout", took)
	}
	if rep := TLS(context.Background(), "127.0.0.1", 0, time.Second); rep.Error == "" {
		t.Error("port 0: no error")
	}
}

func TestTLSCertSHA1AndExpired(t *testing.T) {
	// Go still signs with SHA-1 (x509.SHA1WithRSA "only supported for
	// signing"), so no openssl fixture is needed.
	sha1Cert, sha1Key := makeCert(t, certSpec{cn: "old nport", useRSA: true, sigAlg: x509.SHA1WithRSA,
		notBefore: time.Now().Add(-10 * 365 * 24 * time.Hour), notAfter: time.Now().Add(-24 * time.Hour)})
	port := tlsServer(t, &tls.Config{MinVersion: tls.VersionTLS10}, sha1Cert, sha1Key)
	rep := TLS(context.Background(), "127.0.0.1", port, 2*time.Second)
	if rep.Cert == nil {
		t.Fatalf("no certificate: %q", rep.Error)
	}
	c := rep.Cert
	if !c.SHA1Signed || c.SignatureAlgorithm != "SHA1-RSA" {
		t.Errorf("SHA1Signed %v alg %q, want true SHA1-RSA", c.SHA1Signed, c.SignatureAlgorithm)
	}
	if !c.NotAfter.Before(time.Now()) {
		t.Errorf("expired certificate NotAfter %v not in the past", c.NotAfter)
	}
	if !c.SelfSigned {
		t.Error("self-signed SHA-1 certificate not seen as self-signed")
	}
}

func TestInspect(t *testing.T) {
	caCert, caKey := makeCert(t, certSpec{cn: "Plant CA"})
	leaf, _ := makeCert(t, certSpec{cn: "nport\x1b[2J-01", parent: caCert, parentKey: caKey})

	ci := Inspect(leaf)
	if ci.SelfSigned {
		t.Error("CA-signed leaf seen as self-signed")
	}
	if !Inspect(caCert).SelfSigned {
		t.Error("self-signed CA not seen as self-signed")
	}
	if ci.SHA1Signed || ci.SignatureAlgorithm != "ECDSA-SHA256" {
		t.Errorf("SHA1Signed %v alg %q, want false ECDSA-SHA256", ci.SHA1Signed, ci.SignatureAlgorithm)
	}
	if strings.ContainsRune(ci.Subject, 0x1b) || !strings.Contains(ci.Subject, "nport[2J-01") {
		t.Errorf("subject %q: escape not stripped", ci.Subject)
	}
	if !strings.Contains(ci.Issuer, "Plant CA") {
		t.Errorf("issuer %q", ci.Issuer)
	}
	sum := sha256.Sum256(leaf.Raw)
	if strings.ReplaceAll(ci.SHA256, ":", "") != strings.ToUpper(hex.EncodeToString(sum[:])) || len(ci.SHA256) != 32*3-1 {
		t.Errorf("fingerprint %q does not match the DER", ci.SHA256)
	}
	if strings.Join(ci.SANs, ",") != "nport.local,127.0.0.1" {
		t.Errorf("SANs %v", ci.SANs)
	}
	if !ci.NotBefore.Equal(leaf.NotBefore) || !ci.NotAfter.Equal(leaf.NotAfter) {
		t.Errorf("validity %v..%v, want %v..%v", ci.NotBefore, ci.NotAfter, leaf.NotBefore, leaf.NotAfter)
	}
	back, err := CertFromPEM([]byte(ci.PEM))
	if err != nil || back.SHA256 != ci.SHA256 {
		t.Errorf("PEM does not round-trip: %v", err)
	}
}

func TestCertFromPEM(t *testing.T) {
	cert, key := makeCert(t, certSpec{cn: "import"})
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})

	ci, err := CertFromPEM(append(append([]byte{}, keyPEM...), certPEM...))
	if err != nil {
		t.Fatalf("key then certificate: %v", err)
	}
	if ci.Subject != cert.Subject.String() {
		t.Errorf("subject %q", ci.Subject)
	}

	keyB64 := strings.Split(string(keyPEM), "\n")[1]
	for name, in := range map[string][]byte{
		"key only":  keyPEM,
		"garbage":   []byte("not pem"),
		"empty":     nil,
		"bad DER":   pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte{0x30, 0x03, 1, 2, 3}}),
		"too large": make([]byte, MaxCertPEM+1),
	} {
		_, err := CertFromPEM(in)
		if err == nil {
			t.Errorf("%s: no error", name)
			continue
		}
		if strings.Contains(err.Error(), keyB64[:20]) {
			t.Errorf("%s: error leaks key material: %v", name, err)
		}
	}
}

// TestTLSProbeHangsUpOnceSeen: each probe stops the handshake as soon
// as the server has shown its version and certificate (the server's
// handshake does not complete), and says nothing against the
// certificate: the server sees the connection end, not a bad-certificate
// alert.
func TestTLSProbeHangsUpOnceSeen(t *testing.T) {
	cert, key := makeCert(t, certSpec{cn: "quiet"})
	endc := make(chan error, 8)
	port := tlsServer(t, &tls.Config{MinVersion: tls.VersionTLS12}, cert, key, func(err error) { endc <- err })
	rep := TLS(context.Background(), "127.0.0.1", port, 2*time.Second)
	if !rep.Versions[TLS12] || !rep.Versions[TLS13] || rep.Cert == nil {
		t.Fatalf("report %+v: TLS 1.2 and 1.3 and the certificate should be seen", rep)
	}
	// the server's side of each of the four handshakes ends on its own
	var ends []error
	for range 4 {
		select {
		case err := <-endc:
			ends = append(ends, err)
		case <-time.After(5 * time.Second):
			t.Fatalf("the server saw %d handshakes end, want 4", len(ends))
		}
	}
	for _, err := range ends {
		switch {
		case err == nil:
			t.Error("a probe completed its handshake; it should hang up once the certificate is seen")
		case strings.Contains(err.Error(), "bad certificate"):
			t.Errorf("a probe told the server its certificate is bad: %v", err)
		}
	}
}

// TestTLSWithProbesOnlyWhatTheSessionDidNotShow: told that the driver's
// connection offered TLS 1.2 to 1.3 and got 1.2, the probe takes 1.2 as
// accepted and 1.3 as refused without a handshake of their own, probes
// 1.0 and 1.1 only, and reports the session's certificate.
func TestTLSWithProbesOnlyWhatTheSessionDidNotShow(t *testing.T) {
	cert, key := makeCert(t, certSpec{cn: "session", useRSA: true})
	var mu sync.Mutex
	var asked [][]uint16
	cfg := &tls.Config{MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS12,
		CipherSuites: []uint16{tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA, tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256},
		GetConfigForClient: func(hi *tls.ClientHelloInfo) (*tls.Config, error) {
			mu.Lock()
			asked = append(asked, hi.SupportedVersions)
			mu.Unlock()
			return nil, nil
		}}
	port := tlsServer(t, cfg, cert, key)
	seen := &transport.TLSSeen{Min: tls.VersionTLS12, Max: tls.VersionTLS13, Version: tls.VersionTLS12, Leaf: cert}
	rep := TLSWith(context.Background(), "127.0.0.1", port, 2*time.Second, seen)
	want := map[string]bool{TLS10: true, TLS11: true, TLS12: true, TLS13: false}
	for v, w := range want {
		if rep.Versions[v] != w {
			t.Errorf("%s accepted = %v, want %v (%s)", v, rep.Versions[v], w, rep.Error)
		}
	}
	if got := strings.Join(rep.FromSession, ","); got != TLS13+","+TLS12 {
		t.Errorf("FromSession = %q, want TLS 1.3 and 1.2", got)
	}
	if rep.Cert == nil || rep.Cert.Subject != cert.Subject.String() {
		t.Errorf("certificate %+v, want the session's", rep.Cert)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(asked) != 2 {
		t.Fatalf("the server saw %d probe handshakes (%v), want 2 (TLS 1.0 and 1.1)", len(asked), asked)
	}
	for _, vs := range asked {
		if len(vs) != 1 || vs[0] > tls.VersionTLS11 {
			t.Errorf("a probe offered %v; only TLS 1.0 and 1.1 are left to probe", vs)
		}
	}
	// Without a session every version is probed.
	asked = nil
	mu.Unlock()
	rep = TLSWith(context.Background(), "127.0.0.1", port, 2*time.Second, nil)
	mu.Lock()
	if len(asked) != 4 || len(rep.FromSession) != 0 {
		t.Errorf("no session: %d handshakes, FromSession %v; want 4 and none", len(asked), rep.FromSession)
	}
}

// TestTLSBesideProbesLegacyVersionsBeforeTheSessionShows: while the
// driver's connection is still being made, the versions it does not
// offer (below TLS 1.2) are probed at once; 1.2 and 1.3 wait for what it
// shows and are then taken from it.
func TestTLSBesideProbesLegacyVersionsBeforeTheSessionShows(t *testing.T) {
	cert, key := makeCert(t, certSpec{cn: "session", useRSA: true})
	legacy := make(chan uint16, 4)
	cfg := &tls.Config{MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS12,
		CipherSuites: []uint16{tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA, tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256},
		GetConfigForClient: func(hi *tls.ClientHelloInfo) (*tls.Config, error) {
			legacy <- slices.Max(hi.SupportedVersions)
			return nil, nil
		}}
	port := tlsServer(t, cfg, cert, key)
	seen := make(chan *transport.TLSSeen, 1)
	got := make(chan TLSReport, 1)
	go func() {
		got <- TLSBeside(context.Background(), "127.0.0.1", port, 2*time.Second, tls.VersionTLS12, seen)
	}()
	asked := map[uint16]bool{}
	for len(asked) < 2 {
		select {
		case v := <-legacy:
			asked[v] = true
		case <-time.After(5 * time.Second):
			t.Fatalf("the legacy versions were not probed before the session showed (asked %v)", asked)
		}
	}
	if !asked[tls.VersionTLS10] || !asked[tls.VersionTLS11] {
		t.Fatalf("probed %v before the session showed, want TLS 1.0 and 1.1", asked)
	}
	seen <- &transport.TLSSeen{Min: tls.VersionTLS12, Max: tls.VersionTLS13, Version: tls.VersionTLS12, Leaf: cert}
	rep := <-got
	want := map[string]bool{TLS10: true, TLS11: true, TLS12: true, TLS13: false}
	for v, w := range want {
		if rep.Versions[v] != w {
			t.Errorf("%s accepted = %v, want %v (%s)", v, rep.Versions[v], w, rep.Error)
		}
	}
	if len(legacy) != 0 || strings.Join(rep.FromSession, ",") != TLS13+","+TLS12 {
		t.Errorf("%d more probe handshakes, FromSession %v: want none and TLS 1.3, 1.2 from the session", len(legacy), rep.FromSession)
	}
}
