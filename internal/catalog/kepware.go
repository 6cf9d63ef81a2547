package catalog

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/commission-tool/commission/internal/devices"
	"github.com/commission-tool/commission/internal/devices/kepware"
	"github.com/commission-tool/commission/internal/printable"
	"github.com/commission-tool/commission/internal/probe"
	"github.com/commission-tool/commission/internal/steps"
)

// KepwareGuide names the guide the Kepware catalog follows.
const KepwareGuide = "PTC Kepware, Secure Deployment Guide, sections 3 to 8"

// Kepware timing, in the technician's words, for the wizard's confirm
// screens (tui.Timing): the server applies each change when it accepts
// it, and has no serial links; each step's Caution says what it interrupts.
const (
	// KepwareApplyTiming is shown before a change is sent.
	KepwareApplyTiming = "Kepware applies the change as soon as you press y: nothing restarts. " +
		"The step's caution says what it interrupts (OPC UA or OPC DA sessions, REST or MQTT agents, Configuration API clients). A fresh read then verifies it."
	// KepwareCommitTiming is shown before the verifying read.
	KepwareCommitTiming = "Nothing restarts: the changes are already in effect on the server. The tool reads it again through the Configuration API and verifies each one."
	// KepwareDeleteTiming is shown before a deletion (the tool deletes nothing on Kepware today).
	KepwareDeleteTiming = "Kepware deletes it at once and the tool cannot bring it back: clients that relied on it are refused from then on."
)

// KepwarePasswordRules are the guide's: at least 14 characters mixing
// upper and lower case, digits and special characters, not a common one.
var KepwarePasswordRules = PasswordRules{MinLength: 14, MaxLength: 512, Classes: 4, CheckCommon: true}

type kstate = kepware.State

// Kepware returns the Kepware catalog: the guide's sections 3 to 8 in
// guide order. Kepware applies a change when it accepts it, with no
// restart: each changing step's Caution says what it interrupts.
func Kepware() steps.Catalog[kepware.State] {
	return steps.Catalog[kepware.State]{
		Family:   "kepware",
		Guide:    KepwareGuide,
		Steps:    kepwareSteps(),
		Guards:   []steps.Guard[kepware.State]{guardKepwareOwnAccount, guardKepwareBuiltins},
		Clone:    func(s kepware.State) kepware.State { return s.Clone() },
		Identity: func(s kepware.State) devices.Identity { return s.Identity },
	}
}

// adminPerms are the permissions no least-privilege group needs.
var adminPerms = []string{"SERVER_MANAGE_LICENSES", "SERVER_MODIFY_SERVER_SETTINGS", "SERVER_DISCONNECT_CLIENTS",
	"SERVER_REPLACE_RUNTIME_PROJECT", "SERVER_RESET_EVENT_LOG", "SERVER_RESET_OPC_DIAGS_LOG",
	"SERVER_RESET_COMM_DIAGS_LOG", "SERVER_OPCUA_DOTNET_CONFIGURATION"}

// kepRole is a purpose the guide wants its own least-privilege group for.
type kepRole struct {
	key, section, purpose, defGroup, defUser string
	keywords                                 []string // a group whose name holds one of these serves the role
	perms                                    []string // what the tool grants
	forbid                                   []string // beyond adminPerms
}

var (
	projectMods = []string{"PROJECTMOD_ADD", "PROJECTMOD_EDIT", "PROJECTMOD_DELETE"}
	roleUA      = kepRole{key: "ua-group", section: "6.1.1", purpose: "OPC UA clients", defGroup: "OPC UA Clients", defUser: "ua-client",
		keywords: []string{"ua"}, perms: []string{"IO_TAG_READ", "SYSTEM_TAG_READ", "BROWSE_BROWSENAMESPACE"}, forbid: projectMods}
	roleREST = kepRole{key: "rest-group", section: "6.4.1", purpose: "the REST Server agent", defGroup: "REST Server Clients", defUser: "rest-client",
		keywords: []string{"rest"}, perms: []string{"IO_TAG_READ", "BROWSE_BROWSENAMESPACE"}, forbid: projectMods}
	roleAPI = kepRole{key: "api-group", section: "7.1.1", purpose: "the Configuration API", defGroup: "Config API Users", defUser: "config-api",
		keywords: []string{"api", "config"}, perms: []string{"PROJECTMOD_ADD", "PROJECTMOD_EDIT", "PROJECTMOD_DELETE",
			"SERVER_VIEW_EVENT_LOG_SECURITY", "SERVER_VIEW_EVENT_LOG_ERROR", "SERVER_VIEW_EVENT_LOG_WARNING", "SERVER_VIEW_EVENT_LOG_INFO", "BROWSE_BROWSENAMESPACE"}}
)

func kepwareSteps() []steps.Step[kstate] {
	return []steps.Step[kstate]{
		kManual("kepware.3.1.host", "3.1", groupFirmware, "Harden the Windows host",
			"Kepware is only as safe as the machine it runs on: someone with the console, an unpatched Windows or an unencrypted disk gets the project and its credentials.",
			[]string{"SR 7.7", "SR 3.2", "SR 4.1"},
			"Physical access is restricted; Windows is a supported version with current security patches; the disk and C:\\ProgramData\\Kepware are encrypted; anti-malware runs with current signatures; unused services are off; no other application shares the host."),
		kManual("kepware.3.2.windows-users", "3.2", groupAccounts, "Manage the Windows accounts",
			"Shared or administrator logins on the host hide who changed what and outlive the people who knew them.",
			[]string{"SR 1.1", "SR 1.3", "SR 2.1"},
			"A separate Windows user manages Kepware; each administrator has a personal account; the password policy applies; the screen locks when idle; event log viewing rights follow least privilege."),
		kManual("kepware.3.3.perimeter", "3.3", groupAllowList, "Firewall, intrusion detection and remote-access monitoring",
			"Every port Kepware opens is reachable by whatever the host's firewall lets through; detection and logging show when someone tries.",
			[]string{"SR 5.2", "SR 6.2", "SR 7.7"},
			"The host firewall allows only the ports in use, and its rules are reviewed; an IDS watches the segment; remote access to the host is logged."),
		kManual("kepware.3.4.non-production", "3.4", groupFirmware, "Remove backups, samples and test files",
			"Old project backups and sample scripts on a production host hold configurations and credentials an intruder can read or load.",
			[]string{"SR 7.7", "SR 4.2"},
			"No backup files, sample projects, test files or scripts remain on the production host."),
		installerStep(),
		kManual("kepware.4.2.install", "4.2", groupAccounts, "Install only needed features, with a strong administrator password",
			"Each installed plug-in is more code listening or running; the Administrator password set during installation cannot be reset later.",
			[]string{"SR 7.7", "SR 1.5"},
			"Only the features this plant needs were installed, and the Administrator password set at installation meets the guide's rules and is in the site's vault."),
		kManual("kepware.5.1.appdata", "5.1", groupAccounts, "Restrict the Application Data folder",
			"Whoever can write C:\\ProgramData\\Kepware can change the server's configuration, bypassing its User Manager.",
			[]string{"SR 2.1", "SR 3.4"},
			"Only the users who configure Kepware have read and write on the Application Data folder (no execute needed); the inherited read permission of the Windows 'Users' group is removed."),
		opcDAStep(),
		defaultUserStep(),
		serverUsersStep(),
		roleStep(roleUA),
		uaAnonymousStep(),
		uaEndpointsStep(),
		kManual("kepware.6.1.ua-config-manager", "6.1.2", groupTLS, "Secure the OPC UA server endpoints and certificate",
			"On Kepware Server the UA endpoints live in the OPC UA Configuration Manager, which the API does not reach; deprecated policies (None, Basic128Rsa15, Basic256) let a client connect without real protection.",
			[]string{"SR 4.1", "SR 3.1", "SR 1.8"},
			"Each UA endpoint listens only on the adapter its clients use and offers only current policies (Basic256Sha256 or newer, Sign and Encrypt); the instance certificate is CA-signed, not SHA-1, and not the pre-loaded self-signed one."),
		mqttStep(),
		restClientStep(),
		roleStep(roleREST),
		restServerWriteStep(),
		restServerHTTPSStep(),
		restServerCORSStep(),
		roleStep(roleAPI),
		configHTTPStep(),
		certificateStep(),
		portsStep(),
		kManual("kepware.7.1.api-service", "7.1.3", groupTLS, "Configuration API service: CA certificate and CORS",
			"The API's HTTPS certificate and its CORS list are set in the tray's Configuration API Service settings, out of the API's reach; a '*' CORS origin lets any web page drive the API from a logged-in browser.",
			[]string{"SR 1.8", "SR 3.1", "SR 5.2"},
			"A CA-signed certificate is imported in the Configuration API Service settings; CORS Allowed Origins lists only the site's own domains, never '*'."),
		kManual("kepware.7.1.sanitize", "7.1.4", groupServices, "Sanitise what clients send to and read from the API",
			"Script fragments stored in tag names or descriptions through the API end up in every client that shows them.",
			[]string{"SR 3.5", "SR 3.6"},
			"Every client of the Configuration API validates what it sends and encodes what it shows."),
		eventLogStep(),
		diagnosticsStep(),
		upgradeStep(),
		kManual("kepware.8.3.dependencies", "8.3", groupFirmware, "Watch the external dependencies",
			"Drivers, plug-ins and the libraries Kepware relies on have their own advisories.",
			[]string{"SR 3.4"},
			"Someone follows the advisories of Kepware's external dependencies and upgrades them."),
		kManual("kepware.8.4.project-file", "8.4", groupAccounts, "Save projects with a password",
			"A project file holds the whole configuration; saved without a password (or as JSON) anyone who copies it can read and change it.",
			[]string{"SR 4.1", "SR 3.4"},
			"Projects are saved as .sopf with a password that meets the guide's rules, kept in the vault."),
		kManual("kepware.8.5.documentation", "8.5", groupLogging, "Document changes and review against the guide",
			"A record of every change makes a roll-back possible and shows when a deviation was a choice.",
			[]string{"SR 7.3", "SR 3.3"},
			"Configuration, administrative and runtime changes are documented, and the configuration is reviewed against this guide regularly."),
	}
}

func kManual(id, section, group, title, why string, srs []string, attest string) steps.Step[kstate] {
	return steps.Step[kstate]{Meta: steps.Meta{ID: id, Section: section, Group: group, Title: title, Why: why,
		SRs: srs, Kind: steps.Manual, Attest: attest}}
}

func installerStep() steps.Step[kstate] {
	return steps.Step[kstate]{
		Meta: steps.Meta{ID: "kepware.4.1.installer", Section: "4.1.1", Group: groupFirmware,
			Title: "Check the installer against Kepware's published code",
			Why:   "Only the installer PTC released should run on a plant server; comparing its SHA-256 with the code PTC publishes proves the file was not swapped or damaged.",
			SRs:   []string{"SR 3.4", "SR 1.2"}, Kind: steps.Manual,
			Attest: "The installer that was (or will be) run matches the SHA-256 PTC publishes for this release.",
			Inputs: []steps.Input{
				{Key: "file", Label: "Installer file", Help: "path of the downloaded installer", Validate: ptcInstallerDigest.validateFile},
				{Key: "sha256", Label: "Published SHA-256", Help: "the 64 hex digits from PTC's validation article", Validate: ptcInstallerDigest.validate},
			}},
		Evidence: func(ctx context.Context, in steps.Values) (string, error) {
			return FileSHA256Matches(ctx, strings.TrimSpace(in["file"]), in["sha256"])
		},
	}
}

func opcDAStep() steps.Step[kstate] {
	text := func(p kepware.Project) string {
		return fmt.Sprintf("OPC DA 1.0 %s, 2.0 %s, 3.0 %s", onOff(p.OPCDA1), onOff(p.OPCDA2), onOff(p.OPCDA3))
	}
	return steps.Step[kstate]{
		Meta: steps.Meta{ID: "kepware.5.2.opc-da", Section: "5.2.1", Group: groupServices,
			Title: "Turn off the OPC DA interfaces",
			Why:   "OPC DA rides on DCOM, which is hard to lock down and sends data without encryption. OPC UA, MQTT or REST with TLS do the same job securely.",
			SRs:   []string{"SR 7.7", "SR 3.1", "SR 4.1"}, Kind: steps.Automatic,
			Caution: "Kepware applies this at once: connected OPC DA clients, and the built-in Quick Client, are cut off and cannot reconnect; test with an OPC UA client instead. Repeat for each new project."},
		Check: func(s kstate) steps.Finding {
			p := s.Project
			return steps.Finding{Applicable: true, Compliant: !p.OPCDA1 && !p.OPCDA2 && !p.OPCDA3,
				Observed: text(p), Expected: "OPC DA 1.0, 2.0 and 3.0 Disabled"}
		},
		Plan: func(s kstate, _ steps.Values) (steps.Plan[kstate], error) {
			return steps.Plan[kstate]{
				Changes: []steps.Change{{Setting: "Project Properties > OPC DA", From: text(s.Project), To: "OPC DA 1.0, 2.0, 3.0 Disabled"}},
				Mutate: func(d *kstate) error {
					d.Project.OPCDA1, d.Project.OPCDA2, d.Project.OPCDA3 = false, false, false
					return nil
				},
			}, nil
		},
	}
}

func passwordInputs(label string) []steps.Input {
	return []steps.Input{
		{Key: "password", Label: label, Secret: true, Validate: KepwarePasswordRules.Check,
			Help: "at least 14 characters with upper and lower case, a digit and a special character; not a common password"},
		{Key: "confirm", Label: "Confirm password", Secret: true},
	}
}

func samePasswords(in steps.Values) (string, error) {
	if in["password"] != in["confirm"] {
		return "", errors.New("the two passwords differ: type the same password twice")
	}
	if err := KepwarePasswordRules.Check(in["password"]); err != nil {
		return "", err
	}
	return in["password"], nil
}

func defaultUserStep() steps.Step[kstate] {
	return steps.Step[kstate]{
		Meta: steps.Meta{ID: "kepware.5.3.default-user", Section: "5.3.1", Group: groupAccounts,
			Title: "Give the Default User a strong password",
			Why:   "Default User is a built-in account every installation has; with an empty or weak password anyone who knows the name logs in as a server user.",
			SRs:   []string{"SR 1.5", "SR 1.7", "SR 1.1"}, Kind: steps.Automatic,
			Caution: "Kepware applies this at once: any client that logs in as Default User (a Configuration API request, a new OPC UA session) needs the new password from its next login on.",
			Inputs:  passwordInputs("New password for Default User")},
		Check: func(s kstate) steps.Finding {
			f := steps.Finding{Applicable: true, Expected: `"Default User" refuses an empty password`}
			switch {
			case s.DefaultUserBlank == nil:
				f.Observed = "the empty password could not be tested"
			case *s.DefaultUserBlank:
				f.Observed = `"Default User" logs in with an empty password`
			default:
				f.Compliant, f.Observed = true, `"Default User" refused the empty password`
			}
			if _, ok := s.UserNamed(kepware.UserDefault); !ok {
				f.Compliant, f.Observed = true, `there is no "Default User"`
			}
			return f
		},
		Plan: func(s kstate, in steps.Values) (steps.Plan[kstate], error) {
			pw, err := samePasswords(in)
			if err != nil {
				return steps.Plan[kstate]{}, err
			}
			if _, ok := s.UserNamed(kepware.UserDefault); !ok {
				return steps.Plan[kstate]{}, errors.New(`the server has no "Default User"`)
			}
			return steps.Plan[kstate]{
				Changes: []steps.Change{{Setting: "Default User password", From: "empty or unknown", To: "new password (not shown)"}},
				Mutate:  func(d *kstate) error { d.SetSecret("user:"+kepware.UserDefault, pw); return nil },
			}, nil
		},
	}
}

func permsText(g kepware.Group) string {
	var on []string
	for _, p := range kepware.Permissions {
		if g.Perms[p] {
			on = append(on, p)
		}
	}
	if len(on) == 0 {
		return "(none)"
	}
	return strings.Join(on, ", ")
}

// excess returns the permissions of g that a least-privilege group must not hold.
func excess(g kepware.Group, forbid []string) []string {
	var out []string
	for _, p := range slices.Concat(adminPerms, forbid) {
		if g.Perms[p] {
			out = append(out, p)
		}
	}
	return out
}

func serverUsersStep() steps.Step[kstate] {
	forbid := []string{"PROJECTMOD_ADD", "PROJECTMOD_EDIT", "PROJECTMOD_DELETE", "IO_TAG_DYNAMIC_ADDRESSING", "SYSTEM_TAG_WRITE", "INTERNAL_TAG_WRITE"}
	return steps.Step[kstate]{
		Meta: steps.Meta{ID: "kepware.5.3.server-users", Section: "5.3.2", Group: groupAccounts,
			Title: "Narrow the Server Users group to what its users need",
			Why:   "Server Users holds Default User and every account added without thought; broad rights there let any of them reconfigure the project or the server.",
			SRs:   []string{"SR 2.1", "SR 1.3"}, Kind: steps.Automatic,
			Caution: "Kepware applies this at once: clients logged in as server users lose project editing and server settings with their next request; give such users their own group."},
		Check: func(s kstate) steps.Finding {
			g, ok := s.GroupNamed(kepware.GroupServerUsers)
			if !ok {
				return steps.Finding{Applicable: false, Reason: "the server has no Server Users group"}
			}
			x := excess(g, forbid)
			f := steps.Finding{Applicable: true, Compliant: len(x) == 0, Observed: "Server Users: " + permsText(g),
				Expected: "no server administration, project modification or system/internal tag writes"}
			if len(x) > 0 {
				f.Notes = append(f.Notes, "too broad: "+strings.Join(x, ", "))
			}
			return f
		},
		Plan: func(s kstate, _ steps.Values) (steps.Plan[kstate], error) {
			g, ok := s.GroupNamed(kepware.GroupServerUsers)
			if !ok {
				return steps.Plan[kstate]{}, errors.New("the server has no Server Users group")
			}
			x := excess(g, forbid)
			return steps.Plan[kstate]{
				Changes: []steps.Change{{Setting: "Server Users permissions", From: permsText(g), To: "without " + strings.Join(x, ", ")}},
				Mutate: func(d *kstate) error {
					for i := range d.Groups {
						if d.Groups[i].Name == kepware.GroupServerUsers {
							for _, p := range x {
								d.Groups[i].Perms[p] = false
							}
						}
					}
					return nil
				},
			}, nil
		},
	}
}

// roleGroups returns the enabled custom groups that serve the role, with
// at least one enabled user and no excess permission, and the others.
func roleGroups(s kstate, r kepRole) (good, bad []string) {
	for _, g := range s.Groups {
		if g.Name == kepware.GroupAdministrators || g.Name == kepware.GroupServerUsers || g.Name == kepware.GroupAnonymous {
			continue
		}
		low := strings.ToLower(g.Name)
		if !slices.ContainsFunc(r.keywords, func(k string) bool { return strings.Contains(low, k) }) {
			continue
		}
		users := 0
		for _, u := range s.Users {
			if u.Group == g.Name && u.Enabled {
				users++
			}
		}
		name := printable.String(g.Name)
		switch x := excess(g, r.forbid); {
		case !g.Enabled:
			bad = append(bad, name+" (disabled)")
		case users == 0:
			bad = append(bad, name+" (no enabled user)")
		case len(x) > 0:
			bad = append(bad, name+" (too broad: "+strings.Join(x, ", ")+")")
		default:
			good = append(good, name)
		}
	}
	return good, bad
}

func validateKepName(v string) error {
	v = strings.TrimSpace(v)
	switch {
	case v == "":
		return errors.New("enter a name")
	case strings.HasPrefix(v, "_"):
		return errors.New("Kepware refuses names that start with an underscore")
	case len([]rune(v)) > 31:
		return errors.New("use at most 31 characters")
	case printable.String(v) != v || strings.ContainsAny(v, "\"'<>&/\\"):
		return errors.New(`use letters, digits, spaces, dot, dash and underscore only`)
	}
	return nil
}

func roleStep(r kepRole) steps.Step[kstate] {
	return steps.Step[kstate]{
		Meta: steps.Meta{ID: "kepware." + r.section[:3] + "." + r.key, Section: r.section, Group: groupAccounts,
			Title: "A least-privilege group and user for " + r.purpose,
			Why:   "Giving " + r.purpose + " their own group with only the rights they use means a stolen client password cannot administer the server or rewrite the project, and the log shows which client did what.",
			SRs:   []string{"SR 2.1", "SR 1.3", "SR 1.1"}, Kind: steps.Automatic,
			Caution: "Kepware creates the group and the user at once; nothing that runs is interrupted. Give the new login to the client, then remove its old shared one.",
			Inputs: append([]steps.Input{
				{Key: "group", Label: "Group name", Help: "its name must contain " + strings.Join(quoteAll(r.keywords), " or ") + " so the tool recognises it", Validate: validateKepName},
				{Key: "user", Label: "User name", Help: "one user per client; do not share it", Validate: validateKepName},
			}, passwordInputs("Password for the new user")...)},
		Check: func(s kstate) steps.Finding {
			good, bad := roleGroups(s, r)
			f := steps.Finding{Applicable: true, Compliant: len(good) > 0,
				Observed: "groups for " + r.purpose + ": " + listOrNone(good),
				Expected: "an enabled group for " + r.purpose + " with an enabled user and no administration rights"}
			if len(bad) > 0 {
				f.Notes = append(f.Notes, "not counted: "+strings.Join(bad, "; "))
			}
			return f
		},
		Defaults: func(kstate) steps.Values { return steps.Values{"group": r.defGroup, "user": r.defUser} },
		Plan: func(s kstate, in steps.Values) (steps.Plan[kstate], error) {
			gname, uname := strings.TrimSpace(in["group"]), strings.TrimSpace(in["user"])
			low := strings.ToLower(gname)
			if !slices.ContainsFunc(r.keywords, func(k string) bool { return strings.Contains(low, k) }) {
				return steps.Plan[kstate]{}, fmt.Errorf("name the group so it contains %s (such as %q), so the tool and the next reviewer recognise its purpose", strings.Join(quoteAll(r.keywords), " or "), r.defGroup)
			}
			if _, ok := s.GroupNamed(gname); ok {
				return steps.Plan[kstate]{}, fmt.Errorf("a group named %q already exists: choose another name", gname)
			}
			if _, ok := s.UserNamed(uname); ok {
				return steps.Plan[kstate]{}, fmt.Errorf("a user named %q already exists: choose another name", uname)
			}
			pw, err := samePasswords(in)
			if err != nil {
				return steps.Plan[kstate]{}, err
			}
			perms := map[string]bool{}
			for _, p := range kepware.Permissions {
				perms[p] = slices.Contains(r.perms, p)
			}
			return steps.Plan[kstate]{
				Changes: []steps.Change{
					{Setting: "User group", From: "(none)", To: gname + ": " + strings.Join(r.perms, ", ")},
					{Setting: "User", From: "(none)", To: uname + " in " + gname + " (new password)"},
				},
				Mutate: func(d *kstate) error {
					d.Groups = append(d.Groups, kepware.Group{Name: gname, Description: "least privilege for " + r.purpose, Enabled: true, Perms: maps.Clone(perms)})
					d.Users = append(d.Users, kepware.User{Name: uname, Group: gname, Enabled: true})
					d.SetSecret("user:"+uname, pw)
					return nil
				},
			}, nil
		},
	}
}

func quoteAll(xs []string) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = fmt.Sprintf("%q", x)
	}
	return out
}

func listOrNone(xs []string) string {
	if len(xs) == 0 {
		return "(none)"
	}
	return strings.Join(xs, ", ")
}

func uaAnonymousStep() steps.Step[kstate] {
	return steps.Step[kstate]{
		Meta: steps.Meta{ID: "kepware.6.1.ua-anonymous", Section: "6.1.1", Group: groupAccounts,
			Title: "Refuse anonymous OPC UA logins",
			Why:   "An anonymous UA session reads, and may write, tags without any identity; the guide never permits it.",
			SRs:   []string{"SR 1.1", "SR 1.2", "SR 2.1"}, Kind: steps.Automatic,
			Caution: "Kepware applies this at once: anonymous OPC UA clients can no longer open a session, and those connected may be dropped."},
		Check: func(s kstate) steps.Finding {
			return steps.Finding{Applicable: true, Compliant: !s.Project.UAAnonymous,
				Observed: "Allow anonymous login: " + onOff(s.Project.UAAnonymous), Expected: "Allow anonymous login: Disabled"}
		},
		Plan: func(s kstate, _ steps.Values) (steps.Plan[kstate], error) {
			return steps.Plan[kstate]{
				Changes: []steps.Change{{Setting: "OPC UA anonymous login", From: onOff(s.Project.UAAnonymous), To: "Disabled"}},
				Mutate:  func(d *kstate) error { d.Project.UAAnonymous = false; return nil },
			}, nil
		},
	}
}

func endpointText(e kepware.UAEndpoint) string {
	dep := e.Deprecated()
	return fmt.Sprintf("%s (port %d, %s): Basic256Sha256 %d, deprecated offered: %s", printable.String(e.Name), e.Port, onOff(e.Enabled), e.Basic256Sha256, listOrNone(dep))
}

func uaEndpointsStep() steps.Step[kstate] {
	return steps.Step[kstate]{
		Meta: steps.Meta{ID: "kepware.6.1.ua-endpoints", Section: "6.1.2", Group: groupTLS,
			Title: "UA endpoints: only current security policies",
			Why:   "None sends everything in clear; Basic128Rsa15 and Basic256 rely on SHA-1 and are deprecated. Offering them lets a client, or an attacker in the middle, pick the weakest.",
			SRs:   []string{"SR 4.3", "SR 3.1", "SR 4.1"}, Kind: steps.Automatic,
			Caution: "Kepware Edge applies this at once: OPC UA sessions on a changed endpoint are dropped and must reconnect with Basic256Sha256 (Sign and Encrypt); clients set to a deprecated policy cannot."},
		Check: func(s kstate) steps.Finding {
			if !s.UAEndpointsExposed {
				return steps.Finding{Applicable: false, Reason: "this server does not expose its UA endpoints through the Configuration API (Kepware Server on Windows): see the OPC UA Configuration Manager step"}
			}
			ok := true
			var parts []string
			for _, e := range s.UAEndpoints {
				parts = append(parts, endpointText(e))
				if e.Enabled && (len(e.Deprecated()) > 0 || e.Basic256Sha256 != 2) {
					ok = false
				}
			}
			return steps.Finding{Applicable: true, Compliant: ok, Observed: listOrNone(parts),
				Expected: "every enabled endpoint: Basic256Sha256 Sign and Encrypt only; None, Basic128Rsa15 and Basic256 off"}
		},
		Plan: func(s kstate, _ steps.Values) (steps.Plan[kstate], error) {
			if !s.UAEndpointsExposed {
				return steps.Plan[kstate]{}, errors.New("the Configuration API does not expose the UA endpoints here: change them in the OPC UA Configuration Manager")
			}
			var ch []steps.Change
			for _, e := range s.UAEndpoints {
				ch = append(ch, steps.Change{Setting: "UA endpoint " + printable.String(e.Name), From: endpointText(e), To: "Basic256Sha256 Sign and Encrypt only"})
			}
			return steps.Plan[kstate]{Changes: ch, Mutate: func(d *kstate) error {
				for i := range d.UAEndpoints {
					e := &d.UAEndpoints[i]
					e.None, e.Basic128Rsa15, e.Basic256, e.Basic256Sha256 = false, 0, 0, 2
				}
				return nil
			}}, nil
		},
	}
}

func agentsOf(s kstate, coll string) []kepware.Agent {
	var out []kepware.Agent
	for _, a := range s.Agents {
		if a.Collection == coll {
			out = append(out, a)
		}
	}
	return out
}

func hasScheme(u string, schemes ...string) bool {
	low := strings.ToLower(strings.TrimSpace(u))
	return slices.ContainsFunc(schemes, func(s string) bool { return strings.HasPrefix(low, s+"://") })
}

// clientStep builds the MQTT or REST client step: TLS URL and credentials.
func clientStep(id, section, coll, what string, schemes []string, why string) steps.Step[kstate] {
	ok := func(a kepware.Agent) bool {
		good := hasScheme(a.URL, schemes...) && a.Username != ""
		if coll == kepware.MQTTClients {
			good = good && (a.TLSVersion == 0 || a.TLSVersion == 3)
		}
		return good
	}
	text := func(a kepware.Agent) string {
		user := a.Username
		if user == "" {
			user = "(none)"
		}
		return fmt.Sprintf("%s: %s, user %s", printable.String(a.Name), printable.String(a.URL), printable.String(user))
	}
	return steps.Step[kstate]{
		Meta: steps.Meta{ID: id, Section: section, Group: groupTLS,
			Title: what + " agents: TLS and their own credentials",
			Why:   why,
			SRs:   []string{"SR 4.1", "SR 3.1", "SR 1.5"}, Kind: steps.Automatic,
			Caution: "Kepware applies this at once: the agent reconnects to the new URL with the new credentials, and publishing stops if the broker or server does not accept them yet.",
			Inputs: append([]steps.Input{
				{Key: "agent", Label: "Agent name"},
				{Key: "url", Label: "URL with TLS", Help: "starting with " + strings.Join(schemes, ":// or ") + "://",
					Validate: func(v string) error {
						if !hasScheme(v, schemes...) {
							return fmt.Errorf("use a URL that starts with %s://", strings.Join(schemes, ":// or "))
						}
						return nil
					}},
				{Key: "username", Label: "User name", Validate: required("enter the user name the broker or server issued for this agent")},
			}, passwordInputs("Password")...)},
		Check: func(s kstate) steps.Finding {
			as := agentsOf(s, coll)
			if len(as) == 0 {
				return steps.Finding{Applicable: false, Reason: "no " + what + " agent is configured"}
			}
			f := steps.Finding{Applicable: true, Compliant: true,
				Expected: "every agent uses " + strings.Join(schemes, " or ") + " and has a user name",
				Notes:    []string{"passwords are write-only: the tool checks the guide's rules when it sets one, it cannot read the current one"}}
			var parts []string
			for _, a := range as {
				parts = append(parts, text(a))
				if !ok(a) {
					f.Compliant = false
				}
				if a.TLSVersion == 1 || a.TLSVersion == 2 {
					f.Notes = append(f.Notes, printable.String(a.Name)+" pins TLS 1.0/1.1: use the default or TLS 1.2")
				}
			}
			f.Observed = strings.Join(parts, "; ")
			return f
		},
		Defaults: func(s kstate) steps.Values {
			for _, a := range agentsOf(s, coll) {
				if !ok(a) {
					return steps.Values{"agent": a.Name, "url": a.URL, "username": a.Username}
				}
			}
			return steps.Values{}
		},
		Plan: func(s kstate, in steps.Values) (steps.Plan[kstate], error) {
			name := strings.TrimSpace(in["agent"])
			i := slices.IndexFunc(s.Agents, func(a kepware.Agent) bool { return a.Collection == coll && a.Name == name })
			if i < 0 {
				return steps.Plan[kstate]{}, fmt.Errorf("there is no %s agent named %q", what, name)
			}
			pw, err := samePasswords(in)
			if err != nil {
				return steps.Plan[kstate]{}, err
			}
			a := s.Agents[i]
			url, user := strings.TrimSpace(in["url"]), strings.TrimSpace(in["username"])
			return steps.Plan[kstate]{
				Changes: []steps.Change{{Setting: what + " agent " + name, From: text(a), To: fmt.Sprintf("%s, user %s, new password", url, user)}},
				Mutate: func(d *kstate) error {
					for j := range d.Agents {
						if d.Agents[j].Key() == a.Key() {
							d.Agents[j].URL, d.Agents[j].Username = url, user
							if coll == kepware.MQTTClients && d.Agents[j].TLSVersion != 0 {
								d.Agents[j].TLSVersion = 3
							}
						}
					}
					d.SetSecret("agent:"+a.Key(), pw)
					return nil
				},
			}, nil
		},
	}
}

func mqttStep() steps.Step[kstate] {
	return clientStep("kepware.6.2.mqtt", "6.2.1", kepware.MQTTClients, "MQTT", []string{"ssl", "wss", "mqtts"},
		"Over plain tcp:// the broker password and every published value cross the network in clear, and Kepware cannot tell the real broker from an impostor.")
}

func restClientStep() steps.Step[kstate] {
	return clientStep("kepware.6.3.rest-client", "6.3.1", kepware.RESTClients, "REST client", []string{"https"},
		"Over plain http:// the server's credentials and the data Kepware posts can be read and changed on the way.")
}

func restServersText(as []kepware.Agent, f func(kepware.Agent) string) string {
	var parts []string
	for _, a := range as {
		parts = append(parts, printable.String(a.Name)+": "+f(a))
	}
	return strings.Join(parts, "; ")
}

func restServerHTTPSStep() steps.Step[kstate] {
	return steps.Step[kstate]{
		Meta: steps.Meta{ID: "kepware.6.4.rest-server-https", Section: "6.4.2", Group: groupTLS,
			Title: "REST Server agents: HTTPS only",
			Why:   "Without Use HTTPS the REST Server sends tag values and its clients' credentials in plain text.",
			SRs:   []string{"SR 4.1", "SR 3.1"}, Kind: steps.Automatic,
			Caution: "Kepware applies this at once: the REST Server answers only HTTPS from then on, and clients using http:// URLs fail until they switch to https://."},
		Check: func(s kstate) steps.Finding {
			as := agentsOf(s, kepware.RESTServers)
			if len(as) == 0 {
				return steps.Finding{Applicable: false, Reason: "no REST Server agent is configured"}
			}
			ok := !slices.ContainsFunc(as, func(a kepware.Agent) bool { return !a.UseHTTPS })
			return steps.Finding{Applicable: true, Compliant: ok, Expected: "Use HTTPS: Enabled on every REST Server agent",
				Observed: restServersText(as, func(a kepware.Agent) string { return "Use HTTPS " + onOff(a.UseHTTPS) })}
		},
		Plan: func(s kstate, _ steps.Values) (steps.Plan[kstate], error) {
			return steps.Plan[kstate]{
				Changes: []steps.Change{{Setting: "REST Server Use HTTPS", From: restServersText(agentsOf(s, kepware.RESTServers), func(a kepware.Agent) string { return onOff(a.UseHTTPS) }), To: "Enabled"}},
				Mutate: func(d *kstate) error {
					for i := range d.Agents {
						if d.Agents[i].Collection == kepware.RESTServers {
							d.Agents[i].UseHTTPS = true
						}
					}
					return nil
				},
			}, nil
		},
	}
}

func restServerWriteStep() steps.Step[kstate] {
	text := func(a kepware.Agent) string {
		w := "writes refused"
		if a.WriteEndpoint {
			w = "writes accepted"
		}
		if !a.Enabled {
			w += " (agent disabled)"
		}
		return w
	}
	return steps.Step[kstate]{
		Meta: steps.Meta{ID: "kepware.6.4.rest-server-write", Section: "6.4.1", Group: groupAccounts,
			Title: "REST Server agents: read only unless a client must write",
			Why:   "With the write endpoint on, anyone holding a REST Server login, or any page a logged-in browser opens when CORS is loose, can change tag values in the plant. Least privilege means a REST Server that only publishes data answers reads, not writes.",
			SRs:   []string{"SR 2.1", "SR 7.7", "SR 3.1"}, Kind: steps.Automatic,
			Caution: "Kepware applies this at once: REST clients that write tags through the agent's write endpoint get an error from then on; reads and OPC UA clients are not affected. If a client must write, waive this step with its name and give it a user in its own least-privilege group."},
		Check: func(s kstate) steps.Finding {
			as := agentsOf(s, kepware.RESTServers)
			if len(as) == 0 {
				return steps.Finding{Applicable: false, Reason: "no REST Server agent is configured"}
			}
			ok := !slices.ContainsFunc(as, func(a kepware.Agent) bool { return a.Enabled && a.WriteEndpoint })
			f := steps.Finding{Applicable: true, Compliant: ok, Expected: "Enable Write Endpoint: off on every running REST Server agent",
				Observed: restServersText(as, text)}
			if slices.ContainsFunc(as, func(a kepware.Agent) bool { return a.WriteEndpoint && a.Anonymous }) {
				f.Notes = append(f.Notes, "an agent accepts writes from anonymous clients: anyone who reaches its port can change tags")
			}
			return f
		},
		Plan: func(s kstate, _ steps.Values) (steps.Plan[kstate], error) {
			as := agentsOf(s, kepware.RESTServers)
			if len(as) == 0 {
				return steps.Plan[kstate]{}, errors.New("the server has no REST Server agent")
			}
			return steps.Plan[kstate]{
				Changes: []steps.Change{{Setting: "REST Server Enable Write Endpoint", From: restServersText(as, text), To: "writes refused on every agent"}},
				Mutate: func(d *kstate) error {
					for i := range d.Agents {
						if d.Agents[i].Collection == kepware.RESTServers {
							d.Agents[i].WriteEndpoint = false
						}
					}
					return nil
				},
			}, nil
		},
	}
}

// parseOrigins checks a CORS allow list: comma-separated http(s) origins, no "*".
func parseOrigins(v string) (string, error) {
	var out []string
	for _, o := range strings.Split(v, ",") {
		o = strings.TrimSpace(o)
		if o == "" {
			continue
		}
		if strings.Contains(o, "*") {
			return "", errors.New("do not use '*': list the site's own origins, such as https://hmi.plant.example")
		}
		if !hasScheme(o, "https", "http") || strings.Count(o, "/") > 2 || printable.String(o) != o || strings.ContainsAny(o, " \"'<>") {
			return "", fmt.Errorf("%q is not an origin: use scheme://host[:port], such as https://hmi.plant.example", o)
		}
		out = append(out, o)
	}
	if len(out) == 0 {
		return "", errors.New("enter at least one origin, such as https://hmi.plant.example")
	}
	return strings.Join(out, ","), nil
}

func corsOK(c string) bool { return strings.TrimSpace(c) != "" && !strings.Contains(c, "*") }

func restServerCORSStep() steps.Step[kstate] {
	return steps.Step[kstate]{
		Meta: steps.Meta{ID: "kepware.6.4.rest-server-cors", Section: "6.4.2", Group: groupAllowList,
			Title: "REST Server agents: CORS only for the site's own origins",
			Why:   "A '*' CORS origin lets any web page a plant user opens read (or write) tags through the REST Server from that user's browser.",
			SRs:   []string{"SR 5.2", "SR 2.1"}, Kind: steps.Automatic,
			Caution: "Kepware applies this at once: browser pages from other origins can no longer call the REST Server; clients that are not browsers are not affected.",
			Inputs: []steps.Input{{Key: "origins", Label: "Allowed origins", Help: "comma-separated, such as https://hmi.plant.example",
				Validate: func(v string) error { _, err := parseOrigins(v); return err }}}},
		Check: func(s kstate) steps.Finding {
			as := agentsOf(s, kepware.RESTServers)
			if len(as) == 0 {
				return steps.Finding{Applicable: false, Reason: "no REST Server agent is configured"}
			}
			ok := !slices.ContainsFunc(as, func(a kepware.Agent) bool { return !corsOK(a.CORS) })
			return steps.Finding{Applicable: true, Compliant: ok, Expected: "CORS Allowed Origins: the site's origins, never '*'",
				Observed: restServersText(as, func(a kepware.Agent) string { return "CORS " + quoteOrNone(a.CORS) })}
		},
		Defaults: func(s kstate) steps.Values {
			for _, a := range agentsOf(s, kepware.RESTServers) {
				if corsOK(a.CORS) {
					return steps.Values{"origins": a.CORS}
				}
			}
			return steps.Values{}
		},
		Plan: func(s kstate, in steps.Values) (steps.Plan[kstate], error) {
			origins, err := parseOrigins(in["origins"])
			if err != nil {
				return steps.Plan[kstate]{}, err
			}
			return steps.Plan[kstate]{
				Changes: []steps.Change{{Setting: "REST Server CORS Allowed Origins", From: restServersText(agentsOf(s, kepware.RESTServers), func(a kepware.Agent) string { return quoteOrNone(a.CORS) }), To: origins}},
				Mutate: func(d *kstate) error {
					for i := range d.Agents {
						if d.Agents[i].Collection == kepware.RESTServers {
							d.Agents[i].CORS = origins
						}
					}
					return nil
				},
			}, nil
		},
	}
}

func kPortText(s kstate, names ...string) string {
	var parts []string
	for _, n := range names {
		r, ok := s.Observed.Ports[n]
		if !ok {
			parts = append(parts, n+": not probed")
			continue
		}
		parts = append(parts, fmt.Sprintf("%s %d/%s %s", n, r.Port, r.Network, r.State))
	}
	return strings.Join(parts, ", ")
}

func kPortState(s kstate, name string) (probe.PortState, bool) {
	r, ok := s.Observed.Ports[name]
	return r.State, ok
}

func configHTTPStep() steps.Step[kstate] {
	return steps.Step[kstate]{
		Meta: steps.Meta{ID: "kepware.7.1.config-http", Section: "7.1.2", Group: groupServices,
			Title: "Configuration API: HTTP off, HTTPS only",
			Why:   "Over HTTP the API's Basic-auth password and the whole configuration cross the network in clear; the guide requires HTTPS in production.",
			SRs:   []string{"SR 4.1", "SR 3.1", "SR 7.7"}, Kind: steps.Automatic,
			Caution: "The API cannot turn its own HTTP off: use Settings > Configuration API Service > Enable HTTP: No, then check again."},
		Check: func(s kstate) steps.Finding {
			httpState, hok := kPortState(s, kepware.SvcConfigHTTP)
			httpsState, sok := kPortState(s, kepware.SvcConfigHTTPS)
			f := steps.Finding{Applicable: true, Observed: kPortText(s, kepware.SvcConfigHTTP, kepware.SvcConfigHTTPS) + "; the tool uses " + s.Via,
				Expected: "HTTP port closed; HTTPS port open and used by the tool"}
			f.Compliant = hok && sok && httpState != probe.Open && httpState != probe.Failed && httpsState == probe.Open && s.Via == "https"
			return f
		},
	}
}

func certificateStep() steps.Step[kstate] {
	return steps.Step[kstate]{
		Meta: steps.Meta{ID: "kepware.7.1.certificate", Section: "7.1.3", Group: groupTLS,
			Title: "Configuration API certificate: current, strong, CA-signed when possible",
			Why:   "An expired certificate trains users to click through warnings; a SHA-1 signature can be forged and an RSA key under 2048 bits can be broken, so a client cannot be sure it talks to this server. A CA-signed one lets clients check it without a pin.",
			SRs:   []string{"SR 1.8", "SR 3.1", "SR 4.3"}, Kind: steps.Automatic,
			Caution: "Replace the certificate in the Configuration API Service settings (Import Certificate), then check again; the tool will ask you to trust the new fingerprint."},
		Check: func(s kstate) steps.Finding {
			c := s.Observed.APICert
			f := steps.Finding{Applicable: true, Expected: "not expired, valid 30 more days, signed with SHA-256 or better, RSA keys of 2048 bits or more; CA-signed preferred"}
			if c == nil {
				msg := printable.String(s.Observed.TLS.Error)
				if msg == "" {
					msg = "the certificate could not be read"
				}
				f.Observed = "no certificate seen on the HTTPS port: " + msg
				return f
			}
			f.Observed = fmt.Sprintf("%s, valid until %s, signature %s, %s %d-bit key, SHA-256 %s",
				printable.String(c.Subject), c.NotAfter.Format("2006-01-02"), printable.String(c.SigAlg), printable.String(c.KeyAlg), c.KeyBits, c.SHA256Hex)
			for _, p := range c.Problems {
				f.Notes = append(f.Notes, "deviation: "+printable.String(p))
			}
			soon := !c.NotAfter.After(time.Now().AddDate(0, 0, 30))
			if soon && len(c.Problems) == 0 {
				f.Notes = append(f.Notes, "the certificate expires on "+c.NotAfter.Format("2006-01-02")+": renew it now")
			}
			f.Compliant = len(c.Problems) == 0 && !soon
			if c.SelfSigned {
				f.Notes = append(f.Notes, "the certificate is self-signed: the tool pinned its fingerprint; import one from the plant's CA when possible")
			}
			return f
		},
	}
}

func portsStep() steps.Step[kstate] {
	return steps.Step[kstate]{
		Meta: steps.Meta{ID: "kepware.7.1.ports", Section: "6", Group: groupServices,
			Title: "Only the interfaces in use listen",
			Why:   "The OPC UA port should answer only while the UA interface is in use, and the REST Server port only while a REST Server agent runs; anything else listening is surface nobody watches.",
			SRs:   []string{"SR 7.7", "SR 5.2"}, Kind: steps.Automatic},
		Check: func(s kstate) steps.Finding {
			restOn := slices.ContainsFunc(agentsOf(s, kepware.RESTServers), func(a kepware.Agent) bool { return a.Enabled })
			ua, uok := kPortState(s, kepware.SvcOPCUA)
			rest, rok := kPortState(s, kepware.SvcRESTServer)
			f := steps.Finding{Applicable: true, Observed: kPortText(s, kepware.SvcOPCUA, kepware.SvcRESTServer) + fmt.Sprintf("; UA interface %s; REST Server agent running: %t", onOff(s.Project.UAEnabled), restOn),
				Expected: "OPC UA port open only with the UA interface on; REST Server port open only with a REST Server agent running"}
			f.Compliant = uok && rok && (ua == probe.Open) == s.Project.UAEnabled && (rest == probe.Open) == restOn
			return f
		},
	}
}

func eventLogStep() steps.Step[kstate] {
	return steps.Step[kstate]{
		Meta: steps.Meta{ID: "kepware.7.1.event-log", Section: "7.1.3", Group: groupLogging,
			Title: "Read the security events since commissioning began",
			Why:   "Failed logins and user changes you did not make are the first sign that someone else is at the server; the guide asks to monitor the event log while the API is in use.",
			SRs:   []string{"SR 6.1", "SR 2.8"}, Kind: steps.Manual,
			Attest: "I read the security events shown here; each failed login and user change is explained."},
		Check: func(s kstate) steps.Finding {
			sec := s.SecurityEvents()
			var lines []string
			for _, e := range sec {
				lines = append(lines, e.Time.Format("2006-01-02 15:04:05")+" "+printable.String(e.Message))
			}
			if len(lines) > 10 {
				lines = lines[len(lines)-10:]
			}
			f := steps.Finding{Applicable: true,
				Observed: fmt.Sprintf("%d security events since %s: %s", len(sec), s.Since.Format("2006-01-02 15:04"), listOrNone(lines)),
				Expected: "every failed login and user change explained"}
			if s.EventLog.Complete {
				f.Notes = append(f.Notes, fmt.Sprintf("the whole event log since %s was read (%d page(s))", s.Since.Format("2006-01-02 15:04"), s.EventLog.Pages))
			} else {
				f.Notes = append(f.Notes, "not the whole window: "+printable.String(s.EventLog.Note))
			}
			return f
		},
	}
}

func diagnosticsStep() steps.Step[kstate] {
	text := func(p kepware.Project) string {
		return fmt.Sprintf("OPC DA diagnostics %s, OPC UA diagnostics %s", onOff(p.DADiagnostics), onOff(p.UADiagnostics))
	}
	return steps.Step[kstate]{
		Meta: steps.Meta{ID: "kepware.8.2.diagnostics", Section: "8.2.1", Group: groupLogging,
			Title: "Turn diagnostics off when not in use",
			Why:   "Diagnostic capture records client traffic and values, fills the disk and slows the server; it belongs to troubleshooting sessions only.",
			SRs:   []string{"SR 7.7", "SR 7.2"}, Kind: steps.Automatic,
			Caution: "Kepware applies this at once: diagnostic capture stops; no client is interrupted."},
		Check: func(s kstate) steps.Finding {
			return steps.Finding{Applicable: true, Compliant: !s.Project.DADiagnostics && !s.Project.UADiagnostics,
				Observed: text(s.Project), Expected: "both Disabled"}
		},
		Plan: func(s kstate, _ steps.Values) (steps.Plan[kstate], error) {
			return steps.Plan[kstate]{
				Changes: []steps.Change{{Setting: "Project diagnostics", From: text(s.Project), To: "both Disabled"}},
				Mutate: func(d *kstate) error {
					d.Project.DADiagnostics, d.Project.UADiagnostics = false, false
					return nil
				},
			}, nil
		},
	}
}

func upgradeStep() steps.Step[kstate] {
	return steps.Step[kstate]{
		Meta: steps.Meta{ID: "kepware.8.1.upgrades", Section: "8.1", Group: groupFirmware,
			Title: "Have a plan to validate and install upgrades",
			Why:   "PTC ships security fixes in new releases; without a test-and-deploy plan the server stays on today's version and its known flaws.",
			SRs:   []string{"SR 3.4", "SR 3.3"}, Kind: steps.Manual,
			Attest: "Someone follows PTC's security advisories, tests new releases off-line and installs them promptly.",
			Inputs: []steps.Input{advisoryOwner("PTC")}},
		Check: func(s kstate) steps.Finding {
			return steps.Finding{Applicable: true,
				Observed: fmt.Sprintf("%s %s", printable.String(s.Identity.Model), printable.String(s.Identity.Firmware)),
				Expected: "the latest release, or a plan to install it"}
		},
	}
}

// guardKepwareOwnAccount keeps the account the tool uses enabled and in
// Administrators, so it can still verify its changes.
func guardKepwareOwnAccount(p kstate) error {
	u, ok := p.UserNamed(p.User)
	if !ok {
		return nil
	}
	if !u.Enabled || u.Group != kepware.GroupAdministrators {
		return fmt.Errorf("this would take %q, the account the tool is using, out of Administrators or disable it: the tool could no longer verify its changes", p.User)
	}
	if g, ok := p.GroupNamed(kepware.GroupAdministrators); ok && !g.Enabled {
		return errors.New("this would disable the Administrators group, and with it every administrator")
	}
	return nil
}

// guardKepwareBuiltins refuses to disable built-in users and groups
// (the server refuses it too) and duplicate names in a plan.
func guardKepwareBuiltins(p kstate) error {
	seen := map[string]bool{}
	for _, g := range p.Groups {
		if seen[strings.ToLower(g.Name)] {
			return fmt.Errorf("the plan creates the group %q twice: choose another name", g.Name)
		}
		seen[strings.ToLower(g.Name)] = true
	}
	seen = map[string]bool{}
	for _, u := range p.Users {
		if seen[strings.ToLower(u.Name)] {
			return fmt.Errorf("the plan creates the user %q twice: choose another name", u.Name)
		}
		seen[strings.ToLower(u.Name)] = true
	}
	return nil
}
