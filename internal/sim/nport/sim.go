// Package nport simulates a Moxa NPort 5150A on loopback: its web console
// (HTTP and HTTPS), telnet console, UDP 4800 "Moxa Service", SNMP agent,
// serial data ports and remote syslog. It keeps the device's saved and
// effective settings and its rules (defaults, lockout, accessible IP list,
// Save/Restart). It is used by the demo and by tests; production code never
// imports it, and it does not import the NPort driver.
package nport

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/commission-tool/commission/internal/sim/simnet"
)

// Config describes the simulated device. Zero fields take the defaults
// documented on each field.
type Config struct {
	Host         string        // listen host, default "127.0.0.1"
	Model        string        // default "NPort 5150A"
	Firmware     string        // default "1.6 Build 21051010"
	FirmwareCode uint32        // UDP 4800 firmware code, default 0x01060000
	Serial       string        // default "6621"
	MAC          string        // default "00:90:E8:5C:11:2A"
	SerialPorts  int           // default 1
	RestartDelay time.Duration // how long Save/Restart keeps every listener down; default 1500ms
	// Vulnerable makes UDP 4800 function 0x28 leak the SNMP read community
	// without authentication, as old firmware did.
	Vulnerable bool
	// Telnet turns the telnet console on at start (the factory default is off).
	Telnet bool
	// Now is the clock for lockout and sessions; default time.Now.
	Now func() time.Time
	// SyslogPort is the UDP port remote syslog messages go to; default 514.
	SyslogPort int
	// Generation is the web console generation: GenGA (the default) or
	// GenSec (the security-enhanced firmware).
	Generation Generation
	// Certificate, when set, replaces the generated HTTPS certificate (to
	// test a weak or expired one).
	Certificate *tls.Certificate
	// NoHTTPS simulates a unit without TLS: the HTTPS console never opens.
	NoHTTPS bool
	// NoSessionCookie answers a good login as usual but sets no session
	// cookie (a console that opened no session).
	NoSessionCookie bool
	// StateDir, when set, is the device's own folder: Start loads the
	// state file there (StateFileName) when there is one, listens on the
	// ports it names and writes it again, atomically, after every change
	// (a form submitted, a password changed, a Save/Restart) before the
	// device answers. The file keeps the saved and effective settings,
	// accounts and passwords as the device holds them, its MAC and
	// serial number, its certificate and key, and its ports. Empty: a
	// fresh factory-default device on new ports, and no file.
	StateDir string
}

// Generation is a web console generation (nport-web-evidence.md section 1).
type Generation string

// The generations the simulator serves.
const (
	// GenGA is the "A-series" console, Server: MoxaHttp/2.2: MD5/XOR
	// login, settings sent by GET to Set.htm with setfunc and token_text.
	GenGA Generation = "GA"
	// GenSec is the security-enhanced console: SHA-256 EncPasswd/EncUser
	// login answered by a redirect, the failed-login record and
	// default-password interstitials, text fields written by page script,
	// GET forms with setfunc and csrf_token, a User Account table whose
	// toolbar acts on the selected row.
	GenSec Generation = "G-sec"
)

// Generations lists the generations the simulator serves.
func Generations() []Generation { return []Generation{GenGA, GenSec} }

// Service names, the keys of Device.Ports.
const (
	SvcHTTP     = "http"
	SvcHTTPS    = "https"
	SvcTelnet   = "telnet"
	SvcSNMP     = "snmp"
	SvcMoxaUDP  = "moxa-udp"
	SvcMoxaTCP  = "moxa-tcp"
	SvcMoxaTCP2 = "moxa-tcp2"
)

// Device is a running simulated NPort.
type Device struct {
	cfg     Config
	host    netip.Addr
	mac     [6]byte
	cert    tls.Certificate
	keyDER  []byte // the certificate's key, PKCS #8, for the state file
	started time.Time
	ports   map[string]int
	udpSvc  map[string]bool // services that are UDP
	// held keeps the port of every service not serving now; guarded by
	// restartMu (and by Start before it returns)
	held simnet.Holds

	restartMu sync.Mutex // serialises restarts, Harden and Close
	persistMu sync.Mutex // serialises state file writes

	mu        sync.Mutex
	saved     Settings
	effective Settings
	restarts  int
	// restartPending: a Save/Restart was accepted and has not taken the
	// saved settings yet (the state file already shows it done)
	restartPending bool
	dropN          int
	closed         bool
	sessions       map[string]*session
	challenge      map[string]time.Time
	failures       map[string]*failState
	fails          []failRecord // failed web logins, until cleared (G-sec record page)
	failsSeen      int          // how many of fails a login has been shown
	logLines       []string
	logSeq         int
	udpPeers       []netip.Addr // senders of UDP 4800 requests
	servedAt       time.Time    // when the services last opened after a restart

	// running services, guarded by mu
	servers []*http.Server
	lns     []net.Listener
	pcs     []net.PacketConn
	conns   map[net.Conn]struct{}
	gen     int // bumped by closeServices; connections of an older generation are closed

	wg      sync.WaitGroup // service goroutines
	bg      sync.WaitGroup // restart goroutines and the syslog sender
	done    chan struct{}
	syslogC chan string
}

type failState struct {
	count       int
	lockedUntil time.Time
}

// Start allocates the device's ports on cfg.Host, generates its
// certificate and opens the services the factory settings enable.
func Start(cfg Config) (*Device, error) {
	if cfg.Host == "" {
		cfg.Host = "127.0.0.1"
	}
	if cfg.Model == "" {
		cfg.Model = "NPort 5150A"
	}
	if cfg.Firmware == "" {
		cfg.Firmware = "1.6 Build 21051010"
	}
	if cfg.FirmwareCode == 0 {
		cfg.FirmwareCode = 0x01060000
	}
	if cfg.Serial == "" {
		cfg.Serial = "6621"
	}
	if cfg.MAC == "" {
		cfg.MAC = "00:90:E8:5C:11:2A"
	}
	if cfg.SerialPorts <= 0 {
		cfg.SerialPorts = 1
	}
	if cfg.SerialPorts > 16 {
		return nil, fmt.Errorf("start nport simulator: %d serial ports, at most 16", cfg.SerialPorts)
	}
	if cfg.RestartDelay == 0 {
		cfg.RestartDelay = 1500 * time.Millisecond
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.SyslogPort == 0 {
		cfg.SyslogPort = 514
	}
	switch cfg.Generation {
	case "":
		cfg.Generation = GenGA
	case GenGA, GenSec:
	default:
		return nil, fmt.Errorf("start nport simulator: unknown generation %q (known: %v)", cfg.Generation, Generations())
	}
	var st *stateFile
	if cfg.StateDir != "" {
		if err := os.MkdirAll(cfg.StateDir, 0o700); err != nil {
			return nil, fmt.Errorf("start nport simulator: state folder: %w", err)
		}
		var err error
		if st, err = loadState(cfg); err != nil {
			return nil, fmt.Errorf("start nport simulator: %w", err)
		}
		if st != nil {
			cfg.Model, cfg.MAC, cfg.Serial = st.Model, st.MAC, st.Serial
		}
	}
	host, err := netip.ParseAddr(cfg.Host)
	if err != nil || !host.Is4() {
		return nil, fmt.Errorf("start nport simulator: host %q is not an IPv4 address", cfg.Host)
	}
	hw, err := net.ParseMAC(cfg.MAC)
	if err != nil || len(hw) != 6 {
		return nil, fmt.Errorf("start nport simulator: bad MAC address: %w", err)
	}
	d := &Device{
		cfg:       cfg,
		host:      host,
		started:   cfg.Now(),
		ports:     map[string]int{},
		held:      simnet.Holds{},
		udpSvc:    map[string]bool{SvcSNMP: true, SvcMoxaUDP: true},
		sessions:  map[string]*session{},
		challenge: map[string]time.Time{},
		failures:  map[string]*failState{},
		conns:     map[net.Conn]struct{}{},
		done:      make(chan struct{}),
		syslogC:   make(chan string, 64),
	}
	copy(d.mac[:], hw)
	var saved map[string]int
	switch {
	case st != nil:
		if d.cert, err = st.certificate(); err != nil {
			return nil, fmt.Errorf("start nport simulator: %w", err)
		}
		d.saved, d.effective, d.restarts, saved = st.Saved, st.Effective, st.Restarts, st.Ports
	case cfg.Certificate != nil:
		d.cert = *cfg.Certificate
	default:
		if d.cert, err = selfSigned(cfg.Model, host); err != nil {
			return nil, fmt.Errorf("start nport simulator: %w", err)
		}
	}
	if st == nil {
		d.saved = defaultSettings(cfg)
		d.effective = d.saved.clone()
	}
	if cfg.StateDir != "" {
		if d.keyDER, err = x509.MarshalPKCS8PrivateKey(d.cert.PrivateKey); err != nil {
			return nil, fmt.Errorf("start nport simulator: certificate key: %w", err)
		}
	}

	// Allocate every port now and hold it (simnet.Hold) whenever its
	// service is off, so that nobody else takes it and a probe finds it
	// closed; the services in use take theirs.
	names := []string{SvcHTTP, SvcHTTPS, SvcTelnet, SvcSNMP, SvcMoxaUDP, SvcMoxaTCP, SvcMoxaTCP2}
	for n := 1; n <= cfg.SerialPorts; n++ {
		names = append(names, "realcom-data-"+strconv.Itoa(n), "realcom-cmd-"+strconv.Itoa(n),
			"tcp-server-"+strconv.Itoa(n), "udp-data-"+strconv.Itoa(n))
		d.udpSvc["udp-data-"+strconv.Itoa(n)] = true
	}
	for _, name := range names {
		h, err := holdSaved(cfg, name, d.udpSvc[name], saved)
		if err != nil {
			d.held.Close()
			return nil, fmt.Errorf("start nport simulator: %w", err)
		}
		d.held[name] = h
		d.ports[name] = h.Port()
	}
	d.bg.Add(1)
	go d.syslogSender()
	if err := d.openServices(); err != nil {
		d.Close()
		return nil, fmt.Errorf("start nport simulator: %w", err)
	}
	d.log("System", "System Cold Start")
	if err := d.persist(); err != nil {
		d.Close()
		return nil, fmt.Errorf("start nport simulator: %w", err)
	}
	return d, nil
}

// holdPorts holds the port of every service that does not serve now
// (after closeServices).
func (d *Device) holdPorts() {
	for name := range d.ports {
		network := "tcp4"
		if d.udpSvc[name] {
			network = "udp4"
		}
		d.held.Keep(name, network, d.Addr(name))
	}
}

// Host returns the address the device listens on.
func (d *Device) Host() string { return d.cfg.Host }

// Ports returns every service name with the port it uses when it is on.
// The numbers stay the same across restarts.
func (d *Device) Ports() map[string]int {
	m := make(map[string]int, len(d.ports))
	for k, v := range d.ports {
		m[k] = v
	}
	return m
}

// Addr returns host:port of a service.
func (d *Device) Addr(service string) string {
	return net.JoinHostPort(d.cfg.Host, strconv.Itoa(d.ports[service]))
}

// Restarts returns the number of Save/Restarts performed.
func (d *Device) Restarts() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.restarts
}

// ServingSince returns when the services last opened again after a
// Save/Restart (zero before the first restart).
func (d *Device) ServingSince() time.Time {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.servedAt
}

// Sessions is how many web console sessions are logged in now: a
// client that logged out leaves none.
func (d *Device) Sessions() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.sessions)
}

// Effective returns a copy of the running settings.
func (d *Device) Effective() Settings {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.effective.clone()
}

// Saved returns a copy of the saved settings (submitted, not yet restarted).
func (d *Device) Saved() Settings {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.saved.clone()
}

// Log returns a copy of the local system log lines, oldest first.
func (d *Device) Log() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.logLines...)
}

// DropNextSubmits makes the next n settings submits close the TCP
// connection without any reply; nothing is saved.
func (d *Device) DropNextSubmits(n int) {
	d.mu.Lock()
	d.dropN = n
	d.mu.Unlock()
}

// Harden puts the device straight into a hardened state: saved and
// effective settings both, with the listeners reopened to match.
func (d *Device) Harden(opts HardenOptions) {
	d.restartMu.Lock()
	defer d.restartMu.Unlock()
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return
	}
	d.saved = hardened(d.saved, opts)
	d.effective = d.saved.clone()
	d.sessions = map[string]*session{}
	d.mu.Unlock()
	if err := d.persist(); err != nil {
		d.log("System", "Saving the state file failed")
	}
	d.closeServices()
	if err := d.openServices(); err != nil {
		d.log("System", "Service start failed")
	}
}

// Close stops every service and waits for the device's goroutines.
func (d *Device) Close() error {
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return nil
	}
	d.closed = true
	close(d.done)
	d.mu.Unlock()
	d.restartMu.Lock()
	d.closeServices()
	d.held.Close()
	d.restartMu.Unlock()
	d.bg.Wait()
	return nil
}

// saveRestart copies saved to effective, closes every listener and
// connection, waits RestartDelay and reopens what the settings enable.
func (d *Device) saveRestart() {
	d.restartMu.Lock()
	defer d.restartMu.Unlock()
	d.mu.Lock()
	closed := d.closed
	d.mu.Unlock()
	if closed {
		return
	}
	// Like the device: stop serving first, then forget every session and
	// take the saved settings, so no login lands between the two.
	d.closeServices()
	d.mu.Lock()
	d.effective = d.saved.clone()
	d.restarts++
	d.restartPending = false
	d.sessions = map[string]*session{}
	d.challenge = map[string]time.Time{}
	d.mu.Unlock()
	if err := d.persist(); err != nil {
		d.log("System", "Saving the state file failed")
	}
	t := time.NewTimer(d.cfg.RestartDelay)
	defer t.Stop()
	select {
	case <-t.C:
	case <-d.done:
		return
	}
	if err := d.openServices(); err != nil {
		d.log("System", "Service start failed")
	}
	d.mu.Lock()
	d.servedAt = time.Now()
	d.mu.Unlock()
	d.log("System", "System Warm Start")
}

// openServices opens the services the effective settings enable, each
// on its held port; the ports of the others stay held.
func (d *Device) openServices() error {
	d.mu.Lock()
	eff := d.effective.clone()
	d.mu.Unlock()
	take := func(name string) (net.Listener, error) { return d.held.Listen(name, "tcp4", d.Addr(name)) }
	takeUDP := func(name string) (net.PacketConn, error) { return d.held.ListenPacket(name, "udp4", d.Addr(name)) }
	var errs []error
	tcp := func(name string, serve func(net.Conn)) {
		ln, err := take(name)
		if err != nil {
			errs = append(errs, fmt.Errorf("listen %s: %w", name, err))
			return
		}
		d.serveTCP(ln, serve)
	}
	udp := func(name string, serve func(net.PacketConn, []byte, *net.UDPAddr)) {
		pc, err := takeUDP(name)
		if err != nil {
			errs = append(errs, fmt.Errorf("listen %s: %w", name, err))
			return
		}
		d.serveUDP(pc, serve)
	}
	if eff.Console.HTTP {
		ln, err := take(SvcHTTP)
		if err == nil {
			d.serveHTTP(ln, nil)
		} else {
			errs = append(errs, fmt.Errorf("listen http: %w", err))
		}
	}
	if eff.Console.HTTPS && !d.cfg.NoHTTPS {
		ln, err := take(SvcHTTPS)
		if err == nil {
			d.serveHTTP(ln, d.tlsConfig(eff.Console.LegacyTLS))
		} else {
			errs = append(errs, fmt.Errorf("listen https: %w", err))
		}
	}
	if eff.Console.Telnet {
		tcp(SvcTelnet, d.serveTelnet)
	}
	if eff.Console.MoxaService {
		udp(SvcMoxaUDP, d.serveMoxaUDP)
		tcp(SvcMoxaTCP, holdConn)
		tcp(SvcMoxaTCP2, holdConn)
	}
	if eff.SNMP.Enabled {
		udp(SvcSNMP, d.serveSNMP)
	}
	for i, mode := range eff.PortModes {
		n := strconv.Itoa(i + 1)
		switch mode {
		case "Real COM":
			tcp("realcom-data-"+n, holdConn)
			tcp("realcom-cmd-"+n, holdConn)
		case "UDP":
			udp("udp-data-"+n, func(net.PacketConn, []byte, *net.UDPAddr) {})
		case "Disable":
		default:
			tcp("tcp-server-"+n, holdConn)
		}
	}
	return errors.Join(errs...)
}

// closeServices closes every listener, socket and connection.
func (d *Device) closeServices() {
	d.mu.Lock()
	servers, lns, pcs := d.servers, d.lns, d.pcs
	d.servers, d.lns, d.pcs = nil, nil, nil
	conns := d.conns
	d.conns = map[net.Conn]struct{}{}
	d.gen++
	d.mu.Unlock()
	for _, s := range servers {
		// Let a reply in flight (Save/Restart's) finish, then drop the rest.
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		s.Shutdown(ctx)
		cancel()
		s.Close()
	}
	for _, l := range lns {
		l.Close()
	}
	for _, p := range pcs {
		p.Close()
	}
	for c := range conns {
		c.Close()
	}
	d.wg.Wait()
	d.holdPorts()
}

// allowed checks a remote address against the effective accessible IP list.
func (d *Device) allowed(a net.Addr) bool {
	var ap netip.AddrPort
	switch v := a.(type) {
	case *net.TCPAddr:
		ap = v.AddrPort()
	case *net.UDPAddr:
		ap = v.AddrPort()
	default:
		return false
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.effective.AccessList.Allows(ap.Addr())
}

// filterListener refuses connections the accessible IP list does not
// admit by closing them before a byte is sent, and tracks the others.
type filterListener struct {
	net.Listener
	d *Device
}

// Accept returns the next admitted connection.
func (l filterListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if !l.d.allowed(c.RemoteAddr()) {
			c.Close()
			continue
		}
		return c, nil
	}
}

// serveTCP accepts admitted connections and runs serve on each.
func (d *Device) serveTCP(ln net.Listener, serve func(net.Conn)) {
	d.mu.Lock()
	d.lns = append(d.lns, ln)
	gen := d.gen
	d.mu.Unlock()
	fl := filterListener{ln, d}
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		for {
			c, err := fl.Accept()
			if err != nil {
				return
			}
			d.mu.Lock()
			if d.gen != gen || d.closed {
				d.mu.Unlock()
				c.Close()
				return
			}
			d.conns[c] = struct{}{}
			d.mu.Unlock()
			d.wg.Add(1)
			go func() {
				defer d.wg.Done()
				defer func() {
					d.mu.Lock()
					delete(d.conns, c)
					d.mu.Unlock()
					c.Close()
				}()
				serve(c)
			}()
		}
	}()
}

// serveUDP reads datagrams from admitted senders and runs serve on each.
func (d *Device) serveUDP(pc net.PacketConn, serve func(net.PacketConn, []byte, *net.UDPAddr)) {
	d.mu.Lock()
	d.pcs = append(d.pcs, pc)
	d.mu.Unlock()
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		buf := make([]byte, 2048)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				if ne, ok := err.(net.Error); ok && ne.Timeout() {
					continue
				}
				return
			}
			ua, ok := from.(*net.UDPAddr)
			if !ok || !d.allowed(ua) {
				continue
			}
			serve(pc, append([]byte(nil), buf[:n]...), ua)
		}
	}()
}

// holdConn keeps a connection open until the peer closes it or it is idle
// for 30 seconds, discarding what it receives.
func holdConn(c net.Conn) {
	buf := make([]byte, 1024)
	for {
		c.SetReadDeadline(time.Now().Add(30 * time.Second))
		if _, err := c.Read(buf); err != nil {
			return
		}
	}
}

// log appends a line to the system log (if the group's Local Log is on)
// and queues it for remote syslog (if Remote Log is on and a server is set).
func (d *Device) log(group, msg string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.logLocked(group, msg)
}

func (d *Device) logLocked(group, msg string) {
	t := d.effective.Logs[group]
	now := d.cfg.Now()
	if t.Local {
		d.logSeq++
		line := fmt.Sprintf("[%04d] %s [%s] %s", d.logSeq, now.Format("2006-01-02 15:04:05"), group, msg)
		d.logLines = append(d.logLines, line)
		if len(d.logLines) > 256 {
			d.logLines = append([]string(nil), d.logLines[len(d.logLines)-256:]...)
		}
	}
	if t.Remote && d.effective.Syslog.Server != "" && !d.closed {
		fac := 16 + indexOf(facilities, d.effective.Syslog.Facility)
		sev := indexOf(severities, d.effective.Syslog.Severity)
		if sev < 0 {
			sev = 0
		}
		line := fmt.Sprintf("<%d>%s %s [%s] %s", fac*8+sev, now.Format(time.Stamp), d.effective.ServerName, group, msg)
		dst := net.JoinHostPort(d.effective.Syslog.Server, strconv.Itoa(d.cfg.SyslogPort))
		select {
		case d.syslogC <- dst + "\x00" + line:
		default: // best effort: drop when the queue is full
		}
	}
}

// syslogSender sends queued syslog datagrams until the device closes.
func (d *Device) syslogSender() {
	defer d.bg.Done()
	for {
		select {
		case <-d.done:
			return
		case m := <-d.syslogC:
			i := 0
			for i < len(m) && m[i] != 0 {
				i++
			}
			if i >= len(m) {
				continue
			}
			c, err := net.DialTimeout("udp4", m[:i], time.Second)
			if err != nil {
				continue
			}
			c.SetWriteDeadline(time.Now().Add(time.Second))
			c.Write([]byte(m[i+1:]))
			c.Close()
		}
	}
}

func indexOf(list []string, s string) int {
	for i, v := range list {
		if v == s {
			return i
		}
	}
	return -1
}
