package kepware

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
	"unicode"
)

// Property names (kepware.md §2, §3, §5, §4.1).
const (
	pName      = "common.ALLTYPES_NAME"
	pDesc      = "common.ALLTYPES_DESCRIPTION"
	pProjectID = "PROJECT_ID"
	pForce     = "FORCE_UPDATE"
	pPerm      = "libadminsettings.USERMANAGER_"
	pGroupOn   = "libadminsettings.USERMANAGER_GROUP_ENABLED"
	pUserGroup = "libadminsettings.USERMANAGER_USER_GROUPNAME"
	pUserOn    = "libadminsettings.USERMANAGER_USER_ENABLED"
	pUserPass  = "libadminsettings.USERMANAGER_USER_PASSWORD"
	pUserType  = "libadminsettings.USERMANAGER_USER_TYPE"
)

var permNames = []string{
	"IO_TAG_READ", "IO_TAG_WRITE", "IO_TAG_DYNAMIC_ADDRESSING",
	"SYSTEM_TAG_READ", "SYSTEM_TAG_WRITE", "INTERNAL_TAG_READ", "INTERNAL_TAG_WRITE",
	"SERVER_MANAGE_LICENSES", "SERVER_MODIFY_SERVER_SETTINGS", "SERVER_DISCONNECT_CLIENTS",
	"SERVER_REPLACE_RUNTIME_PROJECT", "SERVER_RESET_EVENT_LOG", "SERVER_RESET_OPC_DIAGS_LOG",
	"SERVER_RESET_COMM_DIAGS_LOG", "SERVER_OPCUA_DOTNET_CONFIGURATION", "SERVER_CONFIG_API_LOG_ACCESS",
	"SERVER_VIEW_EVENT_LOG_SECURITY", "SERVER_VIEW_EVENT_LOG_ERROR", "SERVER_VIEW_EVENT_LOG_WARNING",
	"SERVER_VIEW_EVENT_LOG_INFO",
	"PROJECTMOD_ADD", "PROJECTMOD_EDIT", "PROJECTMOD_DELETE", "BROWSE_BROWSENAMESPACE",
}

type object = map[string]any

type event struct {
	at                    time.Time
	kind, source, message string
}

// store is the server's configuration and rules. Guarded by Device.mu.
type store struct {
	cfg       Config
	projectID int64
	project   object
	groups    []object
	users     []object
	passwords map[string]string
	agents    map[string][]object // collection -> agents
	endpoints []object
	events    []event
}

func perms(on ...string) object {
	g := object{}
	for _, p := range permNames {
		g[pPerm+p] = slices.Contains(on, p)
	}
	return g
}

func group(name, desc string, on ...string) object {
	g := perms(on...)
	g[pName], g[pDesc], g[pGroupOn] = name, desc, true
	return g
}

func newStore(cfg Config, restPort int) *store {
	s := &store{cfg: cfg, projectID: 960924075, passwords: map[string]string{}}
	s.project = object{
		pDesc: "", "servermain.PROJECT_TITLE": "", "servermain.PROJECT_TAGS_DEFINED": "246",
		"opcdaserver.PROJECT_OPC_DA_1_ENABLED": true, "opcdaserver.PROJECT_OPC_DA_2_ENABLED": true,
		"opcdaserver.PROJECT_OPC_DA_3_ENABLED": true, "opcdaserver.PROJECT_OPC_ENABLE_DIAGS": false,
		"opcdaserver.PROJECT_OPC_MAX_CONNECTIONS": 512,
		"uaserverinterface.PROJECT_OPC_UA_ENABLE": true, "uaserverinterface.PROJECT_OPC_UA_DIAGNOSTICS": false,
		"uaserverinterface.PROJECT_OPC_UA_ANONYMOUS_LOGIN": false, "uaserverinterface.PROJECT_OPC_UA_MAX_CONNECTIONS": 128,
		"aeserverinterface.ENABLE_AE_SERVER": false, "hdaserver.ENABLE": false, "ddeserver.ENABLE": false,
		"thingworxinterface.ENABLED": false,
	}
	all := slices.Clone(permNames)
	// Built-in groups and users (kepware.md §3.4). The Server Users
	// permissions are inferred: a broad default the guide asks to narrow.
	s.groups = []object{
		group("Administrators", "Built-in group for administrators", all...),
		group("Server Users", "Built-in group for server users", "IO_TAG_READ", "IO_TAG_WRITE", "IO_TAG_DYNAMIC_ADDRESSING",
			"SYSTEM_TAG_READ", "SYSTEM_TAG_WRITE", "INTERNAL_TAG_READ", "INTERNAL_TAG_WRITE",
			"PROJECTMOD_ADD", "PROJECTMOD_EDIT", "PROJECTMOD_DELETE", "SERVER_MODIFY_SERVER_SETTINGS",
			"SERVER_VIEW_EVENT_LOG_ERROR", "SERVER_VIEW_EVENT_LOG_WARNING", "SERVER_VIEW_EVENT_LOG_INFO", "BROWSE_BROWSENAMESPACE"),
		group("Anonymous Clients", "Built-in group for anonymous clients", "IO_TAG_READ", "SYSTEM_TAG_READ", "BROWSE_BROWSENAMESPACE"),
	}
	s.users = []object{
		{pName: "Administrator", pDesc: "Built-in administrator", pUserGroup: "Administrators", pUserOn: true, pUserType: 0},
		{pName: "Data Client", pDesc: "Built-in anonymous data client", pUserGroup: "Anonymous Clients", pUserOn: true, pUserType: 0},
		{pName: "Default User", pDesc: "Built-in server user", pUserGroup: "Server Users", pUserOn: true, pUserType: 0},
	}
	s.passwords["Administrator"] = cfg.AdminPassword
	s.passwords["Default User"] = ""
	s.agents = map[string][]object{
		"mqtt_clients": {{pName: "Plant Broker", "iot_gateway.AGENTTYPES_TYPE": "MQTT Client", "iot_gateway.AGENTTYPES_ENABLED": true,
			"iot_gateway.MQTT_CLIENT_URL": "tcp://broker.plant.example:1883", "iot_gateway.MQTT_CLIENT_TOPIC": "iotgateway",
			"iot_gateway.MQTT_CLIENT_QOS": 1, "iot_gateway.MQTT_CLIENT_USERNAME": "", "iot_gateway.MQTT_TLS_VERSION": 0,
			"iot_gateway.MQTT_CLIENT_CERTIFICATE": false}},
		"rest_clients": {{pName: "Historian", "iot_gateway.AGENTTYPES_TYPE": "REST Client", "iot_gateway.AGENTTYPES_ENABLED": true,
			"iot_gateway.REST_CLIENT_URL": "http://historian.plant.example/api/ingest", "iot_gateway.REST_CLIENT_METHOD": 0,
			"iot_gateway.REST_CLIENT_USERNAME": ""}},
		"rest_servers": {{pName: "Dashboard", "iot_gateway.AGENTTYPES_TYPE": "REST Server", "iot_gateway.AGENTTYPES_ENABLED": true,
			"iot_gateway.REST_SERVER_NETWORK_ADAPTER": "Localhost only", "iot_gateway.REST_SERVER_PORT_NUMBER": restPort,
			"iot_gateway.REST_SERVER_CORS_ALLOWED_ORIGINS": "*", "iot_gateway.REST_SERVER_USE_HTTPS": false,
			"iot_gateway.REST_SERVER_ENABLE_WRITE_ENDPOINT": false, "iot_gateway.REST_SERVER_ALLOW_ANONYMOUS_LOGIN": false}},
	}
	if cfg.Edge {
		s.endpoints = []object{{pName: "DefaultEndpoint", "libadminsettings.UACONFIGMANAGER_ENDPOINT_ENABLE": true,
			"libadminsettings.UACONFIGMANAGER_ENDPOINT_ADAPTER": "Default", "libadminsettings.UACONFIGMANAGER_ENDPOINT_PORT": 49330,
			"libadminsettings.UACONFIGMANAGER_ENDPOINT_URL":                      "opc.tcp://127.0.0.1:49330",
			"libadminsettings.UACONFIGMANAGER_ENDPOINT_SECURITY_NONE":            true,
			"libadminsettings.UACONFIGMANAGER_ENDPOINT_SECURITY_BASIC256_SHA256": 3,
			"libadminsettings.UACONFIGMANAGER_ENDPOINT_SECURITY_BASIC128_RSA15":  1,
			"libadminsettings.UACONFIGMANAGER_ENDPOINT_SECURITY_BASIC256":        1}}
	}
	now := cfg.Now()
	s.log(now.Add(-2*time.Hour), "Information", "KEPServerEX\\Runtime", "Starting OPC UA server interface.")
	s.log(now.Add(-2*time.Hour), "Security", "KEPServerEX\\Runtime", "Configuration API: user 'Administrator' logged in.")
	return s
}

func (s *store) log(at time.Time, kind, source, msg string) {
	s.events = append(s.events, event{at: at.UTC(), kind: kind, source: source, message: msg})
	if len(s.events) > 2000 {
		s.events = s.events[len(s.events)-2000:]
	}
}

func (s *store) bump() { s.projectID += 7 }

var errUnauthorized = errors.New("unauthorized")
var errForbidden = errors.New("forbidden")

func find(list []object, name string) int {
	return slices.IndexFunc(list, func(o object) bool { return o[pName] == name })
}

// authenticate checks Basic credentials and returns the user's group.
func (s *store) authenticate(user, pw string) (object, error) {
	i := find(s.users, user)
	want, ok := s.passwords[user]
	if i < 0 || !ok || subtle.ConstantTimeCompare([]byte(want), []byte(pw)) != 1 || s.users[i][pUserOn] != true {
		return nil, errUnauthorized
	}
	g := find(s.groups, s.users[i][pUserGroup].(string))
	if g < 0 || s.groups[g][pGroupOn] != true {
		return nil, errUnauthorized
	}
	return s.groups[g], nil
}

// checkPassword applies the User Manager's rule: 14 to 512 characters
// with upper and lower case letters, digits and special characters.
func checkPassword(pw string) error {
	n := len([]rune(pw))
	if n < 14 || n > 512 {
		return fmt.Errorf("the password must be 14 to 512 characters long")
	}
	var lo, up, dig, sp bool
	for _, r := range pw {
		switch {
		case unicode.IsLower(r):
			lo = true
		case unicode.IsUpper(r):
			up = true
		case unicode.IsDigit(r):
			dig = true
		default:
			sp = true
		}
	}
	if !lo || !up || !dig || !sp {
		return fmt.Errorf("the password must mix upper and lower case letters, digits and special characters")
	}
	return nil
}

func (s *store) harden() {
	p := s.project
	p["opcdaserver.PROJECT_OPC_DA_1_ENABLED"], p["opcdaserver.PROJECT_OPC_DA_2_ENABLED"], p["opcdaserver.PROJECT_OPC_DA_3_ENABLED"] = false, false, false
	p["opcdaserver.PROJECT_OPC_ENABLE_DIAGS"], p["uaserverinterface.PROJECT_OPC_UA_DIAGNOSTICS"] = false, false
	p["uaserverinterface.PROJECT_OPC_UA_ANONYMOUS_LOGIN"] = false
	s.passwords["Default User"] = HardenedPassword
	if i := find(s.groups, "Server Users"); i >= 0 {
		g := perms("IO_TAG_READ", "SYSTEM_TAG_READ", "INTERNAL_TAG_READ", "BROWSE_BROWSENAMESPACE")
		g[pName], g[pDesc], g[pGroupOn] = "Server Users", s.groups[i][pDesc], true
		s.groups[i] = g
	}
	for _, r := range []struct {
		group, user string
		perms       []string
	}{
		{"OPC UA Clients", "ua-client", []string{"IO_TAG_READ", "SYSTEM_TAG_READ", "BROWSE_BROWSENAMESPACE"}},
		{"REST Server Clients", "rest-client", []string{"IO_TAG_READ", "BROWSE_BROWSENAMESPACE"}},
		{"Config API Users", "config-api", []string{"PROJECTMOD_ADD", "PROJECTMOD_EDIT", "PROJECTMOD_DELETE", "SERVER_VIEW_EVENT_LOG_SECURITY", "SERVER_VIEW_EVENT_LOG_ERROR", "SERVER_VIEW_EVENT_LOG_WARNING", "SERVER_VIEW_EVENT_LOG_INFO", "BROWSE_BROWSENAMESPACE"}},
	} {
		if find(s.groups, r.group) < 0 {
			s.groups = append(s.groups, group(r.group, "least privilege", r.perms...))
		}
		if find(s.users, r.user) < 0 {
			s.users = append(s.users, object{pName: r.user, pDesc: "", pUserGroup: r.group, pUserOn: true, pUserType: 0})
			s.passwords[r.user] = HardenedPassword
		}
	}
	for _, a := range s.agents["mqtt_clients"] {
		a["iot_gateway.MQTT_CLIENT_URL"] = "ssl://broker.plant.example:8883"
		a["iot_gateway.MQTT_CLIENT_USERNAME"], a["iot_gateway.MQTT_TLS_VERSION"] = "kepware-publisher", 3
	}
	for _, a := range s.agents["rest_clients"] {
		a["iot_gateway.REST_CLIENT_URL"] = "https://historian.plant.example/api/ingest"
		a["iot_gateway.REST_CLIENT_USERNAME"] = "kepware-publisher"
	}
	for _, a := range s.agents["rest_servers"] {
		a["iot_gateway.REST_SERVER_USE_HTTPS"] = true
		a["iot_gateway.REST_SERVER_CORS_ALLOWED_ORIGINS"] = "https://hmi.plant.example"
	}
	for _, e := range s.endpoints {
		e["libadminsettings.UACONFIGMANAGER_ENDPOINT_SECURITY_NONE"] = false
		e["libadminsettings.UACONFIGMANAGER_ENDPOINT_SECURITY_BASIC256_SHA256"] = 2
		e["libadminsettings.UACONFIGMANAGER_ENDPOINT_SECURITY_BASIC128_RSA15"] = 0
		e["libadminsettings.UACONFIGMANAGER_ENDPOINT_SECURITY_BASIC256"] = 0
	}
	s.bump()
}

// clone returns a copy of an object without its write-only password.
func clone(o object) object {
	c := maps.Clone(o)
	delete(c, pUserPass)
	return c
}

func isBuiltinGroup(n string) bool {
	return n == "Administrators" || n == "Server Users" || n == "Anonymous Clients"
}

func isBuiltinUser(n string) bool {
	return n == "Administrator" || n == "Data Client" || n == "Default User"
}

// invalidName returns the server's message for a bad object name, or "".
func invalidName(n string) string {
	switch {
	case strings.TrimSpace(n) == "":
		return "The name must not be empty."
	case strings.HasPrefix(n, "_"):
		return fmt.Sprintf("The name '%s' is invalid: names cannot start with an underscore.", n)
	case len([]rune(n)) > 31:
		return fmt.Sprintf("The name '%s' is longer than 31 characters.", n)
	}
	return ""
}
