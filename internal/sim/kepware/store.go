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
	pAgentType = "iot_gateway.AGENTTYPES_TYPE"
	pItemTag   = "iot_gateway.IOT_ITEM_SERVER_TAG"
	pEPOn      = "libadminsettings.UACONFIGMANAGER_ENDPOINT_ENABLE"
	pEPAdapter = "libadminsettings.UACONFIGMANAGER_ENDPOINT_ADAPTER"
	pEPPort    = "libadminsettings.UACONFIGMANAGER_ENDPOINT_PORT"
	pEPURL     = "libadminsettings.UACONFIGMANAGER_ENDPOINT_URL"
	pEPNone    = "libadminsettings.UACONFIGMANAGER_ENDPOINT_SECURITY_NONE"
	pEPSha256  = "libadminsettings.UACONFIGMANAGER_ENDPOINT_SECURITY_BASIC256_SHA256"
	pEP128     = "libadminsettings.UACONFIGMANAGER_ENDPOINT_SECURITY_BASIC128_RSA15"
	pEP256     = "libadminsettings.UACONFIGMANAGER_ENDPOINT_SECURITY_BASIC256"
)

// agentCollections are the IoT Gateway's agent collections, in the order
// ?content=type_definition lists them; agentTypes maps each to the
// iot_gateway.AGENTTYPES_TYPE its agents carry.
var (
	agentCollections = []string{"mqtt_clients", "rest_clients", "rest_servers"}
	agentTypes       = map[string]string{"mqtt_clients": "MQTT Client", "rest_clients": "REST Client", "rest_servers": "REST Server"}
)

// agentDefaults are a new agent's properties (inferred defaults).
func agentDefaults(typ string) object {
	o := object{pDesc: "", "iot_gateway.AGENTTYPES_ENABLED": true, "iot_gateway.IGNORE_QUALITY_CHANGES": false}
	switch typ {
	case "MQTT Client":
		maps.Copy(o, object{"iot_gateway.MQTT_CLIENT_URL": "tcp://localhost:1883", "iot_gateway.MQTT_CLIENT_TOPIC": "iotgateway",
			"iot_gateway.MQTT_CLIENT_QOS": 1, "iot_gateway.MQTT_CLIENT_CLIENT_ID": "", "iot_gateway.MQTT_CLIENT_USERNAME": "",
			"iot_gateway.MQTT_TLS_VERSION": 0, "iot_gateway.MQTT_CLIENT_CERTIFICATE": false})
	case "REST Client":
		maps.Copy(o, object{"iot_gateway.REST_CLIENT_URL": "http://127.0.0.1:3000", "iot_gateway.REST_CLIENT_METHOD": 0,
			"iot_gateway.REST_CLIENT_USERNAME": ""})
	case "REST Server":
		maps.Copy(o, object{"iot_gateway.REST_SERVER_NETWORK_ADAPTER": "Localhost only", "iot_gateway.REST_SERVER_PORT_NUMBER": 39320,
			"iot_gateway.REST_SERVER_CORS_ALLOWED_ORIGINS": "", "iot_gateway.REST_SERVER_USE_HTTPS": true,
			"iot_gateway.REST_SERVER_ENABLE_WRITE_ENDPOINT": false, "iot_gateway.REST_SERVER_ALLOW_ANONYMOUS_LOGIN": false})
	}
	return o
}

// systemTags are the server tags an IoT item may reference in the
// simulator (it has no channels): the _System tags.
var systemTags = []string{"_System._Date", "_System._DateTime", "_System._DateTimeLocal", "_System._Date_Day", "_System._Date_Month",
	"_System._Date_Year2", "_System._Date_Year4", "_System._Time", "_System._Time_Hour", "_System._Time_Minute", "_System._Time_Second",
	"_System._ActiveTagCount", "_System._ClientCount", "_System._ProjectTitle"}

func itemKey(coll, agent string) string { return coll + "/" + agent }

// itemName is an IoT item's name: the server tag with the leading "_"
// dropped and "." replaced by "_" (PTC's SDK builds item URLs this way;
// the server names items after their tag, whatever name is posted).
func itemName(tag string) string {
	return strings.ReplaceAll(strings.TrimPrefix(tag, "_"), ".", "_")
}

// addItem creates one IoT item under an agent.
func (s *store) addItem(coll, agent string, o object, line int) *apiMsg {
	tag, _ := o[pItemTag].(string)
	if !slices.Contains(systemTags, tag) {
		m := validation(pItemTag, fmt.Sprintf("The server tag '%s' does not exist.", tag), line)
		return &m
	}
	key := itemKey(coll, agent)
	name := itemName(tag)
	if find(s.items[key], name) >= 0 {
		m := validation(pName, fmt.Sprintf("The name '%s' is already used.", name), line)
		return &m
	}
	n := merge(object{pDesc: "", "iot_gateway.IOT_ITEM_USE_SCAN_RATE": true, "iot_gateway.IOT_ITEM_SCAN_RATE_MS": 1000,
		"iot_gateway.IOT_ITEM_SEND_EVERY_SCAN": false, "iot_gateway.IOT_ITEM_DEADBAND_PERCENT": 0,
		"iot_gateway.IOT_ITEM_ENABLED": true, "iot_gateway.IOT_ITEM_DATA_TYPE": -1}, o)
	n[pName] = name
	s.items[key] = append(s.items[key], n)
	return nil
}

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
	items     map[string][]object // itemKey -> IoT items
	secrets   map[string]string   // write-only agent passwords, by agent and property
	admin     object              // /config/v1/admin settings
	jobs      map[string]object   // "<service>/<id>" -> job status
	jobSeq    int
	backups   []object
	trail     []auditEntry // Configuration API changes (transaction and audit logs)
}

// auditEntry is one change recorded for /log and /audit_log.
type auditEntry struct {
	id                    int
	at                    time.Time
	action, user, details string
}

func (s *store) audit(at time.Time, action, user, details string) {
	s.trail = append(s.trail, auditEntry{id: len(s.trail) + 1, at: at.UTC(), action: action, user: user, details: details})
	if len(s.trail) > maxLog {
		s.trail = s.trail[len(s.trail)-maxLog:]
	}
}

// maxLog bounds the event log and the audit trail.
const maxLog = 20000

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
	s := &store{cfg: cfg, projectID: 960924075, passwords: map[string]string{}, items: map[string][]object{},
		secrets: map[string]string{}, jobs: map[string]object{}}
	s.admin = object{"libadminsettings.EVENT_LOG_CONNECTION_PORT": 57217, "libadminsettings.EVENT_LOG_PERSISTENCE": 0,
		"libadminsettings.EVENT_LOG_MAX_RECORDS": 25000, "libadminsettings.EVENT_LOG_LOG_TO_CONSOLE": false,
		"libadminsettings.CONFIG_API_PERSISTENCE": 0, "libadminsettings.CONFIG_API_MAX_RECORDS": 10000}
	if cfg.Edge { // Local License Server settings: Kepware Edge only
		maps.Copy(s.admin, object{"libadminsettings.LICENSING_SERVER_ENABLE": false, "libadminsettings.LICENSING_SERVER_NAME": "",
			"libadminsettings.LICENSING_SERVER_PORT": 7070, "libadminsettings.LICENSING_SERVER_SSL_PORT": 1443,
			"libadminsettings.LICENSING_SERVER_ALLOW_INSECURE_COMMS": false, "libadminsettings.LICENSING_SERVER_ALLOW_SELF_SIGNED_CERTS": false,
			"libadminsettings.LICENSING_CLIENT_ALIAS": "", "libadminsettings.LICENSING_CHECK_PERIOD_MINS": 5})
	}
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
			"iot_gateway.REST_SERVER_ENABLE_WRITE_ENDPOINT": true, "iot_gateway.REST_SERVER_ALLOW_ANONYMOUS_LOGIN": false}},
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
	if len(s.events) > maxLog {
		s.events = s.events[len(s.events)-maxLog:]
	}
}

func (s *store) bump() { s.projectID += 7 }

var errUnauthorized = errors.New("unauthorized")

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

// checkPassword applies the User Manager's rule as PTC's own tests meet
// it: 14 to 512 characters mixing at least three of upper case, lower
// case, digits and special characters (their "Kepware400400400" has no
// special character and is accepted; CONFORMANCE.md).
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
	classes := 0
	for _, b := range []bool{lo, up, dig, sp} {
		if b {
			classes++
		}
	}
	if classes < 3 {
		return fmt.Errorf("the password must mix at least three of upper case, lower case, digits and special characters")
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
		a["iot_gateway.REST_SERVER_ENABLE_WRITE_ENDPOINT"] = false
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
