package thingspro

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/commission-tool/commission/internal/sim/simnet"
	"github.com/commission-tool/commission/internal/sim/simstate"
)

// StateFileName is the name of the state file in Config.StateDir.
const StateFileName = "state.json"

const stateFormat = 1

// stateFile is what the gateway keeps in Config.StateDir between runs:
// its own configuration (accounts and passwords as the simulated gateway
// holds them, not the tool's secrets), its HTTPS certificate and key,
// and its ports.
type stateFile struct {
	Format      int            `json:"format"`
	Model       string         `json:"model"`
	Serial      string         `json:"serial"`
	Ports       map[string]int `json:"ports"`
	Certificate [][]byte       `json:"certificate"` // DER chain
	Key         []byte         `json:"key"`         // PKCS #8
	State       stateJSON      `json:"state"`
}

type userJSON struct {
	ID           int        `json:"id"`
	Name         string     `json:"name"`
	Password     string     `json:"password"`
	Email        string     `json:"email"`
	Active       bool       `json:"active"`
	Roles        []int      `json:"roles"`
	CreatedAt    time.Time  `json:"createdAt"`
	ChangedAt    *time.Time `json:"changedAt"`
	LoginAt      time.Time  `json:"loginAt"`
	MustChange   bool       `json:"mustChange"`
	ExpiredAfter *time.Time `json:"expiredAfter"`
}

type roleJSON struct {
	ID          int      `json:"id"`
	Name        string   `json:"name"`
	Description string   `json:"description"`
	Permissions []string `json:"permissions"`
}

type ifaceJSON struct {
	Kind, Name, Display, IP string
	ID                      int
	Enable, DHCP, WAN       bool
	Netmask, Gateway        string
	DNS                     []string
}

type fwRuleJSON struct {
	ID                                                                int
	Name, Description, Port, Protocol, SrcIP, SrcPort, DstIP, DstPort string
	Priority                                                          int
	Action                                                            string
}

type mqttJSON struct {
	ID                            int
	Enable                        bool
	Server                        string
	Port                          int
	UserName, Password            string
	CertOverTLS, Insecure         bool
	RootCA, ClientCert, ClientKey string
}

// stateJSON mirrors state field for field.
type stateJSON struct {
	Users     []userJSON
	Roles     []roleJSON
	NextUser  int
	NextRole  int
	Ifaces    []ifaceJSON
	Services  map[string]bool
	Discovery bool
	ProvSched bool
	NAT       bool
	Zone      string
	NTP       bool
	NTPServer string
	Interval  int
	LastSync  string
	Rules     []fwRuleJSON
	NextRule  int
	SysLogMB  int
	SysLogOn  bool
	EvLogMB   int
	EvLogOn   bool
	CertFile  string
	KeyFile   string
	AzureAuth string
	AzureCert bool
	MQTT      []mqttJSON
}

func (s *state) toJSON() stateJSON {
	o := stateJSON{NextUser: s.nextUser, NextRole: s.nextRole, Services: map[string]bool{}, Discovery: s.discovery,
		ProvSched: s.provSched, NAT: s.nat, Zone: s.zone, NTP: s.ntp, NTPServer: s.ntpServer, Interval: s.interval,
		LastSync: s.lastSync, NextRule: s.nextRule, SysLogMB: s.sysLogMB, SysLogOn: s.sysLogOn, EvLogMB: s.evLogMB,
		EvLogOn: s.evLogOn, CertFile: s.certFile, KeyFile: s.keyFile, AzureAuth: s.azureAuth, AzureCert: s.azureCert}
	for _, u := range s.users {
		o.Users = append(o.Users, userJSON{u.id, u.name, u.password, u.email, u.active, append([]int(nil), u.roles...),
			u.createdAt, u.changedAt, u.loginAt, u.mustChange, u.expiredAfter})
	}
	for _, r := range s.roles {
		o.Roles = append(o.Roles, roleJSON{r.id, r.name, r.description, append([]string(nil), r.permissions...)})
	}
	for _, i := range s.ifaces {
		o.Ifaces = append(o.Ifaces, ifaceJSON{i.kind, i.name, i.display, i.ip, i.id, i.enable, i.dhcp, i.wan, i.netmask, i.gateway,
			append([]string(nil), i.dns...)})
	}
	for k, v := range s.services {
		o.Services[k] = v
	}
	for _, r := range s.rules {
		o.Rules = append(o.Rules, fwRuleJSON{r.id, r.name, r.description, r.port, r.protocol, r.srcIP, r.srcPort, r.dstIP, r.dstPort,
			r.priority, r.action})
	}
	for _, m := range s.mqtt {
		o.MQTT = append(o.MQTT, mqttJSON{m.id, m.enable, m.server, m.port, m.userName, m.password, m.certOverTLS, m.insecure,
			m.rootCA, m.clientCert, m.clientKey})
	}
	return o
}

func (o stateJSON) toState() *state {
	s := &state{nextUser: o.NextUser, nextRole: o.NextRole, services: map[string]bool{}, discovery: o.Discovery,
		provSched: o.ProvSched, nat: o.NAT, zone: o.Zone, ntp: o.NTP, ntpServer: o.NTPServer, interval: o.Interval,
		lastSync: o.LastSync, nextRule: o.NextRule, sysLogMB: o.SysLogMB, sysLogOn: o.SysLogOn, evLogMB: o.EvLogMB,
		evLogOn: o.EvLogOn, certFile: o.CertFile, keyFile: o.KeyFile, azureAuth: o.AzureAuth, azureCert: o.AzureCert}
	for _, u := range o.Users {
		s.users = append(s.users, &user{u.ID, u.Name, u.Password, u.Email, u.Active, u.Roles, u.CreatedAt, u.ChangedAt, u.LoginAt,
			u.MustChange, u.ExpiredAfter})
	}
	for _, r := range o.Roles {
		s.roles = append(s.roles, &role{r.ID, r.Name, r.Description, r.Permissions})
	}
	for _, i := range o.Ifaces {
		s.ifaces = append(s.ifaces, &iface{kind: i.Kind, name: i.Name, display: i.Display, ip: i.IP, id: i.ID, enable: i.Enable,
			dhcp: i.DHCP, wan: i.WAN, netmask: i.Netmask, gateway: i.Gateway, dns: i.DNS})
	}
	for k, v := range o.Services {
		s.services[k] = v
	}
	for _, r := range o.Rules {
		s.rules = append(s.rules, &fwRule{r.ID, r.Name, r.Description, r.Port, r.Protocol, r.SrcIP, r.SrcPort, r.DstIP, r.DstPort,
			r.Priority, r.Action})
	}
	for _, m := range o.MQTT {
		s.mqtt = append(s.mqtt, &mqttClient{m.ID, m.Enable, m.Server, m.Port, m.UserName, m.Password, m.CertOverTLS, m.Insecure,
			m.RootCA, m.ClientCert, m.ClientKey})
	}
	return s
}

func statePath(cfg Config) string { return filepath.Join(cfg.StateDir, StateFileName) }

func freshHint(cfg Config) string { return simstate.FreshHint(cfg.StateDir, "gateway") }

// loadState reads cfg.StateDir's state file; nil, nil when there is none.
func loadState(cfg Config) (*stateFile, error) {
	path := statePath(cfg)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the simulator's state file %s: %w", path, err)
	}
	bad := func(why string, err error) (*stateFile, error) {
		if err != nil {
			return nil, fmt.Errorf("the simulator's state file %s is corrupt (%s): %w; %s", path, why, err, freshHint(cfg))
		}
		return nil, fmt.Errorf("the simulator's state file %s is corrupt (%s); %s", path, why, freshHint(cfg))
	}
	var st stateFile
	if err := json.Unmarshal(b, &st); err != nil {
		return bad("not JSON", err)
	}
	switch {
	case st.Format != stateFormat:
		return bad(fmt.Sprintf("format %d, want %d", st.Format, stateFormat), nil)
	case len(st.Certificate) == 0 || len(st.Key) == 0:
		return bad("no certificate", nil)
	case len(st.State.Users) == 0 || st.State.Services == nil:
		return bad("no accounts or services", nil)
	}
	if _, err := st.certificate(); err != nil {
		return bad("certificate", err)
	}
	for _, name := range []string{PortHTTPS, PortHTTP, PortSSH, PortDiscovery} {
		if p := st.Ports[name]; p <= 0 || p > 65535 {
			return bad(fmt.Sprintf("port %d for %s", p, name), nil)
		}
	}
	return &st, nil
}

func (st *stateFile) certificate() (tls.Certificate, error) {
	return simstate.Certificate(st.Certificate, st.Key)
}

// claimPorts holds every saved port, off services' too (a service turned
// on later must find its port), so that a taken one stops the start with
// a clear error rather than a later 500, and none is taken once the
// start checked it. The services take their holds as they open.
func claimPorts(cfg Config, ports map[string]int) (simnet.Holds, error) {
	held := simnet.Holds{}
	for _, name := range serviceNames {
		h, err := simnet.HoldPort(network(name), net.JoinHostPort(cfg.Host, strconv.Itoa(ports[name])))
		if err != nil {
			held.Close()
			return nil, simstate.PortTaken(cfg.StateDir, "gateway", name, ports[name], err)
		}
		held[name] = h
	}
	return held, nil
}

// persistLocked writes the state file when the gateway has a StateDir;
// mu held (so writes are in the order of the changes).
func (d *Device) persistLocked() error {
	if d.cfg.StateDir == "" {
		return nil
	}
	key, err := x509.MarshalPKCS8PrivateKey(d.cert.PrivateKey)
	if err != nil {
		return fmt.Errorf("save the simulator's state: certificate key: %w", err)
	}
	st := stateFile{Format: stateFormat, Model: d.cfg.Model, Serial: d.cfg.Serial, Ports: d.Ports(),
		Certificate: d.cert.Certificate, Key: key, State: d.st.toJSON()}
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return fmt.Errorf("save the simulator's state: %w", err)
	}
	if err := simstate.WriteAtomic(statePath(d.cfg), b); err != nil {
		return fmt.Errorf("save the simulator's state: %w", err)
	}
	return nil
}
