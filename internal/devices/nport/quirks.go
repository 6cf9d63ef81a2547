package nport

// Quirks is every inferred label and link text of the NPort web console
// and telnet banner that is not part of a generation profile (profile.go).
// Labels follow the hardening guide's screenshots (nport-web-pages.md);
// field names are never used: the driver finds each input by its label,
// so a field test corrects this table, not the code.
type Quirks struct {
	// Menu link texts.
	MenuOverview, MenuBasic, MenuNetwork, MenuConsole, MenuOpModes string
	MenuSNMP, MenuRemoteLog, MenuAccounts, MenuPolicy, MenuNotice  string
	MenuAccessIP, MenuLogSettings, MenuLog, MenuSaveRestart        string
	// OverviewLinks are the texts the Overview entry goes by; LogoutLinks
	// the logout entry's.
	OverviewLinks, LogoutLinks []string
	// MenuAliases are other texts an entry goes by: the guide's menu has
	// "Basic Settings" as a folder holding Time Settings and Console
	// Settings, older consoles a "Basic Settings" page.
	MenuAliases map[string][]string
	// AdminLevels are the User Level texts of an administrator; ActiveWords
	// the texts of an active account in a table without checkboxes.
	AdminLevels, ActiveWords []string

	// Overview rows (compared ignoring case: old firmware writes "Model Name").
	OverviewModel, OverviewMAC, OverviewSerial, OverviewFirmware, OverviewName string

	// Buttons and common option texts.
	Submit, Delete, SaveRestart, Add, Edit string
	Enable, Disable                        string
	ReadWrite, ReadOnly                    string

	// Basic Settings.
	ServerName, TimeZone, TimeServer string
	// Network Settings.
	IPConfig, IPAddress, Netmask, Gateway string
	// Console Settings.
	HTTPConsole, HTTPSConsole, LegacyTLS, TelnetConsole, SerialConsole, MoxaService string
	// Port N.
	OperationMode string
	// SNMP Agent.
	SNMPEnable, ReadCommunity, WriteCommunity, SNMPVersion string
	SNMPv1, SNMPv2, SNMPv3                                 string
	// Remote Log Server.
	SyslogServer, SyslogFacility, SyslogSeverity string
	// Password & Login Policy.
	MinLength, Complexity, Digit, MixedCase, Special, Lifetime string
	Lockout, Threshold, LockoutTime                            string
	// Notification Message.
	LoginMessage, FailureMessage string
	// System Log Settings: columns; rows are the LogEvents keys.
	LocalLog, RemoteLogCol string
	LogGroups              []string
	// Accessible IP List.
	AccessEnable, RuleActive, RuleIP, RuleNetmask string
	// User Account table columns and edit form labels.
	AccActive, AccName, AccLevel                            string
	EditActive, EditName, ChangePassword, Password, Confirm string

	// Telnet banner labels.
	BannerModel, BannerFirmware string
}

// quirks is the table in use.
var quirks = Quirks{
	MenuOverview: "Overview", MenuBasic: "Basic Settings", MenuNetwork: "Network Settings",
	MenuConsole: "Console Settings", MenuOpModes: "Operation Modes", MenuSNMP: "SNMP Agent",
	MenuRemoteLog: "Remote Log Server", MenuAccounts: "User Account", MenuPolicy: "Password & Login Policy",
	MenuNotice: "Notification Message", MenuAccessIP: "Accessible IP List",
	MenuLogSettings: "System Log Settings", MenuLog: "System Log", MenuSaveRestart: "Save/Restart",
	OverviewLinks: []string{"Overview", "Main Menu", "Home"},
	LogoutLinks:   []string{"Logout", "Log out"},
	MenuAliases:   map[string][]string{"Basic Settings": {"Time Settings"}},
	AdminLevels:   []string{"Read Write", "Administrator", "Admin"},
	ActiveWords:   []string{"Yes", "Active", "V", "Enable", "Enabled", "On", "\u2713"},

	OverviewModel: "Model name", OverviewMAC: "MAC address", OverviewSerial: "Serial No.",
	OverviewFirmware: "Firmware version", OverviewName: "Server name",

	Submit: "Submit", Delete: "Delete", SaveRestart: "Save/Restart", Add: "Add", Edit: "Edit",
	Enable: "Enable", Disable: "Disable", ReadWrite: "Read Write", ReadOnly: "Read Only",

	ServerName: "Server name", TimeZone: "Time zone", TimeServer: "Time server",
	IPConfig: "IP configuration", IPAddress: "IP address", Netmask: "Netmask", Gateway: "Gateway",
	HTTPConsole: "HTTP console", HTTPSConsole: "HTTPS console (support TLS v1.2)",
	LegacyTLS: "TLS v1.0/v1.1 for HTTPS console", TelnetConsole: "Telnet console",
	SerialConsole: "Serial console", MoxaService: "Moxa Service",
	OperationMode: "Operation mode",
	SNMPEnable:    "SNMP", ReadCommunity: "Read community string", WriteCommunity: "Write community string",
	SNMPVersion: "SNMP agent version", SNMPv1: "v1", SNMPv2: "v2", SNMPv3: "v3",
	SyslogServer: "SYSLOG server", SyslogFacility: "SYSLOG facility", SyslogSeverity: "SYSLOG severity",
	MinLength: "Password minimum length", Complexity: "Password complexity strength check",
	Digit: "At least one digit (0~9)", MixedCase: "Mixed upper and lower case letters (A~Z, a~z)",
	Special: "At least one special character", Lifetime: "Password lifetime",
	Lockout: "Account login failure lockout", Threshold: "Retry failure threshold", LockoutTime: "Lockout Time",
	LoginMessage: "Login Message", FailureMessage: "Login Authentication Failure Message",
	LocalLog: "Local Log", RemoteLogCol: "Remote Log", LogGroups: []string{"System", "Network", "Config", "OpMode"},
	AccessEnable: "Enable", RuleActive: "Activate the rule", RuleIP: "IP Address", RuleNetmask: "Netmask",
	AccActive: "Active", AccName: "Account Name", AccLevel: "User Level",
	EditActive: "Active", EditName: "Account Name", ChangePassword: "Change Password",
	Password: "Password", Confirm: "Confirm Password",

	BannerModel: "Model name", BannerFirmware: "Firmware version",
}
