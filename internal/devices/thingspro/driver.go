package thingspro

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/commission-tool/commission/internal/access"

	"github.com/commission-tool/commission/internal/devices"
	"github.com/commission-tool/commission/internal/printable"
	"github.com/commission-tool/commission/internal/probe"
	"github.com/commission-tool/commission/internal/transport"
	"github.com/commission-tool/commission/internal/transport/sshconn"
)

// Default ports of a real gateway.
var DefaultPorts = map[string]int{"https": 8443, "http": 80, "ssh": 22, "discovery": 40404}

// Options say how to reach and log in to a gateway: the fields every
// family shares (access.Options: Host, Ports by name "https", "http",
// "ssh", "discovery", User (default DefaultUser), Password, NewPassword
// for the forced first-login change, Pins, Timeout) and the gateway's
// shell.
type Options struct {
	access.Options
	// SSH, when set, logs in to the gateway's shell to list listening
	// ports. Its Timeout defaults to Timeout.
	SSH *sshconn.Config
	// KnownHosts is the known_hosts file for an SSH login given in a
	// step (the firewall step). Default: SSH.KnownHosts, else
	// "known_hosts" beside the pin store's file.
	KnownHosts string
	// Observe, when set, receives every API exchange, masked (capture).
	Observe func(transport.RESTExchange)
	// mask replaces secret values for Transcript and Observe (capture
	// sets transcript.Masked); default "***".
	mask string
}

// Driver is one gateway. It implements steps.Device[State] and the
// shared lifecycle: New (no I/O), Open (log in), Read, Stage, Commit,
// Close. Read, Stage and Commit log in first when Open was not called.
type Driver struct {
	o     Options
	c     *client
	host  string
	addr  netip.Addr
	https string // host:port
	// newErr is why New could not build the client (reported by Open).
	newErr error

	mu     sync.Mutex
	opened bool
	// defaultLogin records whether the tool's own login used the factory password.
	defaultLogin *bool
	// shell is the SSH login a step gave (State.Shell), used by every
	// later read and by Stage before it deletes an idle rule.
	shell *sshconn.Config
	// roleForm is the index in roleForms of the role form the gateway
	// last proved to take (0, objects, until one is proven).
	roleForm int
	// newCert is the fingerprint of a certificate imported since the
	// last Commit, which waits until the HTTPS port presents it.
	newCert string
}

func (d *Driver) port(name string) int {
	if p, ok := d.o.Ports[name]; ok {
		return p
	}
	return DefaultPorts[name]
}

// New builds a driver; it sends nothing.
func New(o Options) *Driver {
	if o.User == "" {
		o.User = DefaultUser
	}
	if o.Timeout <= 0 {
		o.Timeout = transport.DefaultTimeout
	}
	d := &Driver{o: o, host: o.Host}
	if a, err := netip.ParseAddr(o.Host); err == nil {
		d.addr = a
	}
	d.https = net.JoinHostPort(o.Host, strconv.Itoa(d.port("https")))
	d.c, d.newErr = newClient(transport.RESTOptions{BaseURL: "https://" + d.https + apiPath, Timeout: o.Timeout,
		TLS: transport.PinnedTLS(o.Pins, d.https), Transcript: o.Transcript, Observe: o.Observe, Mask: o.mask}, o.User, o.Password)
	return d
}

// Connect is New and Open.
func Connect(ctx context.Context, o Options) (*Driver, error) {
	d := New(o)
	if err := d.Open(ctx); err != nil {
		return nil, err
	}
	return d, nil
}

// Open logs in to the gateway's API. A first login that the gateway
// answers with a forced password change sets Options.NewPassword, or
// fails with ErrPasswordMustChange when none was given.
func (d *Driver) Open(ctx context.Context) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.openLocked(ctx)
}

func (d *Driver) openLocked(ctx context.Context) error {
	if d.opened {
		return nil
	}
	o := d.o
	if o.Host == "" {
		return errors.New("no gateway address given")
	}
	if d.newErr != nil {
		return d.newErr
	}
	res, err := d.c.login(ctx)
	if err != nil {
		d.c.rc.Close()
		return err
	}
	if res.User.MustChange() {
		if o.NewPassword == "" {
			d.c.rc.Close()
			return ErrPasswordMustChange
		}
		err := d.c.do(ctx, http.MethodPut, "/users/me/password", request{json: map[string]string{"oldPassword": o.Password, "newPassword": o.NewPassword}}, nil)
		if err != nil {
			d.c.rc.Close()
			return fmt.Errorf("set the new password: %w", err)
		}
		d.c.mu.Lock()
		d.c.pw = o.NewPassword
		d.c.mu.Unlock()
	}
	if o.User == DefaultUser {
		v := o.Password == DefaultPassword && !res.User.MustChange()
		d.defaultLogin = &v
	}
	// the client keeps what it needs to log in again
	d.o.Password, d.o.NewPassword = "", ""
	d.opened = true
	return nil
}

// ensure logs in when Open was not called yet.
func (d *Driver) ensure(ctx context.Context) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.openLocked(ctx)
}

// Close drops the connections. The API has no logout; the token lapses.
func (d *Driver) Close(context.Context) error {
	if d.c != nil {
		d.c.rc.Close()
	}
	return nil
}

// apiUser is a User as the API shows it.
type apiUser struct {
	ID                int             `json:"id"`
	Name              string          `json:"name"`
	Email             *string         `json:"email"`
	ExpiredAfter      *string         `json:"expiredAfter"`
	IsActive          bool            `json:"isActive"`
	ChangedPasswordAt *string         `json:"changedPasswordAt"`
	Roles             []apiRole       `json:"roles"`
	Remind            json.RawMessage `json:"remindToChangePassword"`
	Flag              string          `json:"flag"`
}

// MustChange reports the forced first-login password change (TPE 2.6's
// remindToChangePassword, AIG-302's flag).
func (u apiUser) MustChange() bool {
	return string(u.Remind) == "true" || strings.Contains(u.Flag, "passwordMustChange")
}

// permission ids arrive as strings (examples) or objects (schema).
type apiPerm string

func (p *apiPerm) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) == nil {
		*p = apiPerm(s)
		return nil
	}
	var o struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(b, &o); err != nil {
		return err
	}
	*p = apiPerm(o.ID)
	return nil
}

// flexInt reads an integer sent as a number or a string.
type flexInt int

func (f *flexInt) UnmarshalJSON(b []byte) error {
	var n int
	if json.Unmarshal(b, &n) == nil {
		*f = flexInt(n)
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	n, err := strconv.Atoi(s)
	*f = flexInt(n)
	return err
}

type svcItem struct {
	ID     string `json:"id"`
	Enable *bool  `json:"enable"`
}

// onOff is a {"enable": bool} reply; a missing field stays nil.
type onOff struct {
	Enable *bool `json:"enable"`
}

type ifaceJSON struct {
	ID          int      `json:"id"`
	DisplayName string   `json:"displayName"`
	Name        string   `json:"name"`
	Enable      *bool    `json:"enable"`
	IP          string   `json:"ip"`
	Netmask     string   `json:"netmask"`
	EnableDHCP  bool     `json:"enableDhcp"`
	WAN         bool     `json:"wan"`
	Gateway     string   `json:"gateway"`
	DNS         []string `json:"dns"`
	Mode        string   `json:"mode"`
}

type certFiles struct {
	RootCA string `json:"rootCaCertFile"`
	Cert   string `json:"caCertFile"`
	Key    string `json:"caPkFile"`
}

// readParallel is how many API requests a Read has in flight at once, and
// how many connections the client keeps open to the gateway.
const readParallel = 6

// readStep is one part of a Read: its requests, then what it found,
// applied to the State in the order of the steps.
type readStep func(ctx context.Context) (apply func(*State), err error)

// Read reads the whole State: the API, the outside probes and, when an
// SSH login is configured, the shell's listening ports. The port probes
// start with the first request (the identity), so that their measure of
// the round trip is not slowed by the reads; the TLS probe, the shell
// and the rest of the API start when the identity has come. The API
// requests run readParallel at a time, each read into a fresh value and
// applied in a fixed order, and the transcript lists them in that order.
func (d *Driver) Read(ctx context.Context) (State, error) {
	if err := d.ensure(ctx); err != nil {
		return State{}, err
	}
	pctx, stopProbes := context.WithCancel(ctx)
	defer stopProbes()
	var obs observation
	var wg sync.WaitGroup
	wg.Go(func() { obs.ports = d.probePorts(pctx) })
	identity, err := d.readIdentity(ctx)
	if err != nil {
		stopProbes()
		wg.Wait()
		return State{}, err
	}
	wg.Go(func() { d.observe(pctx, &obs) })

	steps := []readStep{d.readRoles, d.readUsers, d.readServices,
		d.readSwitch(SvcLocalConsole, "/system/serialconsole", "the local console", false),
		d.readSSHServer,
		d.readSwitch(SvcDiscovery, quirks.DiscoveryPath, "discovery", true),
		d.readSwitch(SvcNAT, quirks.NATPath, "NAT", true),
		d.readHTTPServer, d.readTime,
		d.readInterfaces("/device/ethernets", KindEthernet), d.readInterfaces("/device/cellulars", KindCellular),
		d.readInterfaces("/device/dhcpservers", KindDHCPServer), d.readWiFi,
		d.readFirewall, d.readLogs,
		d.readAzureDevice, d.readAzureEdge, d.readAWS,
		d.readMQTTLike("/mqtt", AppMQTT, "MQTT client"), d.readMQTTLike("/sparkplug/brokers", AppSparkplug, "Sparkplug broker"),
	}
	applies := make([]func(*State), len(steps))
	tasks := make([]func(context.Context) error, len(steps))
	for i, st := range steps {
		tasks[i] = func(ctx context.Context) error {
			f, err := st(ctx)
			applies[i] = f
			return err
		}
	}
	err = transport.RunOrdered(ctx, readParallel, tasks...)
	if err != nil {
		stopProbes()
	}
	wg.Wait()
	if err != nil {
		return State{}, err
	}
	s := State{User: d.o.User, GatewayAddr: d.addr, Services: map[string]bool{}, ClientAddr: d.c.localAddr()}
	if d.defaultLogin != nil {
		v := *d.defaultLogin
		s.DefaultLogin = &v
	}
	identity(&s)
	for _, f := range applies {
		if f != nil {
			f(&s)
		}
	}
	obs.apply(&s)
	return s, nil
}

func (d *Driver) readIdentity(ctx context.Context) (func(*State), error) {
	var general struct {
		HostName, ModelName, SerialNumber, ThingsproVersion, FirmwareVersion string
	}
	if err := d.c.get(ctx, "/device/general", &general); err != nil {
		return nil, fmt.Errorf("read the gateway's identity: %w", err)
	}
	return func(s *State) {
		s.Identity = devices.Identity{Family: "thingspro", Model: printable.String(general.ModelName),
			Firmware: strings.TrimSpace("ThingsPro Edge " + printable.String(general.ThingsproVersion)),
			Serial:   printable.String(general.SerialNumber), Name: printable.String(general.HostName),
			Address: d.host, Sources: []string{"api"}}
	}, nil
}

func (d *Driver) readRoles(ctx context.Context) (func(*State), error) {
	roles, err := d.getRoles(ctx)
	if err != nil {
		return nil, err
	}
	return func(s *State) { s.Roles = roles }, nil
}

// readUsers reads /users; the accounts are named from the roles, which
// the step before reads and applies first.
func (d *Driver) readUsers(ctx context.Context) (func(*State), error) {
	var users []apiUser
	if err := d.c.get(ctx, "/users", &users); err != nil {
		return nil, fmt.Errorf("read users: %w", err)
	}
	return func(s *State) { s.Users = usersOf(users, s.Roles) }, nil
}

func (d *Driver) readServices(ctx context.Context) (func(*State), error) {
	var groups map[string][]svcItem
	if err := d.c.get(ctx, "/system/services", &groups); err != nil {
		return nil, fmt.Errorf("read services: %w", err)
	}
	return func(s *State) {
		for _, g := range []string{"service", "provisionService"} {
			for _, it := range groups[g] {
				s.setService(it.ID, it.Enable, "/system/services")
			}
		}
	}, nil
}

// readSwitch reads one {"enable": bool} setting; optional ones may be
// missing (404) on a gateway.
func (d *Driver) readSwitch(svc, path, what string, optional bool) readStep {
	return func(ctx context.Context) (func(*State), error) {
		var v onOff
		err := d.c.get(ctx, path, &v)
		switch {
		case err == nil:
			return func(s *State) { s.setService(svc, v.Enable, path) }, nil
		case optional && errors.Is(err, ErrNotFound):
			return nil, nil
		}
		return nil, fmt.Errorf("read %s: %w", what, err)
	}
}

func (d *Driver) readSSHServer(ctx context.Context) (func(*State), error) {
	var ssh struct {
		Enable    *bool `json:"enable"`
		SSHEnable *bool `json:"sshEnable"`
	}
	if err := d.c.get(ctx, "/system/sshserver", &ssh); err != nil {
		return nil, fmt.Errorf("read the SSH server: %w", err)
	}
	if ssh.Enable == nil {
		ssh.Enable = ssh.SSHEnable
	}
	return func(s *State) { s.setService(SvcSSH, ssh.Enable, "/system/sshserver") }, nil
}

func (d *Driver) readHTTPServer(ctx context.Context) (func(*State), error) {
	var hs struct {
		HTTPEnable   bool   `json:"httpEnable"`
		HTTPPort     int    `json:"httpPort"`
		HTTPSEnable  bool   `json:"httpsEnable"`
		HTTPSPort    int    `json:"httpsPort"`
		CertFileName string `json:"certFileName"`
		CertFilename string `json:"certFilename"`
	}
	if err := d.c.get(ctx, "/system/httpserver", &hs); err != nil {
		return nil, fmt.Errorf("read the HTTP server: %w", err)
	}
	return func(s *State) {
		s.HTTP = HTTPServer{HTTPEnable: hs.HTTPEnable, HTTPPort: hs.HTTPPort, HTTPSEnable: hs.HTTPSEnable, HTTPSPort: hs.HTTPSPort,
			CertFileName: printable.String(hs.CertFileName + hs.CertFilename)}
	}, nil
}

func (d *Driver) readTime(ctx context.Context) (func(*State), error) {
	var tm struct {
		Time           string `json:"time"`
		Timezone       string `json:"timezone"`
		LastUpdateTime string `json:"lastUpdateTime"`
		NTP            struct {
			Enable   bool   `json:"enable"`
			Server   string `json:"server"`
			Interval int    `json:"interval"`
		} `json:"ntp"`
	}
	if err := d.c.get(ctx, "/device/time", &tm); err != nil {
		return nil, fmt.Errorf("read time settings: %w", err)
	}
	return func(s *State) {
		s.Time = Time{Zone: printable.String(tm.Timezone), Time: printable.String(tm.Time), NTP: tm.NTP.Enable,
			Server: printable.String(tm.NTP.Server), Interval: tm.NTP.Interval, LastUpdate: printable.String(tm.LastUpdateTime)}
	}, nil
}

// readInterfaces reads one list of interfaces; a 404 is none of that kind.
func (d *Driver) readInterfaces(path, kind string) readStep {
	return func(ctx context.Context) (func(*State), error) {
		var list []ifaceJSON
		if err := d.c.get(ctx, path, &list); err != nil {
			if errors.Is(err, ErrNotFound) {
				return nil, nil
			}
			return nil, fmt.Errorf("read %s: %w", kind, err)
		}
		return func(s *State) {
			for _, it := range list {
				s.Interfaces = append(s.Interfaces, Interface{Kind: kind, ID: it.ID, Name: printable.String(it.DisplayName), Enable: it.Enable != nil && *it.Enable,
					EnableUnknown: it.Enable == nil, IP: printable.String(it.IP)})
			}
		}, nil
	}
}

func (d *Driver) readWiFi(ctx context.Context) (func(*State), error) {
	var wifiRaw json.RawMessage
	if err := d.c.get(ctx, "/device/wifi", &wifiRaw); err != nil {
		if errors.Is(err, ErrNotFound) {
			return nil, nil
		}
		return nil, fmt.Errorf("read Wi-Fi: %w", err)
	}
	// the schema says an array, the reference an object: take both
	var list []ifaceJSON
	if json.Unmarshal(wifiRaw, &list) != nil {
		var one ifaceJSON
		if err := json.Unmarshal(wifiRaw, &one); err != nil {
			return nil, fmt.Errorf("read Wi-Fi: unexpected reply: %w", err)
		}
		list = []ifaceJSON{one}
	}
	return func(s *State) {
		for _, w := range list {
			s.Interfaces = append(s.Interfaces, Interface{Kind: KindWiFi, ID: w.ID, Name: printable.String(w.DisplayName), Enable: w.Enable != nil && *w.Enable,
				EnableUnknown: w.Enable == nil, Mode: printable.String(w.Mode)})
		}
	}, nil
}

func (d *Driver) readFirewall(ctx context.Context) (func(*State), error) {
	var rules []struct {
		ID          int    `json:"id"`
		Name        string `json:"name"`
		Priority    int    `json:"priority"`
		GatewayPort string `json:"gatewayPort"`
		Protocol    string `json:"protocol"`
		SourceIP    string `json:"sourceIp"`
		Action      string `json:"action"`
	}
	if err := d.c.get(ctx, "/device/firewall/inbounds", &rules); err != nil {
		return nil, fmt.Errorf("read the firewall: %w", err)
	}
	return func(s *State) {
		for _, r := range rules {
			s.Firewall = append(s.Firewall, FirewallRule{ID: r.ID, Name: printable.String(r.Name), Priority: r.Priority, Port: printable.String(r.GatewayPort),
				Protocol: printable.String(r.Protocol), Source: printable.String(r.SourceIP), Action: printable.String(r.Action)})
		}
	}, nil
}

func (d *Driver) readLogs(ctx context.Context) (func(*State), error) {
	var sysLog, evLog struct {
		Enable bool    `json:"enable"`
		SizeMB flexInt `json:"desiredDiskCacheSizeMB"`
	}
	if err := d.c.get(ctx, "/system/log", &sysLog); err != nil {
		return nil, fmt.Errorf("read the system log settings: %w", err)
	}
	if err := d.c.get(ctx, "/events/configuration", &evLog); err != nil {
		return nil, fmt.Errorf("read the event log settings: %w", err)
	}
	return func(s *State) {
		s.Log = LogStorage{SystemEnable: sysLog.Enable, SystemMB: int(sysLog.SizeMB), EventEnable: evLog.Enable, EventMB: int(evLog.SizeMB)}
	}, nil
}

// cloudApp is the apply of one cloud app's step.
func cloudApp(apps ...CloudApp) func(*State) {
	return func(s *State) { s.Cloud = append(s.Cloud, apps...) }
}

// readAzureDevice reads Azure IoT Device; a 404 is "not installed".
func (d *Driver) readAzureDevice(ctx context.Context) (func(*State), error) {
	var az struct {
		Provisioning struct {
			Enable             bool      `json:"enable"`
			AuthenticationType string    `json:"authenticationType"`
			Certificate        certFiles `json:"certificate"`
		} `json:"provisioning"`
	}
	a := CloudApp{App: AppAzureDevice, Name: "Azure IoT Device"}
	if err := d.c.get(ctx, "/azure-device", &az); err == nil {
		a.Installed, a.Enabled = true, az.Provisioning.Enable
		a.Auth = printable.String(az.Provisioning.AuthenticationType)
		if a.Auth == "x509" && (az.Provisioning.Certificate.Cert == "" || az.Provisioning.Certificate.Key == "") {
			a.Notes = append(a.Notes, "X.509 selected but no device certificate or key uploaded")
			a.Auth = "none"
		}
	} else if !errors.Is(err, ErrNotFound) {
		return nil, fmt.Errorf("read Azure IoT Device: %w", err)
	}
	return cloudApp(a), nil
}

// readAzureEdge reads Azure IoT Edge; a 404 is "not installed".
func (d *Driver) readAzureEdge(ctx context.Context) (func(*State), error) {
	var edge struct {
		Provisioning struct {
			Enable bool   `json:"enable"`
			Source string `json:"source"`
			Method string `json:"method"`
		} `json:"provisioning"`
	}
	a := CloudApp{App: AppAzureEdge, Name: "Azure IoT Edge"}
	if err := d.c.get(ctx, "/azure-iotedge", &edge); err == nil {
		a.Installed, a.Enabled = true, edge.Provisioning.Enable
		switch {
		case edge.Provisioning.Source == "dps" && edge.Provisioning.Method == "x509":
			a.Auth = "x509"
		case edge.Provisioning.Source == "manual":
			a.Auth = "connectionString"
		default:
			a.Auth = printable.String(edge.Provisioning.Method)
		}
	} else if !errors.Is(err, ErrNotFound) {
		return nil, fmt.Errorf("read Azure IoT Edge: %w", err)
	}
	return cloudApp(a), nil
}

// readAWS reads AWS IoT Core; a 404 is "not installed".
func (d *Driver) readAWS(ctx context.Context) (func(*State), error) {
	var aws struct {
		Provisioning struct {
			Enable      bool      `json:"enable"`
			Certificate certFiles `json:"certificate"`
		} `json:"provisioning"`
	}
	a := CloudApp{App: AppAWS, Name: "AWS IoT Core"}
	if err := d.c.get(ctx, "/aws", &aws); err == nil {
		a.Installed, a.Enabled, a.Auth = true, aws.Provisioning.Enable, "x509"
		if c := aws.Provisioning.Certificate; c.Cert == "" || c.Key == "" {
			a.Auth = "none"
			a.Notes = append(a.Notes, "no device certificate or key uploaded")
		}
	} else if !errors.Is(err, ErrNotFound) {
		return nil, fmt.Errorf("read AWS IoT Core: %w", err)
	}
	return cloudApp(a), nil
}

// mqttLike is an MQTT client or a Sparkplug broker.
type mqttLike struct {
	ID                 int       `json:"id"`
	Enable             bool      `json:"enable"`
	Port               int       `json:"port"`
	UserName           string    `json:"userName"`
	Password           string    `json:"password"`
	CertificateOverTLS bool      `json:"certificateOverTLS"`
	InsecureSkipVerify bool      `json:"insecureSkipVerify"`
	Certificate        certFiles `json:"certificate"`
}

func classifyMQTT(app, name string, m mqttLike) CloudApp {
	a := CloudApp{App: app, Name: fmt.Sprintf("%s %d", name, m.ID), Installed: true, Enabled: m.Enable}
	switch {
	case m.CertificateOverTLS && m.Certificate.Cert != "" && m.Certificate.Key != "":
		a.Auth = "x509"
	case m.UserName != "" || m.Password != "":
		a.Auth = "password"
	default:
		a.Auth = "none"
	}
	if m.InsecureSkipVerify {
		a.Notes = append(a.Notes, "insecureSkipVerify is on: the broker's certificate is not checked")
	}
	if m.Port == 1883 {
		a.Notes = append(a.Notes, "port 1883 is plain MQTT without TLS")
	}
	return a
}

// readMQTTLike reads the MQTT clients or the Sparkplug brokers; a 404
// is "not installed".
func (d *Driver) readMQTTLike(path, app, name string) readStep {
	return func(ctx context.Context) (func(*State), error) {
		var list []mqttLike
		if err := d.c.get(ctx, path, &list); err != nil {
			if errors.Is(err, ErrNotFound) {
				return cloudApp(CloudApp{App: app, Name: name}), nil
			}
			return nil, fmt.Errorf("read %s: %w", name, err)
		}
		if len(list) == 0 {
			return cloudApp(CloudApp{App: app, Name: name, Installed: true}), nil
		}
		var out []CloudApp
		for _, m := range list {
			out = append(out, classifyMQTT(app, name, m))
		}
		return cloudApp(out...), nil
	}
}

// observation is what the outside probes and the shell saw.
type observation struct {
	ports      map[string]probe.Result
	tls        probe.TLSReport
	cert       *transport.CertInfo
	shellAsked bool
	listening  []Listener
	newKey     string
	shellErr   string
}

func (o observation) apply(s *State) {
	s.Observed.Ports, s.Observed.TLS, s.Observed.Cert = o.ports, o.tls, o.cert
	switch {
	case !o.shellAsked:
	case o.shellErr != "":
		s.ShellError = o.shellErr
	default:
		s.Listening, s.ShellNewKey = o.listening, o.newKey
		if s.Listening == nil {
			s.Listening = []Listener{}
		}
		s.Identity.Sources = append(s.Identity.Sources, "ssh")
	}
}

// probePorts probes the gateway's ports from outside.
func (d *Driver) probePorts(ctx context.Context) map[string]probe.Result {
	targets := []probe.Target{
		{Name: "https", Network: "tcp", Port: d.port("https")},
		{Name: "http", Network: "tcp", Port: d.port("http")},
		{Name: "ssh", Network: "tcp", Port: d.port("ssh")},
		{Name: "discovery", Network: "udp", Port: d.port("discovery"), Request: []byte("{}")},
	}
	out := map[string]probe.Result{}
	for _, r := range probe.Run(ctx, d.host, targets, d.o.Timeout) {
		out[r.Name] = r
	}
	return out
}

// observe probes the HTTPS port's TLS and, when configured, asks the
// gateway's shell, both at once, into o.
func (d *Driver) observe(ctx context.Context, o *observation) {
	var wg sync.WaitGroup
	if cfg := d.sshConfig(); cfg != nil {
		o.shellAsked = true
		wg.Go(func() {
			ls, newKey, err := d.shellListening(ctx, *cfg)
			if err != nil {
				o.shellErr = printable.String(err.Error())
				return
			}
			o.listening, o.newKey = ls, newKey
		})
	}
	// the API client's own verified connection is the https port's: the
	// probe repeats none of what it showed
	var seen *transport.TLSSeen
	if s, ok := d.c.rc.TLSSeen(); ok {
		seen = &s
	}
	o.tls = probe.TLSWith(ctx, d.host, d.port("https"), d.o.Timeout, seen)
	if c := o.tls.Cert; c != nil {
		if b, _ := pem.Decode([]byte(c.PEM)); b != nil {
			if cert, err := x509.ParseCertificate(b.Bytes); err == nil {
				ci := transport.DescribeCert(cert, time.Now())
				ci.Subject = printable.String(ci.Subject)
				o.cert = &ci
			}
		}
	}
	wg.Wait()
}

// sshConfig is the shell login to use: Options.SSH, else one a step gave.
func (d *Driver) sshConfig() *sshconn.Config {
	if d.o.SSH != nil {
		return d.o.SSH
	}
	return d.shell
}

// knownHosts is where step-given SSH logins pin the gateway's host key.
func (d *Driver) knownHosts() string {
	switch {
	case d.o.KnownHosts != "":
		return d.o.KnownHosts
	case d.o.SSH != nil && d.o.SSH.KnownHosts != "":
		return d.o.SSH.KnownHosts
	case d.o.Pins != nil && d.o.Pins.Path() != "":
		return filepath.Join(filepath.Dir(d.o.Pins.Path()), "known_hosts")
	}
	return ""
}

// shellListening asks the gateway's shell what listens. newKey is the
// host key's fingerprint when it was remembered now (first use).
func (d *Driver) shellListening(ctx context.Context, cfg sshconn.Config) (ls []Listener, newKey string, err error) {
	if cfg.Timeout <= 0 {
		cfg.Timeout = d.o.Timeout
	}
	c, err := sshconn.Dial(ctx, net.JoinHostPort(d.host, strconv.Itoa(d.port("ssh"))), cfg)
	if err != nil {
		return nil, "", err
	}
	defer c.Close()
	out, err := c.Run(ctx, sshconn.ListenCommand)
	if err != nil {
		return nil, "", err
	}
	socks, err := sshconn.ParseListening(out)
	if err != nil {
		return nil, "", err
	}
	for _, k := range socks {
		ls = append(ls, Listener{Proto: k.Proto, Addr: k.Addr, Port: k.Port})
	}
	return ls, c.NewHostKey, nil
}

// Stage sends every difference between from and to. It stops at the
// first refusal; what was sent before stays sent.
func (d *Driver) Stage(ctx context.Context, from, to State) error {
	if err := d.ensure(ctx); err != nil {
		return err
	}
	put := func(path string, body any) error {
		return d.c.do(ctx, http.MethodPut, path, request{json: body}, nil)
	}
	// accounts: create (each read back and its roles proven), passwords,
	// then deletions and deactivations, each after a fresh read shows
	// another active administrator
	for _, u := range to.Users {
		if _, ok := from.UserByName(u.Name); ok || u.Delete {
			continue
		}
		pw, ok := to.Secrets[u.Name]
		if !ok {
			return fmt.Errorf("no password given for the new account %q", u.Name)
		}
		var ids []int
		for _, rn := range u.Roles {
			id, err := d.roleID(ctx, &to, rn)
			if err != nil {
				return err
			}
			ids = append(ids, id)
		}
		if err := d.createUser(ctx, u.Name, pw, ids, to.Roles); err != nil {
			return fmt.Errorf("create account %s: %w", u.Name, err)
		}
	}
	for name, pw := range to.Secrets {
		old, ok := from.UserByName(name)
		if prev, had := from.Secrets[name]; !ok || old.ID == 0 || (had && prev == pw) {
			continue // a new account (set at creation) or already sent
		}
		if err := put("/users/"+strconv.Itoa(old.ID)+"/password", map[string]string{"newPassword": pw}); err != nil {
			return fmt.Errorf("change the password of %s: %w", name, err)
		}
		if name == d.o.User {
			d.c.mu.Lock()
			d.c.pw = pw
			d.c.mu.Unlock()
		}
		if name == DefaultUser {
			f := false
			d.defaultLogin = &f
		}
	}
	for _, u := range to.Users {
		old, ok := from.UserByName(u.Name)
		switch {
		case !ok || old.ID == 0:
		case u.Delete && !old.Delete:
			if err := d.requireOtherAdmin(ctx, old.ID, u.Name); err != nil {
				return err
			}
			if err := d.c.do(ctx, http.MethodDelete, "/users/"+strconv.Itoa(old.ID), request{}, nil); err != nil {
				return fmt.Errorf("delete account %s: %w", u.Name, err)
			}
		case u.Active != old.Active:
			if !u.Active {
				if err := d.requireOtherAdmin(ctx, old.ID, u.Name); err != nil {
					return err
				}
			}
			active := u.Active
			if err := d.changeUser(ctx, old.ID, u.Name, func(w *writable) { w.isActive = active }); err != nil {
				return fmt.Errorf("change account %s: %w", u.Name, err)
			}
		}
	}
	// interfaces
	for _, it := range to.Interfaces {
		i := slices.IndexFunc(from.Interfaces, func(x Interface) bool { return x.Kind == it.Kind && x.ID == it.ID })
		if i < 0 || it.EnableUnknown || (from.Interfaces[i].Enable == it.Enable && !from.Interfaces[i].EnableUnknown) {
			continue
		}
		path, body := "", map[string]any{"enable": it.Enable}
		switch it.Kind {
		case KindEthernet:
			// the schema wants the whole addressing with the flag
			path = "/device/ethernets/"
			cur, err := d.ethernet(ctx, it.ID)
			if err != nil {
				return fmt.Errorf("turn %s %s: %w", it.Name, onOffWord(it.Enable), err)
			}
			body["enableDhcp"], body["wan"] = cur.EnableDHCP, cur.WAN
			if !cur.EnableDHCP {
				body["ip"], body["netmask"] = cur.IP, cur.Netmask
				if cur.Gateway != "" {
					body["gateway"] = cur.Gateway
				}
				if cur.DNS != nil {
					body["dns"] = cur.DNS
				}
			}
		case KindCellular:
			path = "/device/cellulars/"
		case KindDHCPServer:
			path, body["id"] = "/device/dhcpservers/", it.ID
		case KindWiFi:
			path, body["type"], body["mode"] = "/device/wifi/", "wifi", orDefault(it.Mode, "client")
		}
		if err := d.c.do(ctx, http.MethodPatch, path+strconv.Itoa(it.ID), request{json: body}, nil); err != nil {
			return fmt.Errorf("turn %s %s: %w", it.Name, onOffWord(it.Enable), err)
		}
	}
	// services, in a fixed order, HTTPS never automated
	ids := make([]string, 0, len(to.Services))
	for id := range to.Services {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		on := to.Services[id]
		was, ok := from.Services[id]
		if (!ok && from.Unknown[id] == "") || (ok && was == on) {
			continue // not on this gateway, or no change
		}
		var err error
		switch id {
		case SvcHTTPS:
			return errors.New("the tool does not turn the HTTPS service off: it is its own way in; do it by hand as the last step")
		case SvcLocalConsole:
			err = put("/system/serialconsole", map[string]bool{"enable": on})
		case SvcSSH:
			err = put("/system/sshserver", map[string]any{"enable": on, "port": quirks.SSHPort})
		case SvcDiscovery:
			err = put(quirks.DiscoveryPath, map[string]bool{"enable": on})
		case SvcNAT:
			err = put(quirks.NATPath, map[string]bool{"enable": on})
		case SvcProvision:
			err = put(quirks.ProvisionPath, map[string]any{"enable": on, "schedule": map[string]any{"enable": on && to.Services["provisionschedule"], "disableAfterSec": quirks.ProvisionOffAfterSec}})
		default:
			err = d.c.do(ctx, http.MethodPut, "/system/services/"+id+"/"+map[bool]string{true: "enable", false: "disable"}[on], request{}, nil)
		}
		if err != nil {
			return fmt.Errorf("turn %s %s: %w", id, onOffWord(on), err)
		}
	}
	// time
	if to.Time.Zone != from.Time.Zone || to.Time.NTP != from.Time.NTP || to.Time.Server != from.Time.Server {
		body := map[string]any{}
		if to.Time.Zone != from.Time.Zone {
			body["timezone"] = to.Time.Zone
		}
		if to.Time.NTP != from.Time.NTP || to.Time.Server != from.Time.Server {
			body["ntp"] = map[string]any{"enable": to.Time.NTP, "source": "timeserver", "server": to.Time.Server}
		}
		if err := d.c.do(ctx, http.MethodPatch, "/device/time", request{json: body}, nil); err != nil {
			return fmt.Errorf("set the time settings: %w", err)
		}
	}
	// firewall: a rule marked DeleteIfIdle goes only if the shell, asked
	// now, shows nothing listening on its port
	if to.Shell != nil && (from.Shell == nil || *from.Shell != *to.Shell) {
		kh := d.knownHosts()
		if kh == "" {
			return errors.New("no known_hosts file to pin the gateway's SSH host key: the tool cannot check what listens over SSH")
		}
		d.shell = &sshconn.Config{User: to.Shell.User, Password: to.Shell.Password, KnownHosts: kh, Timeout: d.o.Timeout}
	}
	var del []int
	var listening *State
	for _, r := range to.Firewall {
		i := slices.IndexFunc(from.Firewall, func(x FirewallRule) bool { return x.ID == r.ID })
		switch {
		case r.Delete && (i < 0 || !from.Firewall[i].Delete):
			del = append(del, r.ID)
		case r.DeleteIfIdle && (i < 0 || !from.Firewall[i].DeleteIfIdle):
			if listening == nil {
				cfg := d.sshConfig()
				if cfg == nil {
					return fmt.Errorf("rule #%d is to go only if nothing listens on its port, but no SSH login was given: nothing was deleted", r.ID)
				}
				ls, _, err := d.shellListening(ctx, *cfg)
				if err != nil {
					return fmt.Errorf("check over SSH what listens before deleting a firewall rule (nothing was deleted): %w", err)
				}
				listening = &State{Listening: ls, GatewayAddr: d.addr}
			}
			port, err := strconv.Atoi(r.Port)
			if err != nil || port <= 0 {
				continue // not a single port: the tool cannot tell; it stays
			}
			proto := "tcp"
			if r.Protocol == "udp" {
				proto = "udp"
			}
			if !listening.ListeningOn(proto, port) {
				del = append(del, r.ID)
			}
		}
	}
	if len(del) > 0 {
		if err := d.c.do(ctx, http.MethodDelete, "/device/firewall/inbounds", request{json: del}, nil); err != nil {
			return fmt.Errorf("delete firewall rules: %w", err)
		}
	}
	// certificate last: it changes what the HTTPS port shows
	if to.NewCert != nil && (from.NewCert == nil || *from.NewCert != *to.NewCert) {
		if err := d.importCert(ctx, *to.NewCert); err != nil {
			return err
		}
	}
	return nil
}

// ethernet reads one LAN port's addressing.
func (d *Driver) ethernet(ctx context.Context, id int) (ifaceJSON, error) {
	var list []ifaceJSON
	if err := d.c.get(ctx, "/device/ethernets", &list); err != nil {
		return ifaceJSON{}, err
	}
	for _, e := range list {
		if e.ID == id {
			return e, nil
		}
	}
	return ifaceJSON{}, fmt.Errorf("LAN port %d: %w", id, ErrNotFound)
}

func orDefault(s, def string) string {
	if s == "ap" || s == "client" {
		return s
	}
	return def
}

func onOffWord(on bool) string {
	if on {
		return "on"
	}
	return "off"
}

// roleID finds a role by name, creating it (device management only) if missing.
func (d *Driver) roleID(ctx context.Context, s *State, name string) (int, error) {
	for _, r := range s.Roles {
		if strings.EqualFold(r.Name, name) && r.ID > 0 {
			return r.ID, nil
		}
	}
	var created struct {
		ID int `json:"id"`
	}
	body := map[string]any{"name": name, "description": "created by commission", "permissions": []string{"SYS_MAINTENANCE_RW"}}
	if err := d.c.do(ctx, http.MethodPost, "/roles", request{json: body}, &created); err != nil {
		return 0, fmt.Errorf("create role %s: %w", name, err)
	}
	s.Roles = append(s.Roles, Role{ID: created.ID, Name: name, Permissions: []string{"SYS_MAINTENANCE_RW"}})
	return created.ID, nil
}

// importCert validates the pair again and uploads it; on success the
// new certificate becomes the pinned one.
func (d *Driver) importCert(ctx context.Context, ci CertImport) error {
	p, err := ParseCertKey(ci.CertPEM, ci.KeyPEM, time.Now())
	if err != nil {
		return err
	}
	if d.addr.IsValid() {
		if err := p.CoversAddress(d.addr); err != nil {
			return err
		}
	}
	err = d.c.do(ctx, http.MethodPut, "/system/httpserver", request{parts: []transport.Part{
		{Field: "certFile", FileName: "commission.crt", ContentType: "application/x-pem-file", Data: []byte(ci.CertPEM)},
		{Field: "keyFile", FileName: "commission.key", ContentType: "application/x-pem-file", Data: []byte(p.KeyPEM), Secret: true},
	}}, nil)
	if err != nil {
		return fmt.Errorf("import the HTTPS certificate: %w", err)
	}
	fp := transport.Fingerprint(p.Cert.Raw)
	d.mu.Lock()
	d.newCert = fp
	d.mu.Unlock()
	if d.o.Pins != nil {
		if err := d.o.Pins.Trust(d.https, fp); err != nil {
			return fmt.Errorf("the certificate was imported, but pinning it failed: %w", err)
		}
	}
	d.c.rc.Close()
	return nil
}

// Commit makes what was staged effective. ThingsPro Edge applies every
// setting when its call is answered, so Commit waits only where a
// verifying read could meet a setting half applied: after a certificate
// import it waits (awaitCert) until the HTTPS port presents the new
// certificate. A service switched through the API needs no wait: the
// verifying read probes its port from outside.
func (d *Driver) Commit(ctx context.Context, progress func(string)) error {
	if err := d.ensure(ctx); err != nil {
		return err
	}
	d.mu.Lock()
	fp := d.newCert
	d.newCert = ""
	d.mu.Unlock()
	d.c.rc.Close()
	if fp == "" {
		if progress != nil {
			progress("the gateway applies settings at once; nothing to restart")
		}
		return nil
	}
	if progress != nil {
		progress("waiting for the HTTPS port to present the imported certificate")
	}
	return d.awaitCert(ctx, fp)
}

// setService records a service's state; a reply without the field makes
// it unknown.
func (s *State) setService(id string, on *bool, path string) {
	if on == nil {
		if s.Unknown == nil {
			s.Unknown = map[string]string{}
		}
		s.Unknown[id] = "the reply of " + path + " does not say whether it is on"
		delete(s.Services, id)
		return
	}
	s.Services[id] = *on
	delete(s.Unknown, id)
}
