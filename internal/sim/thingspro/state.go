package thingspro

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"slices"
	"time"
)

// user is one account inside the simulator.
type user struct {
	id           int
	name         string
	password     string
	email        string
	active       bool
	roles        []int
	createdAt    time.Time
	changedAt    *time.Time
	loginAt      time.Time
	mustChange   bool
	expiredAfter *time.Time
}

type role struct {
	id          int
	name        string
	description string
	permissions []string
}

type iface struct {
	kind, name, display, ip string
	id                      int
	enable                  bool
	// ethernets only
	dhcp, wan        bool
	netmask, gateway string
	dns              []string
}

type fwRule struct {
	id                                                                int
	name, description, port, protocol, srcIP, srcPort, dstIP, dstPort string
	priority                                                          int
	action                                                            string
}

type mqttClient struct {
	id                            int
	enable                        bool
	server                        string
	port                          int
	userName, password            string
	certOverTLS, insecure         bool
	rootCA, clientCert, clientKey string
}

// state is the gateway's configuration.
type state struct {
	users     []*user
	roles     []*role
	nextUser  int
	nextRole  int
	ifaces    []*iface
	services  map[string]bool // /system/services ids
	discovery bool
	provSched bool
	nat       bool
	zone      string
	ntp       bool
	ntpServer string
	interval  int
	lastSync  string
	rules     []*fwRule
	nextRule  int
	sysLogMB  int
	sysLogOn  bool
	evLogMB   int
	evLogOn   bool
	certFile  string
	keyFile   string
	azureAuth string // "" not installed, else symmetricKey or x509
	azureCert bool
	mqtt      []*mqttClient
}

// Permission ids.
var permissions = []struct{ id, name string }{
	{"SYS_USER_RW", "User/Role Management"},
	{"SYS_MAINTENANCE_RW", "Device Management"},
}

func factory(cfg Config) *state {
	now := cfg.Now().UTC()
	s := &state{
		users: []*user{{id: 1, name: "admin", password: "admin@123", active: true, roles: []int{1}, createdAt: now.Add(-24 * time.Hour),
			mustChange: !cfg.NoForcedChange}},
		roles:    []*role{{id: 1, name: "Administrator", permissions: []string{"SYS_USER_RW", "SYS_MAINTENANCE_RW"}}},
		nextUser: 2, nextRole: 2,
		ifaces: []*iface{
			{kind: "ethernets", id: 1, name: "eth0", display: "LAN1", ip: cfg.Host, enable: true, wan: true, netmask: "255.255.255.0"},
			{kind: "ethernets", id: 2, name: "eth1", display: "LAN2", ip: "192.168.4.127", enable: true, netmask: "255.255.255.0"},
			{kind: "cellulars", id: 1, name: "wwan0", display: "Cellular1", enable: true},
			{kind: "wifi", id: 1, name: "wlan0", display: "Wi-Fi1", enable: true},
			{kind: "dhcpservers", id: 2, name: "eth1", display: "LAN2", enable: true},
		},
		services: map[string]bool{
			"cloud": true, "modbusmaster": true, "eipscanner": false, "opcuaserver": false,
			"provision": true, "provisionschedule": true,
			"httpservice": true, "httpsservice": true, "ntp": false, "sshserver": false, "localconsole": true,
			"sdcard": true, "syslog": true, "eventlog": true, "internetcheckalive": true,
		},
		discovery: true, provSched: true, nat: true,
		zone: "UTC", interval: 86400, ntpServer: "pool.ntp.org", lastSync: "-",
		rules:    []*fwRule{{id: 83, name: "Modbus_TCP", description: "left from staging", priority: 1001, port: "502", protocol: "tcp", action: "allow"}},
		nextRule: 84,
		sysLogMB: 100, sysLogOn: true, evLogMB: 100, evLogOn: true,
		certFile: "default.crt", keyFile: "default.key",
		azureAuth: "symmetricKey",
		mqtt:      []*mqttClient{{id: 1, enable: true, server: "broker.example.net", port: 1883, userName: "gateway", password: "s3cr3t-mqtt"}},
	}
	s.services["sshserver"] = cfg.SSHOn
	return s
}

func (s *state) userByID(id int) *user {
	for _, u := range s.users {
		if u.id == id {
			return u
		}
	}
	return nil
}

func (s *state) userByName(name string) *user {
	for _, u := range s.users {
		if u.name == name {
			return u
		}
	}
	return nil
}

func (s *state) roleByID(id int) *role {
	for _, r := range s.roles {
		if r.id == id {
			return r
		}
	}
	return nil
}

// activeAdmins counts active accounts holding the Administrator role.
func (s *state) activeAdmins() int {
	n := 0
	for _, u := range s.users {
		if u.active && slices.Contains(u.roles, 1) {
			n++
		}
	}
	return n
}

// HardenOptions say how Harden leaves the accounts.
type HardenOptions struct {
	// User and Password: a personal administrator to create (default
	// "tech1" / "Harden-Test-Pass-2024!"); the tool logs in with it.
	User, Password string
}

// Harden puts the gateway straight into the state the guide asks for:
// a personal administrator, the factory account's password changed,
// unused interfaces and services off (HTTPS stays on: the tool needs
// it), NTP synced, a plant certificate served, no stale firewall rule and
// cloud apps on X.509.
func (d *Device) Harden(o HardenOptions) error {
	if o.User == "" {
		o.User, o.Password = "tech1", "Harden-Test-Pass-2024!"
	}
	ca, err := newPlantCA(d.cfg.Now())
	if err != nil {
		return err
	}
	certPEM, keyPEM, err := ca.Issue(d.cfg.Serial, IssueOptions{Hosts: []string{d.cfg.Host}})
	if err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	s := d.st
	now := d.cfg.Now().UTC()
	admin := s.userByName("admin")
	if admin != nil {
		b := make([]byte, 12)
		_, _ = rand.Read(b)
		admin.password = hex.EncodeToString(b)
		admin.mustChange = false
		admin.changedAt = &now
	}
	if s.userByName(o.User) == nil {
		s.roles = append(s.roles, &role{id: s.nextRole, name: "operator", permissions: []string{"SYS_MAINTENANCE_RW"}})
		s.nextRole++
		s.users = append(s.users, &user{id: s.nextUser, name: o.User, password: o.Password, active: true, roles: []int{1}, createdAt: now, changedAt: &now})
		s.nextUser++
	}
	for _, it := range s.ifaces {
		if it.ip != d.cfg.Host {
			it.enable = false
		}
	}
	for _, id := range []string{"httpservice", "localconsole", "sdcard", "sshserver", "provision", "provisionschedule"} {
		s.services[id] = false
	}
	s.discovery, s.provSched, s.nat = false, false, false
	s.services["ntp"], s.ntp, s.zone, s.lastSync = true, true, "Europe/Berlin", now.Format(time.RFC3339)
	s.rules = nil
	if err := d.installCertLocked(certPEM, keyPEM, "plant.crt", "plant.key"); err != nil {
		return err
	}
	s.azureAuth, s.azureCert = "x509", true
	for _, m := range s.mqtt {
		m.certOverTLS, m.userName, m.password, m.port = true, "", "", 8883
		m.rootCA, m.clientCert, m.clientKey = "root.crt", "client.crt", "client.key"
	}
	d.tokens = map[string]int{}
	if err := d.persistLocked(); err != nil {
		return err
	}
	return d.syncServicesLocked()
}

// SetUserDetails sets an account's e-mail and expiry, as an administrator
// would in the web console (for tests that check nothing is cleared).
func (d *Device) SetUserDetails(name, email string, expiredAfter *time.Time) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	u := d.st.userByName(name)
	if u == nil {
		return fmt.Errorf("no account %q", name)
	}
	u.email, u.expiredAfter = email, expiredAfter
	return d.persistLocked()
}

// UserRoles returns an account's role ids and whether it is active.
func (d *Device) UserRoles(name string) (roles []int, active, ok bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	u := d.st.userByName(name)
	if u == nil {
		return nil, false, false
	}
	return slices.Clone(u.roles), u.active, true
}

// UserDetails returns an account's e-mail and expiry.
func (d *Device) UserDetails(name string) (email string, expiredAfter *time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if u := d.st.userByName(name); u != nil {
		return u.email, u.expiredAfter
	}
	return "", nil
}
