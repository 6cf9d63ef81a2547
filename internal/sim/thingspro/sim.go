// Package thingspro simulates a Moxa ThingsPro Edge 2.x gateway on
// loopback: the REST API on HTTPS (as Moxa's OpenAPI describes it), the
// HTTP redirect, the SSH port and the ThingsPro Proxy discovery port,
// each on an ephemeral port that opens and closes as the gateway's
// settings turn the service on and off. A service that is off keeps its
// port held (simnet.Hold): a connection to it is refused, and no other
// socket on the machine can take it.
//
// It behaves like the gateway where the guide depends on it: the factory
// password must be changed at first login, the last administrator cannot
// be deleted, wrong passwords lead to a 423 lockout, and an imported
// certificate is the one served afterwards. Fault hooks make a request
// fail with a 500. Every error, on unknown paths and wrong methods too,
// has the API's JSON shape.
//
// Where Moxa's specification leaves the behaviour open, Config selects a
// candidate (AccountCandidates: integer or object role items accepted,
// ignored or rejected; roles answered as objects or ids; omitted PUT
// fields kept or cleared; OmitFields for replies that lack a field), so
// the driver's tests can run against each. The SSH port speaks SSH: a
// password login (moxa/moxa by default) whose shell answers only the
// listening-sockets command, from the simulated settings plus
// Config.Listening.
package thingspro

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/commission-tool/commission/internal/sim/simnet"
)

// Service names, the keys of Device.Ports.
const (
	PortHTTPS     = "https"     // the REST API (8443 on a real gateway)
	PortHTTP      = "http"      // 80, redirects to HTTPS
	PortSSH       = "ssh"       // 22, answers with an SSH banner only
	PortDiscovery = "discovery" // UDP 40404, ThingsPro Proxy discovery
)

// Config describes the simulated gateway. Zero fields take the defaults.
type Config struct {
	Host     string // listen address (an IP address), default "127.0.0.1"
	Model    string // default "AIG-301-T-AZU-LTE"
	Serial   string // default "TAICB1046773"
	Version  string // ThingsPro Edge version, default "2.6.0-4499"
	HostName string // default "Moxa"
	// SSHOn starts with the SSH server on (a site that enabled it for
	// set-up); the factory default is off.
	SSHOn bool
	// NoForcedChange turns off the password change forced at first login
	// (firmware before TPE 2.6 did not force it).
	NoForcedChange bool
	// LockoutThreshold is how many wrong passwords in a row lock an
	// account (default 5); LockoutFor is how long (default 10 minutes).
	LockoutThreshold int
	LockoutFor       time.Duration
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Observe, when set, receives every API exchange (for contract tests).
	// Bodies are the raw bytes and include secrets: tests only.
	Observe func(Exchange)

	// IntRoles and ObjectRoles say how POST /users and PUT /users/{id}
	// treat role items given as integers (the schema) and as {"id": N}
	// (the examples); default: both accepted. ReplyRoles is the form of
	// roles in User replies; PutOmitted what PUT /users/{id} does with an
	// omitted field. See AccountCandidates.
	IntRoles    RoleHandling
	ObjectRoles RoleHandling
	ReplyRoles  RoleReply
	PutOmitted  Omitted
	// OmitFields drops fields from the "data" object of GET replies, by
	// path below /api/v1: a firmware that does not report them.
	OmitFields map[string][]string

	// SSHUser and SSHPassword log in to the gateway's shell (default
	// "moxa" / "moxa", the published Linux default). The shell answers
	// only the listening-sockets command.
	SSHUser, SSHPassword string
	// Listening adds sockets the shell reports besides the gateway's own
	// services, e.g. {"tcp", 502} for a Modbus/TCP slave.
	Listening []Socket
	// CertSwapLate is how many TLS handshakes after a certificate
	// import through the API still present the certificate from before
	// it: a gateway that answers the import and only then reloads its
	// web server (thingspro.md does not say when the swap happens [I]).
	// Zero: the imported certificate is served at once.
	CertSwapLate int
	// StateDir, when set, is the gateway's own folder: Start loads the
	// state file there (StateFileName) when there is one and listens on
	// the ports it names, and every API call but a GET writes it again,
	// atomically, before the reply. It keeps the configuration
	// (accounts and passwords as the gateway holds them, services,
	// interfaces, firewall, certificate file names), the HTTPS
	// certificate and key, and the ports. Empty: a fresh factory-default
	// gateway on new ports, and no file.
	StateDir string
}

// Socket is one listening socket the simulated shell reports.
type Socket struct {
	Proto string // "tcp" or "udp"
	Port  int
}

// Exchange is one API request and the simulator's reply.
type Exchange struct {
	Method     string
	Path       string // without the query
	Query      string
	ReqHeader  http.Header
	ReqBody    []byte
	Status     int
	RespHeader http.Header
	RespBody   []byte
}

// Device is a running simulated gateway.
type Device struct {
	cfg   Config
	ports map[string]int

	mu      sync.Mutex
	st      *state
	ca      *certAuthority
	cert    tls.Certificate
	certDER []byte
	// prevCert is served instead of cert for lateLeft more handshakes
	// (Config.CertSwapLate).
	prevCert tls.Certificate
	lateLeft int
	tokens   map[string]int // token -> user id
	failures map[string]*failState
	faults   []fault
	closed   bool

	// held keeps the port of every service not serving now; guarded by
	// mu (and by Start before it returns)
	held simnet.Holds

	// running services, guarded by mu
	lns   map[string]net.Listener
	pcs   map[string]net.PacketConn
	srvs  map[string]*http.Server
	conns map[net.Conn]string // open TCP connections by service
	// carried marks the open HTTPS connections that carried a request;
	// apiConns counts every such connection since Start
	carried  map[net.Conn]bool
	apiConns int
	wg       sync.WaitGroup
}

type failState struct {
	count       int
	lockedUntil time.Time
}

type fault struct {
	method, path string
	n            int
}

// Start allocates the gateway's ports on cfg.Host and opens the services
// the factory settings enable.
func Start(cfg Config) (*Device, error) {
	if cfg.Host == "" {
		cfg.Host = "127.0.0.1"
	}
	if cfg.Model == "" {
		cfg.Model = "AIG-301-T-AZU-LTE"
	}
	if cfg.Serial == "" {
		cfg.Serial = "TAICB1046773"
	}
	if cfg.Version == "" {
		cfg.Version = "2.6.0-4499"
	}
	if cfg.HostName == "" {
		cfg.HostName = "Moxa"
	}
	if cfg.LockoutThreshold <= 0 {
		cfg.LockoutThreshold = 5
	}
	if cfg.LockoutFor <= 0 {
		cfg.LockoutFor = 10 * time.Minute
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.SSHUser == "" {
		cfg.SSHUser, cfg.SSHPassword = "moxa", "moxa"
	}
	d := &Device{cfg: cfg, ports: map[string]int{}, tokens: map[string]int{}, failures: map[string]*failState{},
		held: simnet.Holds{}, lns: map[string]net.Listener{}, pcs: map[string]net.PacketConn{}, srvs: map[string]*http.Server{}, conns: map[net.Conn]string{}, carried: map[net.Conn]bool{}}
	if cfg.StateDir != "" {
		if err := os.MkdirAll(cfg.StateDir, 0o700); err != nil {
			return nil, fmt.Errorf("start thingspro simulator: state folder: %w", err)
		}
		st, err := loadState(cfg)
		if err != nil {
			return nil, fmt.Errorf("start thingspro simulator: %w", err)
		}
		if st != nil {
			return d.resume(st)
		}
	}
	ca, err := newCA(cfg.Now())
	if err != nil {
		return nil, err
	}
	d.ca = ca
	if d.cert, d.certDER, err = ca.leaf(cfg.Serial, []string{cfg.Host, "192.168.4.127"}, cfg.Now()); err != nil {
		return nil, err
	}
	d.st = factory(cfg)
	// allocate every port once and hold it while its service is off;
	// services reopen on the same port
	for _, name := range serviceNames {
		h, err := simnet.HoldPort(network(name), net.JoinHostPort(cfg.Host, "0"))
		if err != nil {
			d.held.Close()
			return nil, fmt.Errorf("start thingspro simulator: allocate %s port: %w", name, err)
		}
		d.held[name] = h
		d.ports[name] = h.Port()
	}
	return d.open()
}

// resume starts the gateway from its state file (Config.StateDir).
func (d *Device) resume(st *stateFile) (*Device, error) {
	var err error
	if d.cert, err = st.certificate(); err != nil {
		return nil, fmt.Errorf("start thingspro simulator: %w", err)
	}
	d.certDER = d.cert.Certificate[0]
	d.cfg.Model, d.cfg.Serial = st.Model, st.Serial
	d.st = st.State.toState()
	for _, name := range serviceNames {
		d.ports[name] = st.Ports[name]
	}
	held, err := claimPorts(d.cfg, d.ports)
	if err != nil {
		return nil, fmt.Errorf("start thingspro simulator: %w", err)
	}
	d.held = held
	return d.open()
}

// serviceNames are the services that have a port, in the order Start
// allocates them.
var serviceNames = []string{PortHTTPS, PortHTTP, PortSSH, PortDiscovery}

// network is the network of a service's port.
func network(name string) string {
	if name == PortDiscovery {
		return "udp"
	}
	return "tcp"
}

// open opens the services the settings enable and writes the state file.
func (d *Device) open() (*Device, error) {
	d.mu.Lock()
	err := d.syncServicesLocked()
	if err == nil {
		err = d.persistLocked()
	}
	d.mu.Unlock()
	if err != nil {
		d.Close()
		return nil, err
	}
	return d, nil
}

// Host is the address the gateway listens on.
func (d *Device) Host() string { return d.cfg.Host }

// Ports returns the port of each service (PortHTTPS, PortHTTP, PortSSH,
// PortDiscovery), whether it is open now or not.
func (d *Device) Ports() map[string]int {
	out := make(map[string]int, len(d.ports))
	for k, v := range d.ports {
		out[k] = v
	}
	return out
}

// Addr returns host:port of a service.
func (d *Device) Addr(service string) string {
	return net.JoinHostPort(d.cfg.Host, fmt.Sprint(d.ports[service]))
}

// APIConnections counts the HTTPS connections that carried at least one
// API request since Start: a client that keeps its connections alive
// opens no new one for its next requests. Probes, which send no request,
// are not counted.
func (d *Device) APIConnections() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.apiConns
}

// CertDER returns the certificate the HTTPS port serves now (after an
// import, the imported one, even while Config.CertSwapLate keeps the
// previous one on the port).
func (d *Device) CertDER() []byte {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]byte(nil), d.certDER...)
}

// PlantCA returns a certificate authority the plant could use: it signs
// certificates for import (CA.Issue), unrelated to the gateway's own
// "ThingsPro Edge Root CA for HTTPS".
func (d *Device) PlantCA() (*PlantCA, error) { return newPlantCA(d.cfg.Now()) }

// FailNext makes the next n requests whose method and path (below
// /api/v1, e.g. "PUT", "/system/services/sshserver/disable") match
// answer 500 without changing anything. An empty method or path matches
// any; a path ending in "*" matches by prefix.
func (d *Device) FailNext(method, path string, n int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.faults = append(d.faults, fault{method: method, path: path, n: n})
}

// takeFault reports whether this request must fail; mu held.
func (d *Device) takeFaultLocked(method, path string) bool {
	for i := range d.faults {
		f := &d.faults[i]
		if f.n <= 0 {
			continue
		}
		if f.method != "" && f.method != method {
			continue
		}
		if f.path != "" && f.path != path && !(strings.HasSuffix(f.path, "*") && strings.HasPrefix(path, strings.TrimSuffix(f.path, "*"))) {
			continue
		}
		f.n--
		return true
	}
	return false
}

// Close stops every service and waits for the gateway's goroutines.
func (d *Device) Close() error {
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return nil
	}
	d.closed = true
	for name := range d.lns {
		d.stopLocked(name)
	}
	for name := range d.pcs {
		d.stopLocked(name)
	}
	d.held.Close()
	d.mu.Unlock()
	d.wg.Wait()
	return nil
}

// syncServicesLocked opens and closes listeners to match the settings.
func (d *Device) syncServicesLocked() error { return d.syncLocked(false) }

// syncLocked does the work; keepHTTPS leaves a running HTTPS service up
// (the call that turns it off must still get its reply).
func (d *Device) syncLocked(keepHTTPS bool) error {
	if d.closed {
		return nil
	}
	want := map[string]bool{
		PortHTTPS:     d.st.services["httpsservice"],
		PortHTTP:      d.st.services["httpservice"],
		PortSSH:       d.st.services["sshserver"],
		PortDiscovery: d.st.discovery,
	}
	var errs []error
	for name, on := range want {
		_, running := d.lns[name]
		if _, udp := d.pcs[name]; udp {
			running = true
		}
		switch {
		case on && !running:
			errs = append(errs, d.startLocked(name))
		case !on && running && !(keepHTTPS && name == PortHTTPS):
			d.stopLocked(name)
			d.held.Keep(name, network(name), d.Addr(name))
		}
	}
	return errors.Join(errs...)
}

// startLocked opens a service on its port, taking the port's hold; mu
// held.
func (d *Device) startLocked(name string) error {
	if name == PortDiscovery {
		pc, err := d.held.ListenPacket(name, network(name), d.Addr(name))
		if err != nil {
			return fmt.Errorf("reopen %s: %w", name, err)
		}
		d.pcs[name] = pc
		d.wg.Add(1)
		go func() {
			defer d.wg.Done()
			serveDiscovery(pc, d.cfg)
		}()
		return nil
	}
	ln, err := d.held.Listen(name, network(name), d.Addr(name))
	if err != nil {
		return fmt.Errorf("reopen %s: %w", name, err)
	}
	d.lns[name] = ln
	switch name {
	case PortSSH:
		d.wg.Add(1)
		go func() {
			defer d.wg.Done()
			d.serveSSH(ln)
		}()
		return nil
	case PortHTTPS:
		srv := &http.Server{Handler: d.api(), ReadHeaderTimeout: 5 * time.Second, MaxHeaderBytes: 64 << 10,
			TLSConfig: &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
				d.mu.Lock()
				defer d.mu.Unlock()
				c := d.cert
				if d.lateLeft > 0 {
					d.lateLeft--
					c = d.prevCert
				}
				return &c, nil
			}},
			ConnState: d.track(name), ErrorLog: quietLog()}
		d.srvs[name] = srv
		d.wg.Add(1)
		go func() {
			defer d.wg.Done()
			_ = srv.Serve(tls.NewListener(ln, srv.TLSConfig))
		}()
	case PortHTTP:
		srv := &http.Server{ReadHeaderTimeout: 5 * time.Second, ConnState: d.track(name), ErrorLog: quietLog(),
			Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, "https://"+d.Addr(PortHTTPS)+r.URL.RequestURI(), http.StatusMovedPermanently)
			})}
		d.srvs[name] = srv
		d.wg.Add(1)
		go func() {
			defer d.wg.Done()
			_ = srv.Serve(ln)
		}()
	}
	return nil
}

// track remembers open connections so a stopped service drops them.
func (d *Device) track(name string) func(net.Conn, http.ConnState) {
	return func(c net.Conn, s http.ConnState) {
		d.mu.Lock()
		defer d.mu.Unlock()
		switch s {
		case http.StateNew:
			d.conns[c] = name
		case http.StateActive:
			if name == PortHTTPS && !d.carried[c] {
				d.carried[c] = true
				d.apiConns++
			}
		case http.StateClosed, http.StateHijacked:
			delete(d.conns, c)
			delete(d.carried, c)
		}
	}
}

// stopLocked closes a service's listener and its connections; the
// caller holds the port (Holds.Keep) or, at Close, gives it up.
func (d *Device) stopLocked(name string) {
	if ln, ok := d.lns[name]; ok {
		ln.Close()
		delete(d.lns, name)
	}
	if pc, ok := d.pcs[name]; ok {
		pc.Close()
		delete(d.pcs, name)
	}
	if srv, ok := d.srvs[name]; ok {
		delete(d.srvs, name)
		d.wg.Add(1)
		go func() { // Close takes the server's own locks; never under mu
			defer d.wg.Done()
			srv.Close()
		}()
	}
	for c, svc := range d.conns {
		if svc == name {
			c.Close()
			delete(d.conns, c)
		}
	}
}

// serveDiscovery answers any datagram with the gateway's model and serial.
func serveDiscovery(pc net.PacketConn, cfg Config) {
	buf := make([]byte, 1500)
	for {
		n, addr, err := pc.ReadFrom(buf)
		if err != nil {
			return
		}
		if n == 0 {
			continue
		}
		reply := fmt.Sprintf(`{"model":%q,"serial":%q}`, cfg.Model, cfg.Serial)
		_, _ = pc.WriteTo([]byte(reply), addr)
	}
}
