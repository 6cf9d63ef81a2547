package second

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Generation names a console generation this peer can speak.
type Generation string

// The generations served.
const (
	// GA is the "MoxaHttp/2.2" console of the 5100A/5200A family (MD5/XOR login).
	GA Generation = "ga"
	// GSec is the security-enhanced console (EncPasswd/EncUser SHA-256 login,
	// CSRF tokens, login interstitials).
	GSec Generation = "gsec"
)

// Fault modes selectable with Config.Fault.
const (
	FaultNone                = ""
	FaultRefuse              = "refuse"               // every login is refused as a wrong password
	FaultLockout             = "lockout"              // every login answers that the account is locked
	FaultFull                = "full"                 // every login answers that the session table is full
	FaultStrangeInterstitial = "strange-interstitial" // a login is followed by an unknown page with a form
	FaultMissingControl      = "missing-control"      // Console Settings has no "Telnet console" row
	FaultUnknownConsole      = "unknown-console"      // the login page is of no known generation
)

// Config selects what the console is. Zero values give a factory NPort 5150A.
type Config struct {
	Generation Generation // GA or GSec; empty means GSec
	Model      string     // e.g. "NPort 5150A" (default); the port count follows the series
	User       string     // factory account name; default "admin"
	Password   string     // its password; default "moxa" (the factory one, which triggers the nag)
	HTTPS      bool       // also serve HTTPS (TLS 1.2, self-signed RSA)
	Fault      string     // one of the Fault* constants
	// FailedLogins seeds that many old entries into the failed-login record
	// (G-sec shows it as an interstitial after the next login).
	FailedLogins int
	MAC          string // default "00:90:E8:5A:0C:21"
	Serial       string // default "4711"
	Firmware     string // default "1.4 Build 17030709" (GA) or "1.6 Build 21091419" (G-sec)
}

// Console is a running console. All methods are safe for concurrent use.
type Console struct {
	cfg      Config
	httpLn   net.Listener
	httpsLn  net.Listener
	httpSrv  *http.Server
	httpsSrv *http.Server

	mu         sync.Mutex
	held       map[string]string // what a page shows and a submit changes
	effective  map[string]string // what runs: held as of the last start or Save/Restart
	accounts   []*account
	sessions   map[string]*session
	challenges []string // issued login challenges, oldest first
	failures   []failure
	syslog     []string
	failCount  map[string]int
	lockedTill map[string]time.Time
	restarts   int
}

type account struct {
	name, password, level string
	active                bool
	factory               bool
}

type session struct {
	user     string
	csrf     string
	pending  string // path of an interstitial the session must pass first, or ""
	lastSeen time.Time
}

type failure struct {
	when, user, from string
}

// Start launches the console on 127.0.0.1 (HTTP, and HTTPS when cfg.HTTPS).
func Start(cfg Config) (*Console, error) {
	if cfg.Generation == "" {
		cfg.Generation = GSec
	}
	if cfg.Generation != GA && cfg.Generation != GSec {
		return nil, fmt.Errorf("second: unknown generation %q (want %q or %q)", cfg.Generation, GA, GSec)
	}
	switch cfg.Fault {
	case FaultNone, FaultRefuse, FaultLockout, FaultFull, FaultStrangeInterstitial, FaultMissingControl, FaultUnknownConsole:
	default:
		return nil, fmt.Errorf("second: unknown fault %q", cfg.Fault)
	}
	if cfg.Model == "" {
		cfg.Model = "NPort 5150A"
	}
	if cfg.User == "" {
		cfg.User = "admin"
	}
	if cfg.Password == "" {
		cfg.Password = "moxa"
	}
	if cfg.MAC == "" {
		cfg.MAC = "00:90:E8:5A:0C:21"
	}
	if cfg.Serial == "" {
		cfg.Serial = "4711"
	}
	if cfg.Firmware == "" {
		cfg.Firmware = "1.6 Build 21091419"
		if cfg.Generation == GA {
			cfg.Firmware = "1.4 Build 17030709"
		}
	}
	c := &Console{
		cfg:        cfg,
		sessions:   map[string]*session{},
		failCount:  map[string]int{},
		lockedTill: map[string]time.Time{},
	}
	c.held = factoryDefaults(cfg)
	c.effective = copyMap(c.held)
	c.accounts = []*account{{name: cfg.User, password: cfg.Password, level: "Read Write", active: true, factory: cfg.Password == "moxa"}}
	for i := 0; i < cfg.FailedLogins; i++ {
		c.failures = append(c.failures, failure{
			when: time.Date(2026, 11, 30, 8, 15, i, 0, time.UTC).Format("2006-01-02 15:04:05"),
			user: cfg.User, from: "192.168.127.250",
		})
	}
	var err error
	if c.httpLn, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
		return nil, fmt.Errorf("second: listen http: %w", err)
	}
	c.httpSrv = newServer(c.handler(false))
	go func() { _ = c.httpSrv.Serve(c.httpLn) }()
	if cfg.HTTPS {
		cert, err := selfSigned()
		if err != nil {
			_ = c.Close()
			return nil, err
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			_ = c.Close()
			return nil, fmt.Errorf("second: listen https: %w", err)
		}
		c.httpsLn = ln
		tcfg := &tls.Config{
			Certificates: []tls.Certificate{cert},
			MinVersion:   tls.VersionTLS12,
			MaxVersion:   tls.VersionTLS12,
			GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) {
				c.mu.Lock()
				old := c.effective["tls10"] == "enable"
				c.mu.Unlock()
				if !old {
					return nil, nil
				}
				return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS12}, nil
			},
		}
		c.httpsSrv = newServer(c.handler(true))
		go func() { _ = c.httpsSrv.Serve(tls.NewListener(ln, tcfg)) }()
	}
	return c, nil
}

func newServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      10 * time.Second,
		IdleTimeout:       30 * time.Second,
		MaxHeaderBytes:    16 << 10,
	}
}

// URL is the HTTP console's base URL, e.g. "http://127.0.0.1:41234".
func (c *Console) URL() string { return "http://" + c.httpLn.Addr().String() }

// HTTPSURL is the HTTPS console's base URL, or "" without HTTPS.
func (c *Console) HTTPSURL() string {
	if c.httpsLn == nil {
		return ""
	}
	return "https://" + c.httpsLn.Addr().String()
}

// Close stops both listeners.
func (c *Console) Close() error {
	var errs []error
	if c.httpSrv != nil {
		errs = append(errs, c.httpSrv.Close())
	}
	if c.httpsSrv != nil {
		errs = append(errs, c.httpsSrv.Close())
	}
	return errors.Join(errs...)
}

// Settings returns what the console now holds (the values its pages show),
// keyed by this console's own canonical names; see settingKeys in pages.go.
// Radios read "enable"/"disable" (or the option text), checkboxes "on"/"off",
// selects their option text. Accounts appear as account.N.name, .level,
// .active and .factory_password ("yes" while the factory password is set);
// passwords never appear. Meta keys: "restarts" (Save/Restart count),
// "pending" ("yes" when held settings differ from the running ones),
// "sessions" (open web sessions), "failed_logins" (the record's length),
// "generation", and "cleartext_password_seen" ("yes" once a login request
// carried a non-empty Password field, which a real page never sends).
func (c *Console) Settings() map[string]string {
	c.mu.Lock()
	defer c.mu.Unlock()
	m := copyMap(c.held)
	for i, a := range c.accounts {
		p := "account." + strconv.Itoa(i+1) + "."
		m[p+"name"] = a.name
		m[p+"level"] = a.level
		m[p+"active"] = onOff(a.active)
		m[p+"factory_password"] = map[bool]string{true: "yes", false: "no"}[a.factory]
	}
	m["restarts"] = strconv.Itoa(c.restarts)
	m["pending"] = "no"
	for k, v := range c.held {
		if c.effective[k] != v {
			m["pending"] = "yes"
			break
		}
	}
	m["sessions"] = strconv.Itoa(len(c.sessions))
	m["failed_logins"] = strconv.Itoa(len(c.failures))
	return m
}

// PasswordIs reports whether the account exists with that password, so tests
// can prove a password change without the console exposing the password.
func (c *Console) PasswordIs(user, password string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	a := c.account(user)
	return a != nil && a.password == password
}

// SystemLog returns the console's event log lines (Monitor > System Log).
func (c *Console) SystemLog() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.syslog...)
}

func (c *Console) account(name string) *account {
	for _, a := range c.accounts {
		if a.name == name {
			return a
		}
	}
	return nil
}

func (c *Console) logEvent(group, text string) {
	n := len(c.syslog) + 1
	c.syslog = append(c.syslog, fmt.Sprintf("[%04d] %s [%s] %s", n, time.Now().UTC().Format("2006-01-02 15:04:05"), group, text))
	if len(c.syslog) > 500 {
		c.syslog = c.syslog[len(c.syslog)-500:]
	}
}

// restart makes the held settings the running ones and ends every session.
func (c *Console) restart() {
	c.effective = copyMap(c.held)
	c.sessions = map[string]*session{}
	c.failCount = map[string]int{}
	c.lockedTill = map[string]time.Time{}
	c.restarts++
	c.logEvent("System", "System Warm Start")
}

// admitted says whether a connection may be served: the console must be
// enabled and the accessible IP list (when on) must match the client.
func (c *Console) admitted(r *http.Request, secure bool) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	key := "http"
	if secure {
		key = "https"
	}
	if c.effective[key] != "enable" {
		return false
	}
	if c.effective["acl"] != "on" {
		return true
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return false
	}
	ip := net.ParseIP(host).To4()
	if ip == nil {
		return false
	}
	for i := 1; i <= aclRows; i++ {
		p := "acl." + strconv.Itoa(i) + "."
		if c.effective[p+"active"] != "on" {
			continue
		}
		rip := net.ParseIP(c.effective[p+"ip"]).To4()
		mask := net.ParseIP(c.effective[p+"mask"]).To4()
		if rip == nil || mask == nil {
			continue
		}
		ok := true
		for j := 0; j < 4; j++ {
			if ip[j]&mask[j] != rip[j]&mask[j] {
				ok = false
			}
		}
		if ok {
			return true
		}
	}
	return false
}

func (c *Console) handler(secure bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !c.admitted(r, secure) {
			// A disabled console or a refused host: drop the connection.
			if hj, ok := w.(http.Hijacker); ok {
				if conn, _, err := hj.Hijack(); err == nil {
					_ = conn.Close()
					return
				}
			}
			http.Error(w, "", http.StatusForbidden)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
		w.Header().Set("Server", c.serverHeader())
		c.mu.Lock()
		defer c.mu.Unlock()
		c.route(w, r)
	})
}

func (c *Console) serverHeader() string {
	switch {
	case c.cfg.Fault == FaultUnknownConsole:
		return "MoxaHttp/3.1"
	case c.cfg.Generation == GA:
		return "MoxaHttp/2.2"
	default:
		return "MoxaHttp/2.6"
	}
}

func selfSigned() (tls.Certificate, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("second: rsa key: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: "192.168.127.254", Organization: []string{"Moxa Inc."}},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(10 * 365 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1), net.IPv4(192, 168, 127, 254)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("second: certificate: %w", err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func copyMap(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

// ports is the serial port count of a model, by series.
func ports(model string) int {
	m := strings.TrimPrefix(strings.ToUpper(model), "NPORT ")
	m = strings.TrimPrefix(m, "IA")
	m = strings.TrimPrefix(m, "P")
	switch {
	case strings.Contains(m, "-16"):
		return 16
	case strings.HasPrefix(m, "51"):
		return 1
	case strings.HasPrefix(m, "52"):
		return 2
	case strings.HasPrefix(m, "54"):
		return 4
	case strings.HasPrefix(m, "56"):
		return 8
	}
	return 1
}

// hasTimeServer is false on the 5100/5200 series, which lack SNTP.
func hasTimeServer(model string) bool {
	m := strings.TrimPrefix(strings.ToUpper(model), "NPORT ")
	return !strings.HasPrefix(m, "51") && !strings.HasPrefix(m, "52") && !strings.HasPrefix(m, "P51")
}
