// Package thingspro is the driver for Moxa ThingsPro Edge 2.x gateways
// (UC-8100/8200/3100/2100, AIG-301/501). It talks to the gateway's REST
// API on HTTPS 8443 with a bearer token, confirms from outside with port
// and TLS probes, and, when an SSH login is given, asks the gateway's
// own shell which ports listen.
//
// Steps are plain functions of State; the driver reads a State, and
// stages the difference between two States back onto the gateway.
package thingspro

import (
	"maps"
	"net/netip"
	"slices"

	"github.com/commission-tool/commission/internal/devices"
	"github.com/commission-tool/commission/internal/probe"
	"github.com/commission-tool/commission/internal/transport"
)

// Service ids as /system/services names them, plus "discovery" and
// "nat" which have their own endpoints.
const (
	SvcHTTP         = "httpservice"
	SvcHTTPS        = "httpsservice"
	SvcLocalConsole = "localconsole"
	SvcSDCard       = "sdcard"
	SvcSSH          = "sshserver"
	SvcNAT          = "nat"
	SvcProvision    = "provision"
	SvcDiscovery    = "discovery"
	SvcNTP          = "ntp"
)

// Interface kinds.
const (
	KindEthernet   = "ethernet"
	KindCellular   = "cellular"
	KindWiFi       = "wifi"
	KindDHCPServer = "dhcpserver"
)

// DefaultUser and DefaultPassword are the factory web/API account.
const (
	DefaultUser     = "admin"
	DefaultPassword = "admin@123"
)

// AdminRole is the built-in role with every permission.
const AdminRole = "Administrator"

// State is everything the guide cares about on one gateway.
type State struct {
	Identity devices.Identity `json:"identity"`
	// User is the account the tool is logged in with.
	User string `json:"user"`
	// ClientAddr is the tool's address as the gateway sees it.
	ClientAddr netip.Addr `json:"client_addr"`
	// GatewayAddr is the address the tool reaches the gateway at.
	GatewayAddr netip.Addr `json:"gateway_addr"`

	Users []User `json:"users"`
	Roles []Role `json:"roles"`
	// DefaultLogin is true when the tool itself logged in with the
	// factory password, false when the factory account's password is
	// known to be changed, nil when unknown.
	DefaultLogin *bool `json:"default_login,omitempty"`

	Interfaces []Interface `json:"interfaces"`
	// Services maps a service id (Svc*) to whether it is enabled. A
	// service the gateway does not know is absent.
	Services map[string]bool `json:"services"`
	HTTP     HTTPServer      `json:"http"`
	Time     Time            `json:"time"`
	Firewall []FirewallRule  `json:"firewall"`
	Log      LogStorage      `json:"log"`
	Cloud    []CloudApp      `json:"cloud"`

	// Listening is what the gateway's shell says listens (ss -ltnu),
	// nil when the tool had no SSH login.
	Listening []Listener `json:"listening,omitempty"`
	// ShellError says why the shell could not be asked, when it was tried.
	ShellError string `json:"shell_error,omitempty"`
	// ShellNewKey is the SSH host key fingerprint remembered on this
	// read (first use); empty when the key was already known.
	ShellNewKey string `json:"shell_new_key,omitempty"`
	// Unknown names settings whose reply lacked the field that says
	// whether they are on (service id -> what was missing). Such a
	// setting is absent from Services: unknown, never inherited.
	Unknown map[string]string `json:"unknown,omitempty"`

	Observed Observed `json:"observed"`

	// NewCert is a certificate and key to import; desired states only.
	NewCert *CertImport `json:"-"`
	// Shell is an SSH login to the gateway's shell given in a step;
	// desired states only. With it, Stage checks what listens before it
	// deletes a rule marked DeleteIfIdle, and later reads ask the shell.
	Shell *ShellLogin `json:"-"`
	// Secrets holds new passwords by account name. It is never serialised
	// and never leaves the driver except in a request body.
	Secrets map[string]string `json:"-"`
}

// User is one account.
type User struct {
	ID              int      `json:"id"`
	Name            string   `json:"name"`
	Active          bool     `json:"active"`
	Roles           []string `json:"roles"`
	PasswordChanged bool     `json:"password_changed"` // changedPasswordAt is set
	// RolesProven is true when Roles are what the gateway itself reported
	// for the account (a read), false for an account only planned.
	RolesProven bool `json:"roles_proven"`
	// Delete marks the account for deletion in a desired state.
	Delete bool `json:"-"`
}

// Admin reports whether the user holds the Administrator role.
func (u User) Admin() bool { return slices.Contains(u.Roles, AdminRole) }

// Role is one role and its permission ids.
type Role struct {
	ID          int      `json:"id"`
	Name        string   `json:"name"`
	Permissions []string `json:"permissions"`
}

// Interface is one network interface (or DHCP server) of the gateway.
type Interface struct {
	Kind   string `json:"kind"` // Kind*
	ID     int    `json:"id"`
	Name   string `json:"name"` // display name, e.g. "LAN1", "Wi-Fi1"
	Enable bool   `json:"enable"`
	IP     string `json:"ip,omitempty"`
	Mode   string `json:"mode,omitempty"` // Wi-Fi: "ap" or "client"
	// EnableUnknown is true when the gateway's reply did not say whether
	// the interface is on; Enable is then false and means nothing.
	EnableUnknown bool `json:"enable_unknown,omitempty"`
}

// HTTPServer is /system/httpserver.
type HTTPServer struct {
	HTTPEnable   bool   `json:"http_enable"`
	HTTPPort     int    `json:"http_port"`
	HTTPSEnable  bool   `json:"https_enable"`
	HTTPSPort    int    `json:"https_port"`
	CertFileName string `json:"cert_file_name"`
}

// Time is /device/time.
type Time struct {
	Zone       string `json:"zone"`
	Time       string `json:"time"`
	NTP        bool   `json:"ntp"`
	Server     string `json:"server"`
	Interval   int    `json:"interval"`
	LastUpdate string `json:"last_update"` // "-" when never synced
}

// FirewallRule is one user inbound rule.
type FirewallRule struct {
	ID       int    `json:"id"`
	Name     string `json:"name"`
	Priority int    `json:"priority"`
	Port     string `json:"port"` // gatewayPort
	Protocol string `json:"protocol"`
	Source   string `json:"source"`
	Action   string `json:"action"` // allow or forward
	// Delete marks the rule for deletion in a desired state.
	Delete bool `json:"-"`
	// DeleteIfIdle marks the rule for deletion only if the gateway's
	// shell, asked right before, shows nothing listening on its port.
	DeleteIfIdle bool `json:"-"`
}

// ShellLogin is an SSH login to the gateway's shell (Password is secret).
type ShellLogin struct {
	User     string
	Password string
}

// LogStorage is /system/log and /events/configuration.
type LogStorage struct {
	SystemEnable bool `json:"system_enable"`
	SystemMB     int  `json:"system_mb"`
	EventEnable  bool `json:"event_enable"`
	EventMB      int  `json:"event_mb"`
}

// Cloud app names.
const (
	AppAzureDevice = "azure-device"
	AppAzureEdge   = "azure-iotedge"
	AppAWS         = "aws"
	AppMQTT        = "mqtt"
	AppSparkplug   = "sparkplug"
)

// CloudApp is one cloud connection (an MQTT client or Sparkplug broker
// each count as one).
type CloudApp struct {
	App       string `json:"app"`  // App*
	Name      string `json:"name"` // e.g. "MQTT client 1"
	Installed bool   `json:"installed"`
	Enabled   bool   `json:"enabled"`
	// Auth is how it authenticates: "x509", "password", "symmetricKey",
	// "connectionString", "none".
	Auth string `json:"auth"`
	// Notes are further findings, e.g. "insecureSkipVerify".
	Notes []string `json:"notes,omitempty"`
}

// Listener is one listening socket as the gateway's shell shows it.
type Listener struct {
	Proto string     `json:"proto"` // tcp, udp
	Addr  netip.Addr `json:"addr"`
	Port  int        `json:"port"`
}

// Observed is what the tool saw from outside.
type Observed struct {
	// Ports holds one probe result per name: "https", "http", "ssh", "discovery".
	Ports map[string]probe.Result `json:"ports"`
	TLS   probe.TLSReport         `json:"tls"`
	// Cert describes the HTTPS certificate seen (expiry, signature, key
	// size, both fingerprint forms) and what is wrong with it, judged at
	// the read; nil when none was seen.
	Cert *transport.CertInfo `json:"cert,omitempty"`
}

// CertImport is a certificate and key, PEM, to install for HTTPS.
type CertImport struct {
	CertPEM string
	KeyPEM  string // secret
}

// Clone returns a deep copy.
func (s State) Clone() State {
	c := s
	c.Identity.Sources = slices.Clone(s.Identity.Sources)
	c.Users = make([]User, len(s.Users))
	for i, u := range s.Users {
		u.Roles = slices.Clone(u.Roles)
		c.Users[i] = u
	}
	c.Roles = make([]Role, len(s.Roles))
	for i, r := range s.Roles {
		r.Permissions = slices.Clone(r.Permissions)
		c.Roles[i] = r
	}
	if s.DefaultLogin != nil {
		v := *s.DefaultLogin
		c.DefaultLogin = &v
	}
	c.Interfaces = slices.Clone(s.Interfaces)
	c.Services = maps.Clone(s.Services)
	c.Firewall = slices.Clone(s.Firewall)
	c.Cloud = make([]CloudApp, len(s.Cloud))
	for i, a := range s.Cloud {
		a.Notes = slices.Clone(a.Notes)
		c.Cloud[i] = a
	}
	c.Listening = slices.Clone(s.Listening)
	c.Unknown = maps.Clone(s.Unknown)
	if s.Shell != nil {
		v := *s.Shell
		c.Shell = &v
	}
	c.Observed.Ports = maps.Clone(s.Observed.Ports)
	c.Observed.TLS = s.Observed.TLS.Clone()
	if s.Observed.Cert != nil {
		v := *s.Observed.Cert
		v.Problems = slices.Clone(v.Problems)
		c.Observed.Cert = &v
	}
	if s.NewCert != nil {
		v := *s.NewCert
		c.NewCert = &v
	}
	c.Secrets = maps.Clone(s.Secrets)
	return c
}

// UserByName returns the named account.
func (s State) UserByName(name string) (User, bool) {
	for _, u := range s.Users {
		if u.Name == name {
			return u, true
		}
	}
	return User{}, false
}

// ActiveAdmins counts the active administrators not marked for deletion.
func (s State) ActiveAdmins() int {
	n := 0
	for _, u := range s.Users {
		if u.Active && !u.Delete && u.Admin() {
			n++
		}
	}
	return n
}

// ProvenAdmins counts the active administrators not marked for deletion
// whose Administrator role the gateway itself reported.
func (s State) ProvenAdmins() int {
	n := 0
	for _, u := range s.Users {
		if u.Active && !u.Delete && u.Admin() && u.RolesProven {
			n++
		}
	}
	return n
}

// ManagementInterface returns the index of the interface whose address
// is the one the tool reaches the gateway at, or -1.
func (s State) ManagementInterface() int {
	for i, it := range s.Interfaces {
		if a, err := netip.ParseAddr(it.IP); err == nil && s.GatewayAddr.IsValid() && a == s.GatewayAddr {
			return i
		}
	}
	return -1
}

// ListeningOn reports whether the shell shows something listening on
// port for proto on an address reachable from outside (loopback only
// counts when the gateway itself is reached over loopback).
func (s State) ListeningOn(proto string, port int) bool {
	for _, l := range s.Listening {
		if l.Proto == proto && l.Port == port && (!l.Addr.IsLoopback() || s.GatewayAddr.IsLoopback()) {
			return true
		}
	}
	return false
}
