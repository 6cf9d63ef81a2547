// Package kepware simulates a PTC Kepware server's Configuration API on
// loopback: HTTPS and HTTP listeners speaking /config/v1 with Basic auth,
// the built-in user groups and users, project properties with a
// PROJECT_ID revision, IoT Gateway agents, UA endpoints (Edge) and the
// event log, answering with the status codes and JSON bodies of
// kepware.md (201, 207, 200, 202, 400, 401, 403, 404, 405), conforming to
// PTC's Python SDK as CONFORMANCE.md records. It also opens the
// OPC UA and REST Server ports so probes see them. The HTTP port, when
// turned off, stays held (simnet.Hold): a connection is refused and no
// other socket on the machine can take it. It is for the demo and
// tests; it does not import the driver. Others import it as simkepware.
package kepware

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
	"encoding/base64"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/netip"
	"os"
	"sync"
	"time"

	"github.com/commission-tool/commission/internal/sim/simnet"
)

// Passwords the simulator starts with and Harden sets. Test data only.
const (
	DefaultAdminPassword = "Install-Adm1n-Pass!"
	HardenedPassword     = "Hardened-Kepware-2024!"
)

// Config describes the simulated server. Zero fields take the defaults.
type Config struct {
	Host          string // listen host, default "127.0.0.1"
	AdminPassword string // Administrator's password, default DefaultAdminPassword
	// Edge simulates Kepware Edge (product 013), which exposes the UA
	// endpoints; otherwise Kepware Server 6.x (012).
	Edge bool
	// SHA1Cert signs the HTTPS certificate with SHA-1.
	SHA1Cert bool
	// CertRSABits, when set, gives the HTTPS certificate an RSA key of
	// that size (1024 for a weak one) instead of ECDSA P-256.
	CertRSABits int
	// CertExpired makes the HTTPS certificate one that expired yesterday.
	CertExpired bool
	// StrictProjectID refuses project-tree PUTs that carry neither
	// PROJECT_ID nor FORCE_UPDATE.
	StrictProjectID bool
	// ProductID, when set, replaces the product_id /about reports (a
	// product the driver does not know).
	ProductID string
	Now       func() time.Time // default time.Now
	// StateDir, when set, is the server's own folder: Start loads the
	// state file there (StateFileName) when there is one and listens on
	// the ports it names, and every API request but a GET (and SetHTTP,
	// Harden) writes it again, atomically, before the reply. It keeps
	// the configuration (users and passwords as the server holds them,
	// groups, project properties and PROJECT_ID, agents, endpoints,
	// event and audit logs), the HTTP port's switch, the HTTPS
	// certificate and key, and the ports. Empty: a fresh
	// factory-default server on new ports, and no file.
	StateDir string
}

// Service names, the keys of Ports.
const (
	SvcConfigHTTPS = "config-https"
	SvcConfigHTTP  = "config-http"
	SvcOPCUA       = "opcua"
	SvcRESTServer  = "rest-server"
)

// Request is one request the simulator received, for tests of what the
// driver sent. Password values in Body are replaced by "***".
type Request struct {
	Method, Path, Query string
	User                string
	Body                any
	Status              int // the status the simulator answered (0: connection dropped)
}

// Device is a running simulated Kepware server.
type Device struct {
	cfg   Config
	cert  tls.Certificate
	ports map[string]int

	mu       sync.Mutex
	st       *store
	requests []Request
	dropNext int
	faults   map[string]int // path -> status to answer once
	httpOn   bool
	lns      map[string]net.Listener
	servers  map[string]*http.Server
	// held keeps the port of every service not serving now (the HTTP
	// port while it is off); guarded by mu
	held      simnet.Holds
	closed    bool
	wg        sync.WaitGroup
	acceptLns []net.Listener
	// carried marks the open API connections that carried a request;
	// apiConns counts every such connection since Start. Guarded by
	// connMu, not mu: the handler hijacks under mu.
	connMu   sync.Mutex
	carried  map[net.Conn]bool
	apiConns int
}

// Start opens every listener on cfg.Host with ephemeral ports.
func Start(cfg Config) (*Device, error) {
	if cfg.Host == "" {
		cfg.Host = "127.0.0.1"
	}
	if cfg.AdminPassword == "" {
		cfg.AdminPassword = DefaultAdminPassword
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if a, err := netip.ParseAddr(cfg.Host); err != nil || !a.Is4() || !a.IsLoopback() {
		return nil, fmt.Errorf("start kepware simulator: host %q is not an IPv4 loopback address", cfg.Host)
	}
	d := &Device{cfg: cfg, ports: map[string]int{}, lns: map[string]net.Listener{}, servers: map[string]*http.Server{}, httpOn: true,
		held: simnet.Holds{}, carried: map[net.Conn]bool{}}
	var st *stateFile
	if cfg.StateDir != "" {
		if err := os.MkdirAll(cfg.StateDir, 0o700); err != nil {
			return nil, fmt.Errorf("start kepware simulator: state folder: %w", err)
		}
		var err error
		if st, err = loadState(cfg); err != nil {
			return nil, fmt.Errorf("start kepware simulator: %w", err)
		}
	}
	var err error
	var saved map[string]int
	if st != nil {
		if d.cert, err = st.certificate(); err != nil {
			return nil, fmt.Errorf("start kepware simulator: %w", err)
		}
		saved = st.Ports
	} else if d.cert, err = selfSigned(cfg, cfg.Now()); err != nil {
		return nil, fmt.Errorf("start kepware simulator: %w", err)
	}
	// Hold every port first, then open the services that are on, each on
	// its held port; an off HTTP port stays held.
	names := []string{SvcConfigHTTPS, SvcConfigHTTP, SvcOPCUA, SvcRESTServer}
	for _, name := range names {
		h, err := holdPort(cfg, name, saved)
		if err != nil {
			d.Close()
			return nil, fmt.Errorf("start kepware simulator: %w", err)
		}
		d.held[name] = h
		d.ports[name] = h.Port()
	}
	if st != nil && !st.HTTPOn {
		d.httpOn = false
	}
	for _, name := range names {
		if name == SvcConfigHTTP && !d.httpOn {
			continue
		}
		ln, err := d.take(name)
		if err != nil {
			d.Close()
			return nil, fmt.Errorf("start kepware simulator: listen %s: %w", name, err)
		}
		switch name {
		case SvcConfigHTTPS:
			d.serve(name, tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{d.cert}, MinVersion: tls.VersionTLS12}))
			d.lns[name] = ln
		case SvcConfigHTTP:
			d.serve(name, ln)
			d.lns[name] = ln
		default:
			d.acceptLns = append(d.acceptLns, ln)
			d.wg.Go(func() { acceptClose(ln) })
		}
	}
	d.st = newStore(cfg, d.ports[SvcRESTServer])
	if st != nil {
		d.st = st.Store.toStore(cfg)
	}
	d.mu.Lock()
	err = d.persistLocked()
	d.mu.Unlock()
	if err != nil {
		d.Close()
		return nil, fmt.Errorf("start kepware simulator: %w", err)
	}
	return d, nil
}

// take gives up a service's hold and listens on its port; the caller
// holds mu, or is Start before it returns.
func (d *Device) take(name string) (net.Listener, error) {
	return d.held.Listen(name, "tcp4", net.JoinHostPort(d.cfg.Host, fmt.Sprint(d.ports[name])))
}

// acceptClose accepts connections and closes them: enough for a port probe.
func acceptClose(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		c.Close()
	}
}

func (d *Device) serve(name string, ln net.Listener) {
	srv := &http.Server{Handler: http.HandlerFunc(d.handle), ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout: 10 * time.Second, WriteTimeout: 10 * time.Second, MaxHeaderBytes: 64 << 10,
		ErrorLog:  log.New(io.Discard, "", 0), // probes' refused TLS versions are expected
		ConnState: d.track}
	d.servers[name] = srv
	d.wg.Go(func() { _ = srv.Serve(ln) })
}

// track counts the connections that carry a request.
func (d *Device) track(c net.Conn, s http.ConnState) {
	d.connMu.Lock()
	defer d.connMu.Unlock()
	switch s {
	case http.StateActive:
		if !d.carried[c] {
			d.carried[c] = true
			d.apiConns++
		}
	case http.StateClosed, http.StateHijacked:
		delete(d.carried, c)
	}
}

// APIConnections counts the connections, HTTPS and HTTP, that carried at
// least one API request since Start: a client that keeps its
// connections alive opens no new one for its next requests. Probes,
// which send no request, are not counted.
func (d *Device) APIConnections() int {
	d.connMu.Lock()
	defer d.connMu.Unlock()
	return d.apiConns
}

// Host is the address the simulator listens on.
func (d *Device) Host() string { return d.cfg.Host }

// Ports maps service names (SvcConfigHTTPS, ...) to ports.
func (d *Device) Ports() map[string]int {
	out := make(map[string]int, len(d.ports))
	for k, v := range d.ports {
		out[k] = v
	}
	return out
}

// Fingerprint is the HTTPS certificate's SHA-256 fingerprint in the form
// transport.PinStore.Trust takes ("SHA256:" + unpadded base64).
func (d *Device) Fingerprint() string {
	sum := sha256.Sum256(d.cert.Certificate[0])
	return "SHA256:" + base64.RawStdEncoding.EncodeToString(sum[:])
}

// Close stops every listener and waits for the goroutines.
func (d *Device) Close() {
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return
	}
	d.closed = true
	servers := d.servers
	d.servers = map[string]*http.Server{}
	d.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	for _, s := range servers {
		if err := s.Shutdown(ctx); err != nil {
			s.Close()
		}
	}
	for _, ln := range d.acceptLns {
		ln.Close()
	}
	d.mu.Lock()
	d.held.Close()
	d.mu.Unlock()
	d.wg.Wait()
}

// SetHTTP turns the Configuration API's HTTP port on or off, as the
// technician does in the Configuration API Service settings.
func (d *Device) SetHTTP(on bool) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed || on == d.httpOn {
		return nil
	}
	if !on {
		if s := d.servers[SvcConfigHTTP]; s != nil {
			s.Close()
			delete(d.servers, SvcConfigHTTP)
		}
		delete(d.lns, SvcConfigHTTP)
		// The port stays the server's; one someone took in the moment
		// between is left, and turning HTTP on reports it.
		d.held.Keep(SvcConfigHTTP, "tcp4", net.JoinHostPort(d.cfg.Host, fmt.Sprint(d.ports[SvcConfigHTTP])))
		d.httpOn = false
		return d.persistLocked()
	}
	ln, err := d.take(SvcConfigHTTP)
	if err != nil {
		return fmt.Errorf("reopen HTTP port: %w", err)
	}
	d.serve(SvcConfigHTTP, ln)
	d.lns[SvcConfigHTTP] = ln
	d.httpOn = true
	return d.persistLocked()
}

// Requests returns the requests received so far (passwords masked).
func (d *Device) Requests() []Request {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]Request(nil), d.requests...)
}

// ResetRequests forgets the recorded requests.
func (d *Device) ResetRequests() {
	d.mu.Lock()
	d.requests = nil
	d.mu.Unlock()
}

// DropNext makes the next n authenticated API requests close the
// connection after the request was read, without an answer and without
// applying it.
func (d *Device) DropNext(n int) {
	d.mu.Lock()
	d.dropNext = n
	d.mu.Unlock()
}

// FailNext makes the next authenticated request to path (e.g.
// "/config/v1/admin/server_users") answer status with a JSON error body.
func (d *Device) FailNext(path string, status int) {
	d.mu.Lock()
	if d.faults == nil {
		d.faults = map[string]int{}
	}
	d.faults[path] = status
	d.mu.Unlock()
}

// BumpProjectID simulates another client changing the project: the
// revision moves on, so a PUT with the old PROJECT_ID is stale.
func (d *Device) BumpProjectID() {
	d.mu.Lock()
	d.st.bump()
	d.mu.Unlock()
}

// AddEvent appends an entry to the event log (kind: Information,
// Warning, Error or Security), as the server's own activity would.
func (d *Device) AddEvent(at time.Time, kind, source, message string) {
	d.mu.Lock()
	d.st.log(at, kind, source, message)
	d.mu.Unlock()
}

// ProjectID is the current project revision.
func (d *Device) ProjectID() int64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.st.projectID
}

// Login reports whether user and password authenticate (for tests that
// prove a password was set).
func (d *Device) Login(user, pw string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	_, err := d.st.authenticate(user, pw)
	return err == nil
}

// Harden applies every recommendation the Configuration API can express,
// and turns the HTTP port off, so an audit of it finds every automatic
// step compliant.
func (d *Device) Harden() error {
	d.mu.Lock()
	d.st.harden()
	err := d.persistLocked()
	d.mu.Unlock()
	if err != nil {
		return err
	}
	return d.SetHTTP(false)
}

func selfSigned(cfg Config, now time.Time) (tls.Certificate, error) {
	var key crypto.Signer
	var err error
	if cfg.CertRSABits > 0 {
		key, err = rsa.GenerateKey(rand.Reader, cfg.CertRSABits)
	} else {
		key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	}
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("generate key: %w", err)
	}
	host, sha1 := cfg.Host, cfg.SHA1Cert
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(now.UnixNano()),
		Subject:      pkix.Name{CommonName: "Kepware Configuration API", Organization: []string{"PTC Simulated"}},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.AddDate(3, 0, 0),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.ParseIP(host)},
	}
	if cfg.CertExpired {
		tmpl.NotBefore, tmpl.NotAfter = now.AddDate(-1, 0, 0), now.AddDate(0, 0, -1)
	}
	if sha1 {
		tmpl.SignatureAlgorithm = x509.ECDSAWithSHA1
		if cfg.CertRSABits > 0 {
			tmpl.SignatureAlgorithm = x509.SHA1WithRSA
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("create certificate: %w", err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}
