package kepware

// Property names and paths of the Configuration API (kepware.md). What is
// inferred rather than confirmed is marked; a field test corrects this
// table, not the code.
const (
	apiBase = "/config/v1"

	pathAbout      = apiBase + "/about"
	pathProject    = apiBase + "/project"
	pathGroups     = apiBase + "/admin/server_usergroups"
	pathUsers      = apiBase + "/admin/server_users"
	pathUAEndpts   = apiBase + "/admin/ua_endpoints" // Kepware Edge only
	pathIoTGateway = apiBase + "/project/_iot_gateway"
	pathEventLog   = apiBase + "/event_log"

	propProjectID = "PROJECT_ID"
	propName      = "common.ALLTYPES_NAME"
	propDesc      = "common.ALLTYPES_DESCRIPTION"

	propDA1     = "opcdaserver.PROJECT_OPC_DA_1_ENABLED"
	propDA2     = "opcdaserver.PROJECT_OPC_DA_2_ENABLED"
	propDA3     = "opcdaserver.PROJECT_OPC_DA_3_ENABLED"
	propDADiags = "opcdaserver.PROJECT_OPC_ENABLE_DIAGS"
	propUAOn    = "uaserverinterface.PROJECT_OPC_UA_ENABLE"
	propUAAnon  = "uaserverinterface.PROJECT_OPC_UA_ANONYMOUS_LOGIN"
	propUADiags = "uaserverinterface.PROJECT_OPC_UA_DIAGNOSTICS"

	// PermPrefix prefixes every group permission property.
	PermPrefix      = "libadminsettings.USERMANAGER_"
	propGroupOn     = "libadminsettings.USERMANAGER_GROUP_ENABLED"
	propUserGroup   = "libadminsettings.USERMANAGER_USER_GROUPNAME"
	propUserOn      = "libadminsettings.USERMANAGER_USER_ENABLED"
	propUserPass    = "libadminsettings.USERMANAGER_USER_PASSWORD"
	propUserType    = "libadminsettings.USERMANAGER_USER_TYPE"
	propAgentOn     = "iot_gateway.AGENTTYPES_ENABLED"
	propMQTTURL     = "iot_gateway.MQTT_CLIENT_URL"
	propMQTTUser    = "iot_gateway.MQTT_CLIENT_USERNAME"
	propMQTTPass    = "iot_gateway.MQTT_CLIENT_PASSWORD"
	propMQTTTLS     = "iot_gateway.MQTT_TLS_VERSION"
	propRESTURL     = "iot_gateway.REST_CLIENT_URL"
	propRESTUser    = "iot_gateway.REST_CLIENT_USERNAME"
	propRESTPass    = "iot_gateway.REST_CLIENT_PASSWORD"
	propRSPort      = "iot_gateway.REST_SERVER_PORT_NUMBER"
	propRSHTTPS     = "iot_gateway.REST_SERVER_USE_HTTPS"
	propRSCORS      = "iot_gateway.REST_SERVER_CORS_ALLOWED_ORIGINS"
	propRSAnonymous = "iot_gateway.REST_SERVER_ALLOW_ANONYMOUS_LOGIN"
	propRSWrite     = "iot_gateway.REST_SERVER_ENABLE_WRITE_ENDPOINT"

	propEPOn     = "libadminsettings.UACONFIGMANAGER_ENDPOINT_ENABLE"
	propEPPort   = "libadminsettings.UACONFIGMANAGER_ENDPOINT_PORT"
	propEPNone   = "libadminsettings.UACONFIGMANAGER_ENDPOINT_SECURITY_NONE"
	propEPSha256 = "libadminsettings.UACONFIGMANAGER_ENDPOINT_SECURITY_BASIC256_SHA256"
	propEP128    = "libadminsettings.UACONFIGMANAGER_ENDPOINT_SECURITY_BASIC128_RSA15"
	propEP256    = "libadminsettings.UACONFIGMANAGER_ENDPOINT_SECURITY_BASIC256"

	// staleHint is inferred: the status and text of a stale PROJECT_ID
	// are not documented (kepware.md §1.6, §10). A 400 that names
	// PROJECT_ID, or whose message mentions the project ID, is taken as
	// a conflict.
	staleHint = "project id"

	// The event log is read in pages of eventPageSize entries, at most
	// eventMaxPages of them (pageSize and pageNumber, kepware.md §6); limit
	// asks for as many entries as the pages hold, in case the server
	// applies its default limit (100) before paging.
	eventPageSize = 200
	eventMaxPages = 10
	// eventTimeLayout is the format of the event_log start/end parameters.
	eventTimeLayout = "2006-01-02T15:04:05.000"
)

// Product is what the driver knows of one Kepware product: which
// Configuration API endpoints it serves. The driver decides from
// product_id and the version in /about, never from a status it guesses.
type Product struct {
	ID   string // product_id in /about
	Name string
	// MinMajor is the oldest major version with the Configuration API
	// endpoints the driver reads.
	MinMajor int
	// UAEndpoints: /admin/ua_endpoints exists (Kepware Edge only; on
	// Kepware Server the OPC UA Configuration Manager holds them).
	UAEndpoints bool
}

// Products lists the products by product_id (kepware.md §1.8, §4.1:
// PTC's SDKs test the UA endpoints only when product_id is "013").
var Products = map[string]Product{
	"012": {ID: "012", Name: "Kepware Server / KEPServerEX", MinMajor: 6, UAEndpoints: false},
	"013": {ID: "013", Name: "Kepware Edge", MinMajor: 1, UAEndpoints: true},
}

// Permissions lists every group permission, without PermPrefix, in the
// order the User Manager shows them.
var Permissions = []string{
	"IO_TAG_READ", "IO_TAG_WRITE", "IO_TAG_DYNAMIC_ADDRESSING",
	"SYSTEM_TAG_READ", "SYSTEM_TAG_WRITE", "INTERNAL_TAG_READ", "INTERNAL_TAG_WRITE",
	"SERVER_MANAGE_LICENSES", "SERVER_MODIFY_SERVER_SETTINGS", "SERVER_DISCONNECT_CLIENTS",
	"SERVER_REPLACE_RUNTIME_PROJECT", "SERVER_RESET_EVENT_LOG", "SERVER_RESET_OPC_DIAGS_LOG",
	"SERVER_RESET_COMM_DIAGS_LOG", "SERVER_OPCUA_DOTNET_CONFIGURATION", "SERVER_CONFIG_API_LOG_ACCESS",
	"SERVER_VIEW_EVENT_LOG_SECURITY", "SERVER_VIEW_EVENT_LOG_ERROR", "SERVER_VIEW_EVENT_LOG_WARNING",
	"SERVER_VIEW_EVENT_LOG_INFO",
	"PROJECTMOD_ADD", "PROJECTMOD_EDIT", "PROJECTMOD_DELETE", "BROWSE_BROWSENAMESPACE",
}
