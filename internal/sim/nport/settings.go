package nport

import (
	"fmt"
	"net/netip"
	"strings"
	"unicode"
)

// Operation modes of a serial port, as the Operation Modes page lists them.
var opModes = []string{
	"Real COM", "RFC2217", "TCP Server", "UDP",
	"Pair Connection Master", "Pair Connection Slave",
	"Ethernet Modem", "Reverse Telnet", "Disable",
}

// Time zones offered on Basic Settings (a short list is enough for a simulator).
var timeZones = []string{
	"(GMT-08:00)Pacific Time (US & Canada)",
	"(GMT-05:00)Eastern Time (US & Canada)",
	"(GMT)Greenwich Mean Time: Dublin, Edinburgh, Lisbon, London",
	"(GMT+01:00)Amsterdam, Berlin, Bern, Rome, Stockholm, Vienna",
	"(GMT+08:00)Taipei",
	"(GMT+09:00)Tokyo, Osaka, Sapporo",
}

// Syslog facilities and severities as the Remote Log Server page lists them.
var (
	facilities = []string{"local use 0", "local use 1", "local use 2", "local use 3", "local use 4", "local use 5", "local use 6", "local use 7"}
	severities = []string{"Emergency", "Alert", "Critical", "Error", "Warning", "Notice", "Informational", "Debug"}
	ipConfigs  = []string{"Static", "DHCP", "BOOTP", "DHCP/BOOTP"}
)

// LogGroups are the event groups of System Log Settings, in page order.
var LogGroups = []string{"System", "Network", "Config", "OpMode"}

// Settings is the whole configuration of the simulated device. The device
// keeps two copies: the saved one (what the pages show and edit) and the
// effective one (what the device runs on until the next Save/Restart).
type Settings struct {
	ServerName string
	TimeZone   string
	TimeServer string
	Network    NetworkSettings
	Console    ConsoleSettings
	SNMP       SNMPSettings
	Syslog     SyslogSettings
	// PortModes holds the operation mode of each serial port, port 1 first.
	PortModes []string
	Accounts  []Account
	Policy    Policy
	// LoginMessage and FailureMessage are the Notification Message page.
	LoginMessage   string
	FailureMessage string
	AccessList     AccessList
	// Logs maps an event group ("System", "Network", "Config", "OpMode")
	// to where its events go.
	Logs map[string]LogTarget
}

// NetworkSettings is the Network Settings page.
type NetworkSettings struct {
	Config  string // "Static", "DHCP", "BOOTP", "DHCP/BOOTP"
	IP      string
	Netmask string
	Gateway string
}

// ConsoleSettings is the Console Settings page.
type ConsoleSettings struct {
	HTTP, HTTPS, LegacyTLS, Telnet, Serial, MoxaService bool
	MaxLoginUsers                                       int // 1..6
	AutoLogoutMin                                       int // 1..1440
	ResetProtect                                        bool
}

// SNMPSettings is the SNMP Agent page. The communities are secrets.
type SNMPSettings struct {
	Enabled                       bool
	ReadCommunity, WriteCommunity string
	Contact, Location             string
	V1, V2, V3                    bool
}

// SyslogSettings is the Remote Log Server page.
type SyslogSettings struct {
	Server, Facility, Severity string
}

// Account is one user account. Password is the clear text the simulator
// checks logins against; it is never logged.
type Account struct {
	Name      string
	Password  string
	Active    bool
	ReadWrite bool // User Level "Read Write" (administrator)
}

// Policy is the Password & Login Policy page.
type Policy struct {
	MinLength                         int
	Complexity, Digit, Mixed, Special bool
	LifetimeDays                      int
	Lockout                           bool
	Threshold                         int
	LockoutMinutes                    int
}

// AccessList is the Accessible IP List page.
type AccessList struct {
	Enabled bool
	Rules   [16]AccessRule
}

// AccessRule is one row of the Accessible IP List. Empty addresses are
// the zero netip.Addr.
type AccessRule struct {
	Active      bool
	IP, Netmask netip.Addr
}

// LogTarget is one row of System Log Settings.
type LogTarget struct {
	Local, Remote bool
}

// Allows reports whether the list admits host. A disabled list admits
// everyone; an enabled one admits a host matched by an active rule.
func (l AccessList) Allows(host netip.Addr) bool {
	if !l.Enabled {
		return true
	}
	host = host.Unmap()
	if !host.Is4() {
		return false
	}
	h := u32(host)
	for _, r := range l.Rules {
		if !r.Active || !r.IP.Is4() || !r.Netmask.Is4() {
			continue
		}
		m := u32(r.Netmask)
		if h&m == u32(r.IP)&m {
			return true
		}
	}
	return false
}

func u32(a netip.Addr) uint32 {
	b := a.As4()
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

// defaultSettings is the factory state of a device listening on host.
func defaultSettings(cfg Config) Settings {
	s := Settings{
		ServerName: fmt.Sprintf("NP%s_%s", strings.TrimPrefix(cfg.Model, "NPort "), cfg.Serial),
		TimeZone:   "(GMT)Greenwich Mean Time: Dublin, Edinburgh, Lisbon, London",
		Network:    NetworkSettings{Config: "Static", IP: cfg.Host, Netmask: "255.255.255.0"},
		Console: ConsoleSettings{
			HTTP: true, HTTPS: true, LegacyTLS: true, Telnet: cfg.Telnet, Serial: true, MoxaService: true,
			MaxLoginUsers: 6, AutoLogoutMin: 5,
		},
		SNMP:           SNMPSettings{Enabled: true, ReadCommunity: "public", WriteCommunity: "private", V1: true, V2: true, V3: true},
		Syslog:         SyslogSettings{Facility: "local use 0", Severity: "Emergency"},
		Accounts:       []Account{{Name: "admin", Password: "moxa", Active: true, ReadWrite: true}},
		Policy:         Policy{MinLength: 4, LifetimeDays: 90, Threshold: 5, LockoutMinutes: 5},
		FailureMessage: "Please contact administration if you have forgotten your password.",
		Logs:           map[string]LogTarget{},
	}
	for range cfg.SerialPorts {
		s.PortModes = append(s.PortModes, "Real COM")
	}
	for _, g := range LogGroups {
		s.Logs[g] = LogTarget{Local: true}
	}
	return s
}

// clone returns a deep copy.
func (s Settings) clone() Settings {
	c := s
	c.PortModes = append([]string(nil), s.PortModes...)
	c.Accounts = append([]Account(nil), s.Accounts...)
	c.Logs = make(map[string]LogTarget, len(s.Logs))
	for k, v := range s.Logs {
		c.Logs[k] = v
	}
	return c
}

// account returns the index of the named account, or -1.
func (s Settings) account(name string) int {
	for i, a := range s.Accounts {
		if a.Name == name {
			return i
		}
	}
	return -1
}

// activeAdmins counts active Read Write accounts.
func (s Settings) activeAdmins() int {
	n := 0
	for _, a := range s.Accounts {
		if a.Active && a.ReadWrite {
			n++
		}
	}
	return n
}

const specials = "~!@#$%^&*-_|;:,.<>[]{}()"

// checkPassword applies the policy to a new password and returns the
// message naming the failed rule, or "". It never contains the password.
func (p Policy) checkPassword(pw string) string {
	if len(pw) < 4 || len(pw) > 16 {
		return "Password must be 4 to 16 characters"
	}
	for _, r := range pw {
		if r < 0x21 || r > 0x7e {
			return "Password may contain only printable ASCII characters without spaces"
		}
	}
	if len(pw) < p.MinLength {
		return fmt.Sprintf("Password must be at least %d characters (Password minimum length)", p.MinLength)
	}
	if !p.Complexity {
		return ""
	}
	if p.Digit && !strings.ContainsFunc(pw, unicode.IsDigit) {
		return "Password must contain at least one digit (0~9)"
	}
	if p.Mixed && (!strings.ContainsFunc(pw, unicode.IsUpper) || !strings.ContainsFunc(pw, unicode.IsLower)) {
		return "Password must mix upper and lower case letters (A~Z, a~z)"
	}
	if p.Special && !strings.ContainsAny(pw, specials) {
		return "Password must contain at least one special character"
	}
	return ""
}

// validAccountName reports whether a name is 1..16 printable ASCII characters.
func validAccountName(n string) bool {
	if n == "" || len(n) > 16 {
		return false
	}
	for _, r := range n {
		if r < 0x21 || r > 0x7e || strings.ContainsRune(`<>&"'`, r) {
			return false
		}
	}
	return true
}

// HardenOptions says how Harden sets the device up.
type HardenOptions struct {
	AdminUser     string // personal Read Write account to add; default "tech"
	AdminPassword string // its password; default "Str0ng!Passw0rd#"
	// AllowCIDR lists allowed networks, e.g. "127.0.0.1/32"; default 127.0.0.1/32.
	AllowCIDR []string
	// SyslogServer defaults to "127.0.0.1".
	SyslogServer string
	// DefaultAdminPassword replaces admin's factory password; default "Vault#Adm1n!Key9".
	DefaultAdminPassword string
	// SNMPCommunities, when set, keeps the SNMP agent on with these read
	// and write communities instead of turning it off.
	SNMPCommunities [2]string
}

// hardened returns s changed to the fully hardened state.
func hardened(s Settings, o HardenOptions) Settings {
	s = s.clone()
	if o.AdminUser == "" {
		o.AdminUser = "tech"
	}
	if o.AdminPassword == "" {
		o.AdminPassword = "Str0ng!Passw0rd#"
	}
	if len(o.AllowCIDR) == 0 {
		o.AllowCIDR = []string{"127.0.0.1/32"}
	}
	if o.SyslogServer == "" {
		o.SyslogServer = "127.0.0.1"
	}
	if o.DefaultAdminPassword == "" {
		o.DefaultAdminPassword = "Vault#Adm1n!Key9"
	}
	if i := s.account("admin"); i >= 0 {
		s.Accounts[i].Password = o.DefaultAdminPassword
	}
	s.Console.HTTP, s.Console.HTTPS, s.Console.LegacyTLS = false, true, false
	s.Console.Telnet, s.Console.MoxaService = false, false
	s.SNMP.Enabled = false
	if o.SNMPCommunities[0] != "" {
		s.SNMP.Enabled, s.SNMP.ReadCommunity, s.SNMP.WriteCommunity = true, o.SNMPCommunities[0], o.SNMPCommunities[1]
	}
	if i := s.account(o.AdminUser); i >= 0 {
		s.Accounts[i] = Account{Name: o.AdminUser, Password: o.AdminPassword, Active: true, ReadWrite: true}
	} else {
		s.Accounts = append(s.Accounts, Account{Name: o.AdminUser, Password: o.AdminPassword, Active: true, ReadWrite: true})
	}
	s.Policy = Policy{MinLength: 16, Complexity: true, Digit: true, Mixed: true, Special: true,
		LifetimeDays: 30, Lockout: true, Threshold: 5, LockoutMinutes: 60}
	s.LoginMessage = "Authorized use only. Activity is logged."
	s.AccessList = AccessList{Enabled: true}
	for i, c := range o.AllowCIDR {
		if i >= len(s.AccessList.Rules) {
			break
		}
		p, err := netip.ParsePrefix(c)
		if err != nil || !p.Addr().Is4() {
			continue
		}
		s.AccessList.Rules[i] = AccessRule{Active: true, IP: p.Addr(), Netmask: maskOf(p.Bits())}
	}
	s.Syslog.Server = o.SyslogServer
	for _, g := range LogGroups {
		s.Logs[g] = LogTarget{Local: true, Remote: true}
	}
	if len(s.PortModes) > 0 {
		s.PortModes[0] = "Real COM"
	}
	return s
}

func maskOf(bits int) netip.Addr {
	m := uint32(0)
	if bits > 0 {
		m = ^uint32(0) << (32 - bits)
	}
	return netip.AddrFrom4([4]byte{byte(m >> 24), byte(m >> 16), byte(m >> 8), byte(m)})
}

// validMask reports whether a is a contiguous IPv4 netmask.
func validMask(a netip.Addr) bool {
	if !a.Is4() {
		return false
	}
	inv := ^u32(a)
	return inv&(inv+1) == 0
}
