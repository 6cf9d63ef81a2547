// Package kepware is the driver for PTC Kepware servers (KEPServerEX,
// ThingWorx Kepware Server, Kepware Edge). It talks to the Configuration
// API (JSON over HTTPS, Basic auth) and probes from outside what the
// server exposes. It reads everything the secure deployment guide cares
// about into one State; the catalog's steps are plain functions of it.
//
// Kepware applies a Configuration API change when it accepts it: there is
// no save-and-restart, so Stage makes changes effective and Commit only
// reads the server again to prove they hold.
package kepware

import (
	"maps"
	"slices"
	"time"

	"github.com/commission-tool/commission/internal/devices"
	"github.com/commission-tool/commission/internal/probe"
	"github.com/commission-tool/commission/internal/transport"
)

// Built-in names (kepware.md §3.4).
const (
	GroupAdministrators = "Administrators"
	GroupServerUsers    = "Server Users"
	GroupAnonymous      = "Anonymous Clients"
	UserAdministrator   = "Administrator"
	UserDefault         = "Default User"
	UserDataClient      = "Data Client"
)

// Agent collections under /config/v1/project/_iot_gateway.
const (
	MQTTClients = "mqtt_clients"
	RESTClients = "rest_clients"
	RESTServers = "rest_servers"
)

// Service names, the keys of Observed.Ports.
const (
	SvcConfigHTTPS = "config-https"
	SvcConfigHTTP  = "config-http"
	SvcOPCUA       = "opcua"
	SvcRESTServer  = "rest-server"
)

// State is everything the guide cares about on one Kepware server.
type State struct {
	Identity devices.Identity `json:"identity"`
	// ProductID is "012" for Kepware Server (Windows), "013" for Kepware Edge.
	ProductID string `json:"product_id"`
	// VersionMajor and VersionMinor are the product version's.
	VersionMajor int `json:"version_major"`
	VersionMinor int `json:"version_minor"`
	// Via is how the tool reached the Configuration API: "https" or "http".
	Via string `json:"via"`
	// User is the account the tool is logged in with.
	User string `json:"user"`
	// ProjectID is the project revision read last (optimistic concurrency).
	ProjectID int64 `json:"project_id"`

	Project Project `json:"project"`
	Groups  []Group `json:"groups"`
	Users   []User  `json:"users"`
	Agents  []Agent `json:"agents"`
	// IoTGateway is false when the IoT Gateway plug-in is not installed.
	IoTGateway bool `json:"iot_gateway"`
	// UAEndpointsExposed is false when the Configuration API does not
	// expose the UA endpoints (Kepware Server on Windows: they live in the
	// OPC UA Configuration Manager).
	UAEndpointsExposed bool         `json:"ua_endpoints_exposed"`
	UAEndpoints        []UAEndpoint `json:"ua_endpoints,omitempty"`

	// DefaultUserBlank is true when "Default User" authenticates with an
	// empty password, false when the server refuses it, nil when untested.
	DefaultUserBlank *bool `json:"default_user_blank,omitempty"`

	// Since is when commissioning began; Events holds the event log
	// entries since then (cleaned, oldest first).
	Since  time.Time `json:"since"`
	Events []Event   `json:"events,omitempty"`
	// EventLog says how the event log was read.
	EventLog EventLogRead `json:"event_log"`

	Observed Observed `json:"observed"`

	// Secrets holds passwords to set, keyed "user:<name>" or
	// "agent:<collection>/<name>". Never serialised; it leaves the driver
	// only inside request bodies.
	Secrets map[string]string `json:"-"`
}

// Project holds the project properties the guide names.
type Project struct {
	OPCDA1        bool `json:"opc_da_1"`
	OPCDA2        bool `json:"opc_da_2"`
	OPCDA3        bool `json:"opc_da_3"`
	DADiagnostics bool `json:"opc_da_diagnostics"`
	UAEnabled     bool `json:"ua_enabled"`
	UAAnonymous   bool `json:"ua_anonymous"`
	UADiagnostics bool `json:"ua_diagnostics"`
}

// Group is a server user group. Perms holds its permissions keyed by the
// property name without "libadminsettings.USERMANAGER_" (e.g. "IO_TAG_READ").
type Group struct {
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	Enabled     bool            `json:"enabled"`
	Perms       map[string]bool `json:"perms"`
}

// User is a server user. The password is write-only.
type User struct {
	Name    string `json:"name"`
	Group   string `json:"group"`
	Enabled bool   `json:"enabled"`
	Type    int    `json:"type"` // 0 Kepware user, 1 AD user, 2 AD group
}

// Agent is an IoT Gateway agent.
type Agent struct {
	Collection string `json:"collection"` // MQTTClients, RESTClients, RESTServers
	Name       string `json:"name"`
	Enabled    bool   `json:"enabled"`
	// URL is the broker or server URL of a client agent.
	URL string `json:"url,omitempty"`
	// Username is the client agent's login (the password is write-only).
	Username string `json:"username,omitempty"`
	// TLSVersion is the MQTT client's: 0 default, 1 TLS 1.0, 2 TLS 1.1, 3 TLS 1.2.
	TLSVersion int `json:"tls_version,omitempty"`
	// REST Server agents.
	Port      int    `json:"port,omitempty"`
	UseHTTPS  bool   `json:"use_https,omitempty"`
	CORS      string `json:"cors,omitempty"`
	Anonymous bool   `json:"anonymous,omitempty"`
	// WriteEndpoint: the REST Server accepts writes (/iotgateway/write).
	WriteEndpoint bool `json:"write_endpoint,omitempty"`
}

// Key is "<collection>/<name>".
func (a Agent) Key() string { return a.Collection + "/" + a.Name }

// UAEndpoint is one OPC UA server endpoint (Kepware Edge). Policy values
// are 0 off, 1 Sign, 2 SignAndEncrypt, 3 both.
type UAEndpoint struct {
	Name           string `json:"name"`
	Enabled        bool   `json:"enabled"`
	Port           int    `json:"port"`
	None           bool   `json:"none"`
	Basic256Sha256 int    `json:"basic256sha256"`
	Basic128Rsa15  int    `json:"basic128rsa15"`
	Basic256       int    `json:"basic256"`
}

// Deprecated lists the deprecated policies the endpoint offers.
func (e UAEndpoint) Deprecated() []string {
	var out []string
	if e.None {
		out = append(out, "None")
	}
	if e.Basic128Rsa15 != 0 {
		out = append(out, "Basic128Rsa15")
	}
	if e.Basic256 != 0 {
		out = append(out, "Basic256")
	}
	return out
}

// Event is one event log entry.
type Event struct {
	Time    time.Time `json:"time"`
	Kind    string    `json:"event"` // Information, Warning, Error, Security
	Source  string    `json:"source"`
	Message string    `json:"message"`
}

// EventLogRead is how the event log was read: how many pages, and
// whether the whole window since commissioning began was covered.
type EventLogRead struct {
	Pages    int    `json:"pages"`
	Complete bool   `json:"complete"`
	Note     string `json:"note,omitempty"` // why it stopped early
}

// Observed is what the outside probes saw.
type Observed struct {
	Ports map[string]probe.Result `json:"ports"`
	// TLS is what the Configuration API's HTTPS port offers.
	TLS probe.TLSReport `json:"tls"`
	// APICert judges the HTTPS certificate (expiry, signature, key size),
	// nil when none was seen.
	APICert *transport.CertInfo `json:"api_cert,omitempty"`
}

// Clone returns a deep copy.
func (s State) Clone() State {
	c := s
	c.Identity.Sources = slices.Clone(s.Identity.Sources)
	c.Groups = make([]Group, len(s.Groups))
	for i, g := range s.Groups {
		g.Perms = maps.Clone(g.Perms)
		c.Groups[i] = g
	}
	if s.Groups == nil {
		c.Groups = nil
	}
	c.Users = slices.Clone(s.Users)
	c.Agents = slices.Clone(s.Agents)
	c.UAEndpoints = slices.Clone(s.UAEndpoints)
	c.Events = slices.Clone(s.Events)
	c.Secrets = maps.Clone(s.Secrets)
	c.Observed.Ports = maps.Clone(s.Observed.Ports)
	c.Observed.TLS = s.Observed.TLS.Clone()
	if s.Observed.APICert != nil {
		ci := *s.Observed.APICert
		ci.Problems = slices.Clone(ci.Problems)
		c.Observed.APICert = &ci
	}
	if s.DefaultUserBlank != nil {
		v := *s.DefaultUserBlank
		c.DefaultUserBlank = &v
	}
	return c
}

// GroupNamed returns the named group.
func (s State) GroupNamed(name string) (Group, bool) {
	for _, g := range s.Groups {
		if g.Name == name {
			return g, true
		}
	}
	return Group{}, false
}

// UserNamed returns the named user.
func (s State) UserNamed(name string) (User, bool) {
	for _, u := range s.Users {
		if u.Name == name {
			return u, true
		}
	}
	return User{}, false
}

// SecurityEvents returns the Security events since commissioning began.
func (s State) SecurityEvents() []Event {
	var out []Event
	for _, e := range s.Events {
		if e.Kind == "Security" {
			out = append(out, e)
		}
	}
	return out
}

// SetSecret records a password to send; key is "user:<name>" or
// "agent:<collection>/<name>".
func (s *State) SetSecret(key, pw string) {
	if s.Secrets == nil {
		s.Secrets = map[string]string{}
	}
	s.Secrets[key] = pw
}
