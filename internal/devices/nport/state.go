package nport

import (
	"maps"
	"net/netip"
	"slices"

	"github.com/commission-tool/commission/internal/devices"
	"github.com/commission-tool/commission/internal/probe"
	"github.com/commission-tool/commission/internal/transport"
)

// State is everything the hardening guide cares about on one NPort, as
// read through the web console, UDP 4800, SNMP, the telnet banner and the
// outside probes. Steps are plain functions of it.
//
// Fields under "settings" are what the device's configuration pages show
// (saved configuration); Observed is what the network shows (effective
// behaviour). A setting changed but not yet restarted shows in the first
// and not in the second.
type State struct {
	Identity devices.Identity `json:"identity"`

	// Via is the console the tool used: "https" or "http".
	Via string `json:"via"`
	// ClientAddr is the technician's address as the device sees it (the
	// local address of the tool's connection to the console).
	ClientAddr netip.Addr `json:"client_addr"`
	// HTTPSProven is true when the tool logged in over HTTPS in this session.
	HTTPSProven bool `json:"https_proven"`
	// User is the account the tool is logged in with.
	User string `json:"user"`
	// ProvenUsers are accounts whose password the tool proved by a login
	// in this session.
	ProvenUsers []string `json:"proven_users"`
	// Generation is the console generation profile the login page matched
	// ("GA", "G-sec"); Server is the console's Server header.
	Generation string `json:"generation"`
	Server     string `json:"server,omitempty"`
	// FailedLogins is what the device's failed-login record page listed at
	// the first login of the session (kept as evidence, never cleared by
	// the tool).
	FailedLogins []string `json:"failed_logins,omitempty"`
	// DefaultPasswordNag is true when the device asked to change the
	// default password at login (the tool skipped the reminder).
	DefaultPasswordNag bool `json:"default_password_nag,omitempty"`

	// settings
	Console    Console              `json:"console"`
	Time       TimeSettings         `json:"time"`
	Network    Network              `json:"network"`
	SNMP       SNMP                 `json:"snmp"`
	RemoteLog  RemoteLog            `json:"remote_log"`
	Ports      []SerialPort         `json:"ports"`
	Accounts   []Account            `json:"accounts"`
	Policy     PasswordPolicy       `json:"policy"`
	Notice     Notice               `json:"notice"`
	AccessList AccessList           `json:"access_list"`
	LogEvents  map[string]LogTarget `json:"log_events"`          // keys: System, Network, Config, OpMode
	LogLines   []string             `json:"log_lines,omitempty"` // Monitor > System Log, newest last, cleaned

	// DefaultLogin is true when admin/moxa is accepted, false when it was
	// tried and refused, nil when it was not tried (admin inactive, or the
	// tool is itself logged in as admin/moxa: then it is true).
	DefaultLogin *bool `json:"default_login,omitempty"`

	// Unread lists the settings pages the console's menu does not hold
	// (pages the hardening guide does not show, such as Network Settings).
	Unread []string `json:"unread,omitempty"`

	// Observed is what the outside probes saw.
	Observed Observed `json:"observed"`

	// Secrets holds new passwords to set, by account name. It is never
	// serialised and never leaves the driver except as form fields.
	Secrets map[string]string `json:"-"`
}

// Console is Basic Settings > Console Settings.
type Console struct {
	HTTP        bool `json:"http"`
	HTTPS       bool `json:"https"`
	LegacyTLS   bool `json:"legacy_tls"` // TLS v1.0/v1.1 for HTTPS console
	Telnet      bool `json:"telnet"`
	Serial      bool `json:"serial"`
	MoxaService bool `json:"moxa_service"`
	// NoHTTPS is true when the page has no HTTPS rows (a unit without TLS).
	NoHTTPS bool `json:"no_https,omitempty"`
}

// TimeSettings is Basic Settings > Time Settings.
type TimeSettings struct {
	Zone   string `json:"zone"`
	Server string `json:"server"` // empty: SNTP off
	// NoServer is true when the page has no Time server row (the
	// 5100/5200 series have no SNTP client).
	NoServer bool `json:"no_server,omitempty"`
}

// Network is Network Settings.
type Network struct {
	Config  string `json:"config"` // "Static", "DHCP", "BOOTP", "DHCP/BOOTP"
	IP      string `json:"ip"`
	Netmask string `json:"netmask"`
	Gateway string `json:"gateway"`
}

// SNMP is Administration > SNMP Agent. Community strings are secrets: the
// driver reads whether they are the defaults, never their values.
type SNMP struct {
	Enabled            bool `json:"enabled"`
	V1, V2, V3         bool `json:"-"`
	DefaultCommunities bool `json:"default_communities"` // public/private accepted by the agent
}

// RemoteLog is Remote Log Server.
type RemoteLog struct {
	Server   string `json:"server"` // empty: off
	Facility string `json:"facility"`
	Severity string `json:"severity"`
}

// SerialPort is Serial Port Settings > Port N > Operation Modes.
type SerialPort struct {
	Number int    `json:"number"`
	Mode   string `json:"mode"` // as the page shows it: "Real COM", "TCP Server", ..., "Disable"
}

// Account is a row of User Account.
type Account struct {
	Name   string `json:"name"`
	Active bool   `json:"active"`
	Admin  bool   `json:"admin"` // User Level "Read Write"
	// Delete marks the account for deletion in a desired state.
	Delete bool `json:"-"`
}

// PasswordPolicy is Password & Login Policy.
type PasswordPolicy struct {
	MinLength      int  `json:"min_length"`
	Complexity     bool `json:"complexity"`
	Digit          bool `json:"digit"`
	MixedCase      bool `json:"mixed_case"`
	Special        bool `json:"special"`
	LifetimeDays   int  `json:"lifetime_days"`
	Lockout        bool `json:"lockout"`
	Threshold      int  `json:"threshold"`
	LockoutMinutes int  `json:"lockout_minutes"`
}

// Notice is Notification Message.
type Notice struct {
	LoginMessage   string `json:"login_message"`
	FailureMessage string `json:"failure_message"`
}

// AccessList is the Accessible IP List.
type AccessList struct {
	Enabled bool         `json:"enabled"`
	Rules   []AccessRule `json:"rules"` // at most 16
}

// AccessRule is one row of the Accessible IP List.
type AccessRule struct {
	Active  bool       `json:"active"`
	IP      netip.Addr `json:"ip"`
	Netmask netip.Addr `json:"netmask"`
}

// Allows reports whether the rule admits host: (host & mask) == (ip & mask).
func (r AccessRule) Allows(host netip.Addr) bool {
	if !r.Active || !r.IP.Is4() || !r.Netmask.Is4() || !host.Is4() {
		return false
	}
	h, ip, m := host.As4(), r.IP.As4(), r.Netmask.As4()
	for i := range 4 {
		if h[i]&m[i] != ip[i]&m[i] {
			return false
		}
	}
	return true
}

// Allows reports whether the list admits host (a disabled list admits all).
func (l AccessList) Allows(host netip.Addr) bool {
	if !l.Enabled {
		return true
	}
	for _, r := range l.Rules {
		if r.Allows(host) {
			return true
		}
	}
	return false
}

// LogTarget is one row of System Log Settings.
type LogTarget struct {
	Local  bool `json:"local"`
	Remote bool `json:"remote"`
}

// Observed is what the tool saw from outside, and through UDP 4800.
type Observed struct {
	// Ports holds one probe result per service name, e.g. "http",
	// "https", "telnet", "moxa-udp", "moxa-tcp", "moxa-tcp2", "snmp",
	// "realcom-data-1", "realcom-cmd-1", "tcp-server-1".
	Ports map[string]probe.Result `json:"ports"`
	// TLS is what the HTTPS console offers.
	TLS probe.TLSReport `json:"tls"`
	// DSCILeak is true when UDP 4800 function 0x28 returned a non-empty
	// SNMP community without authentication (nport.md 6.7).
	DSCILeak bool `json:"dsci_leak"`
	// DSCIAsked is true when the 0x28 request was sent (the leak check
	// ran); false means the check could not be made.
	DSCIAsked bool `json:"dsci_asked"`
	// Cert is the HTTPS certificate judged by transport.DescribeCert
	// (expiry, signature, key size); nil when none was seen.
	Cert *transport.CertInfo `json:"cert,omitempty"`
}

// Clone returns a deep copy.
func (s State) Clone() State {
	c := s
	c.Identity.Sources = slices.Clone(s.Identity.Sources)
	c.ProvenUsers = slices.Clone(s.ProvenUsers)
	c.Ports = slices.Clone(s.Ports)
	c.Accounts = slices.Clone(s.Accounts)
	c.AccessList.Rules = slices.Clone(s.AccessList.Rules)
	c.LogEvents = maps.Clone(s.LogEvents)
	c.LogLines = slices.Clone(s.LogLines)
	c.Secrets = maps.Clone(s.Secrets)
	c.Observed.Ports = maps.Clone(s.Observed.Ports)
	c.Observed.TLS = s.Observed.TLS.Clone()
	c.FailedLogins = slices.Clone(s.FailedLogins)
	c.Unread = slices.Clone(s.Unread)
	if s.Observed.Cert != nil {
		ci := *s.Observed.Cert
		ci.Problems = slices.Clone(s.Observed.Cert.Problems)
		c.Observed.Cert = &ci
	}
	if s.DefaultLogin != nil {
		v := *s.DefaultLogin
		c.DefaultLogin = &v
	}
	return c
}

// Account returns the named account.
func (s State) Account(name string) (Account, bool) {
	for _, a := range s.Accounts {
		if a.Name == name {
			return a, true
		}
	}
	return Account{}, false
}
