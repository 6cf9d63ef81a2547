// Package kepware is the PTC Kepware catalog: the guide's recommendations
// as steps. The words (ids, sections, titles, why, SRs, cautions,
// attestations, input labels, the confirm screens' timing) are in
// steps.toml; this file holds the checks, plans, input validators and
// guards, keyed by step id.
package kepware

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/commission-tool/commission/internal/catalog"
	"github.com/commission-tool/commission/internal/devices"
	device "github.com/commission-tool/commission/internal/devices/kepware"
	"github.com/commission-tool/commission/internal/printable"
	"github.com/commission-tool/commission/internal/probe"
	"github.com/commission-tool/commission/internal/steps"
)

//go:generate go run ../gen

// The steps' words are steps.toml's. prose_gen.go holds them as
// stepsProse, read and checked by catalog.LoadProse when go generate
// wrote it, so that no command parses TOML; TestProseIsGenerated fails
// when the two disagree.

type kstate = device.State

// PasswordRules are the guide's: at least 14 characters mixing upper and
// lower case, digits and special characters, not a common one.
var PasswordRules = catalog.PasswordRules{MinLength: 14, MaxLength: 512, Classes: 4, CheckCommon: true}

// Catalog returns the Kepware catalog: the guide's sections 3 to 8 in
// the order of steps.toml (guide order). Kepware applies a change when
// it accepts it, with no restart: each changing step's caution says what
// it interrupts.
func Catalog() steps.Catalog[device.State] {
	p, st, err := build()
	if err != nil {
		// prose_gen.go is steps.toml, checked: the tests make this unreachable
		panic("catalog/kepware: " + err.Error())
	}
	return steps.Catalog[device.State]{
		Family:   p.Family,
		Guide:    p.Guide,
		Steps:    st,
		Guards:   []steps.Guard[device.State]{guardOwnAccount, guardBuiltins},
		Clone:    func(s device.State) device.State { return s.Clone() },
		Identity: func(s device.State) devices.Identity { return s.Identity },
	}
}

// Timing is the wording of the wizard's confirm screens for a Kepware
// server, which applies each change when it accepts it.
func Timing() catalog.Timing {
	return stepsProse.Timing
}

func build() (catalog.Prose, []steps.Step[kstate], error) {
	p := stepsProse
	if len(p.Effects) > 0 {
		return p, nil, errors.New("steps.toml: [effects] names kinds of change, but no Kepware plan appends an effect")
	}
	st, err := catalog.Build(p, code())
	return p, st, err
}

// code is every step's Go side, keyed by the step id of steps.toml.
// Manual steps without a check or an input have no code beyond their
// place here.
func code() map[string]catalog.Code[kstate] {
	return map[string]catalog.Code[kstate]{
		"kepware.3.1.host":              {},
		"kepware.3.2.windows-users":     {},
		"kepware.3.3.perimeter":         {},
		"kepware.3.4.non-production":    {},
		"kepware.4.1.installer":         installer(),
		"kepware.4.2.install":           {},
		"kepware.5.1.appdata":           {},
		"kepware.5.2.opc-da":            opcDA(),
		"kepware.5.3.default-user":      defaultUser(),
		"kepware.5.3.server-users":      serverUsers(),
		"kepware.6.1.ua-group":          role(roleUA),
		"kepware.6.1.ua-anonymous":      uaAnonymous(),
		"kepware.6.1.ua-endpoints":      uaEndpoints(),
		"kepware.6.1.ua-config-manager": {},
		"kepware.6.2.mqtt":              client(device.MQTTClients, "MQTT", []string{"ssl", "wss", "mqtts"}),
		"kepware.6.3.rest-client":       client(device.RESTClients, "REST client", []string{"https"}),
		"kepware.6.4.rest-group":        role(roleREST),
		"kepware.6.4.rest-server-write": restServerWrite(),
		"kepware.6.4.rest-server-https": restServerHTTPS(),
		"kepware.6.4.rest-server-cors":  restServerCORS(),
		"kepware.7.1.api-group":         role(roleAPI),
		"kepware.7.1.config-http":       configHTTP(),
		"kepware.7.1.certificate":       certificate(),
		"kepware.7.1.ports":             listeningPorts(),
		"kepware.7.1.api-service":       {},
		"kepware.7.1.sanitize":          {},
		"kepware.7.1.event-log":         eventLog(),
		"kepware.8.2.diagnostics":       diagnostics(),
		"kepware.8.1.upgrades":          upgrades(),
		"kepware.8.3.dependencies":      {},
		"kepware.8.4.project-file":      {},
		"kepware.8.5.documentation":     {},
	}
}

func ports(s kstate) catalog.Ports { return catalog.Ports(s.Observed.Ports) }

// required returns a validator that refuses an empty value with the
// given instruction.
func required(instruction string) func(string) error {
	return func(v string) error {
		if strings.TrimSpace(v) == "" {
			return errors.New(instruction)
		}
		return nil
	}
}

func quoteOrNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return printable.String(s)
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

func installer() catalog.Code[kstate] {
	return catalog.Code[kstate]{
		Validate: map[string]func(string) error{"file": catalog.ValidatePTCInstallerFile, "sha256": catalog.ValidatePTCSHA256},
		Evidence: func(ctx context.Context, in steps.Values) (string, error) {
			return catalog.FileSHA256Matches(ctx, strings.TrimSpace(in["file"]), in["sha256"])
		},
	}
}

func opcDA() catalog.Code[kstate] {
	text := func(p device.Project) string {
		return fmt.Sprintf("OPC DA 1.0 %s, 2.0 %s, 3.0 %s", catalog.OnOff(p.OPCDA1), catalog.OnOff(p.OPCDA2), catalog.OnOff(p.OPCDA3))
	}
	return catalog.Code[kstate]{
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

// samePasswords checks the password input against its confirmation and
// the guide's rules.
func samePasswords(in steps.Values) (string, error) {
	if in["password"] != in["confirm"] {
		return "", errors.New("the two passwords differ: type the same password twice")
	}
	if err := PasswordRules.Check(in["password"]); err != nil {
		return "", err
	}
	return in["password"], nil
}

func defaultUser() catalog.Code[kstate] {
	return catalog.Code[kstate]{
		Validate: map[string]func(string) error{"password": PasswordRules.Check},
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
			if _, ok := s.UserNamed(device.UserDefault); !ok {
				f.Compliant, f.Observed = true, `there is no "Default User"`
			}
			return f
		},
		Plan: func(s kstate, in steps.Values) (steps.Plan[kstate], error) {
			pw, err := samePasswords(in)
			if err != nil {
				return steps.Plan[kstate]{}, err
			}
			if _, ok := s.UserNamed(device.UserDefault); !ok {
				return steps.Plan[kstate]{}, errors.New(`the server has no "Default User"`)
			}
			return steps.Plan[kstate]{
				Changes: []steps.Change{{Setting: "Default User password", From: "empty or unknown", To: "new password (not shown)"}},
				Mutate:  func(d *kstate) error { d.SetSecret("user:"+device.UserDefault, pw); return nil },
			}, nil
		},
	}
}

// adminPerms are the permissions no least-privilege group needs.
var adminPerms = []string{"SERVER_MANAGE_LICENSES", "SERVER_MODIFY_SERVER_SETTINGS", "SERVER_DISCONNECT_CLIENTS",
	"SERVER_REPLACE_RUNTIME_PROJECT", "SERVER_RESET_EVENT_LOG", "SERVER_RESET_OPC_DIAGS_LOG",
	"SERVER_RESET_COMM_DIAGS_LOG", "SERVER_OPCUA_DOTNET_CONFIGURATION"}

func permsText(g device.Group) string {
	var on []string
	for _, p := range device.Permissions {
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
func excess(g device.Group, forbid []string) []string {
	var out []string
	for _, p := range slices.Concat(adminPerms, forbid) {
		if g.Perms[p] {
			out = append(out, p)
		}
	}
	return out
}

func serverUsers() catalog.Code[kstate] {
	forbid := []string{"PROJECTMOD_ADD", "PROJECTMOD_EDIT", "PROJECTMOD_DELETE", "IO_TAG_DYNAMIC_ADDRESSING", "SYSTEM_TAG_WRITE", "INTERNAL_TAG_WRITE"}
	return catalog.Code[kstate]{
		Check: func(s kstate) steps.Finding {
			g, ok := s.GroupNamed(device.GroupServerUsers)
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
			g, ok := s.GroupNamed(device.GroupServerUsers)
			if !ok {
				return steps.Plan[kstate]{}, errors.New("the server has no Server Users group")
			}
			x := excess(g, forbid)
			return steps.Plan[kstate]{
				// revoking permissions removes them from the group
				Changes: []steps.Change{{Setting: "Server Users permissions", From: permsText(g), To: "without " + strings.Join(x, ", "), Deletes: true}},
				Mutate: func(d *kstate) error {
					for i := range d.Groups {
						if d.Groups[i].Name == device.GroupServerUsers {
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

// kepRole is a purpose the guide wants its own least-privilege group for.
// Its purpose words the findings; the step's words are in steps.toml.
type kepRole struct {
	purpose, defGroup, defUser string
	keywords                   []string // a group whose name holds one of these serves the role
	perms                      []string // what the tool grants
	forbid                     []string // beyond adminPerms
}

var (
	projectMods = []string{"PROJECTMOD_ADD", "PROJECTMOD_EDIT", "PROJECTMOD_DELETE"}
	roleUA      = kepRole{purpose: "OPC UA clients", defGroup: "OPC UA Clients", defUser: "ua-client",
		keywords: []string{"ua"}, perms: []string{"IO_TAG_READ", "SYSTEM_TAG_READ", "BROWSE_BROWSENAMESPACE"}, forbid: projectMods}
	roleREST = kepRole{purpose: "the REST Server agent", defGroup: "REST Server Clients", defUser: "rest-client",
		keywords: []string{"rest"}, perms: []string{"IO_TAG_READ", "BROWSE_BROWSENAMESPACE"}, forbid: projectMods}
	roleAPI = kepRole{purpose: "the Configuration API", defGroup: "Config API Users", defUser: "config-api",
		keywords: []string{"api", "config"}, perms: []string{"PROJECTMOD_ADD", "PROJECTMOD_EDIT", "PROJECTMOD_DELETE",
			"SERVER_VIEW_EVENT_LOG_SECURITY", "SERVER_VIEW_EVENT_LOG_ERROR", "SERVER_VIEW_EVENT_LOG_WARNING", "SERVER_VIEW_EVENT_LOG_INFO", "BROWSE_BROWSENAMESPACE"}}
)

// roleGroups returns the enabled custom groups that serve the role, with
// at least one enabled user and no excess permission, and the others.
func roleGroups(s kstate, r kepRole) (good, bad []string) {
	for _, g := range s.Groups {
		if g.Name == device.GroupAdministrators || g.Name == device.GroupServerUsers || g.Name == device.GroupAnonymous {
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
		return errors.New("names that start with an underscore are refused by Kepware")
	case len([]rune(v)) > 31:
		return errors.New("use at most 31 characters")
	case printable.String(v) != v || strings.ContainsAny(v, "\"'<>&/\\"):
		return errors.New(`use letters, digits, spaces, dot, dash and underscore only`)
	}
	return nil
}

func role(r kepRole) catalog.Code[kstate] {
	return catalog.Code[kstate]{
		Validate: map[string]func(string) error{"group": validateKepName, "user": validateKepName, "password": PasswordRules.Check},
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
			for _, p := range device.Permissions {
				perms[p] = slices.Contains(r.perms, p)
			}
			return steps.Plan[kstate]{
				Changes: []steps.Change{
					{Setting: "User group", From: "(none)", To: gname + ": " + strings.Join(r.perms, ", ")},
					{Setting: "User", From: "(none)", To: uname + " in " + gname + " (new password)"},
				},
				Mutate: func(d *kstate) error {
					d.Groups = append(d.Groups, device.Group{Name: gname, Description: "least privilege for " + r.purpose, Enabled: true, Perms: maps.Clone(perms)})
					d.Users = append(d.Users, device.User{Name: uname, Group: gname, Enabled: true})
					d.SetSecret("user:"+uname, pw)
					return nil
				},
			}, nil
		},
	}
}

func uaAnonymous() catalog.Code[kstate] {
	return catalog.Code[kstate]{
		Check: func(s kstate) steps.Finding {
			return steps.Finding{Applicable: true, Compliant: !s.Project.UAAnonymous,
				Observed: "Allow anonymous login: " + catalog.OnOff(s.Project.UAAnonymous), Expected: "Allow anonymous login: Disabled"}
		},
		Plan: func(s kstate, _ steps.Values) (steps.Plan[kstate], error) {
			return steps.Plan[kstate]{
				Changes: []steps.Change{{Setting: "OPC UA anonymous login", From: catalog.OnOff(s.Project.UAAnonymous), To: "Disabled"}},
				Mutate:  func(d *kstate) error { d.Project.UAAnonymous = false; return nil },
			}, nil
		},
	}
}

func endpointText(e device.UAEndpoint) string {
	dep := e.Deprecated()
	return fmt.Sprintf("%s (port %d, %s): Basic256Sha256 %d, deprecated offered: %s", printable.String(e.Name), e.Port, catalog.OnOff(e.Enabled), e.Basic256Sha256, listOrNone(dep))
}

func uaEndpoints() catalog.Code[kstate] {
	return catalog.Code[kstate]{
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
				// the endpoint stays; its deprecated policies are switched off
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

func agentsOf(s kstate, coll string) []device.Agent {
	var out []device.Agent
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

// client is the MQTT or REST client step: TLS URL and credentials.
func client(coll, what string, schemes []string) catalog.Code[kstate] {
	ok := func(a device.Agent) bool {
		good := hasScheme(a.URL, schemes...) && a.Username != ""
		if coll == device.MQTTClients {
			good = good && (a.TLSVersion == 0 || a.TLSVersion == 3)
		}
		return good
	}
	text := func(a device.Agent) string {
		user := a.Username
		if user == "" {
			user = "(none)"
		}
		return fmt.Sprintf("%s: %s, user %s", printable.String(a.Name), printable.String(a.URL), printable.String(user))
	}
	return catalog.Code[kstate]{
		Validate: map[string]func(string) error{
			"agent": required("enter the name of the agent to change, as the check lists it"),
			"url": func(v string) error {
				if !hasScheme(v, schemes...) {
					return fmt.Errorf("use a URL that starts with %s://", strings.Join(schemes, ":// or "))
				}
				return nil
			},
			"username": required("enter the user name the broker or server issued for this agent"),
			"password": PasswordRules.Check,
		},
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
			i := slices.IndexFunc(s.Agents, func(a device.Agent) bool { return a.Collection == coll && a.Name == name })
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
							if coll == device.MQTTClients && d.Agents[j].TLSVersion != 0 {
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

func restServersText(as []device.Agent, f func(device.Agent) string) string {
	var parts []string
	for _, a := range as {
		parts = append(parts, printable.String(a.Name)+": "+f(a))
	}
	return strings.Join(parts, "; ")
}

func restServerHTTPS() catalog.Code[kstate] {
	return catalog.Code[kstate]{
		Check: func(s kstate) steps.Finding {
			as := agentsOf(s, device.RESTServers)
			if len(as) == 0 {
				return steps.Finding{Applicable: false, Reason: "no REST Server agent is configured"}
			}
			ok := !slices.ContainsFunc(as, func(a device.Agent) bool { return !a.UseHTTPS })
			return steps.Finding{Applicable: true, Compliant: ok, Expected: "Use HTTPS: Enabled on every REST Server agent",
				Observed: restServersText(as, func(a device.Agent) string { return "Use HTTPS " + catalog.OnOff(a.UseHTTPS) })}
		},
		Plan: func(s kstate, _ steps.Values) (steps.Plan[kstate], error) {
			return steps.Plan[kstate]{
				Changes: []steps.Change{{Setting: "REST Server Use HTTPS", From: restServersText(agentsOf(s, device.RESTServers), func(a device.Agent) string { return catalog.OnOff(a.UseHTTPS) }), To: "Enabled"}},
				Mutate: func(d *kstate) error {
					for i := range d.Agents {
						if d.Agents[i].Collection == device.RESTServers {
							d.Agents[i].UseHTTPS = true
						}
					}
					return nil
				},
			}, nil
		},
	}
}

func restServerWrite() catalog.Code[kstate] {
	text := func(a device.Agent) string {
		w := "writes refused"
		if a.WriteEndpoint {
			w = "writes accepted"
		}
		if !a.Enabled {
			w += " (agent disabled)"
		}
		return w
	}
	return catalog.Code[kstate]{
		Check: func(s kstate) steps.Finding {
			as := agentsOf(s, device.RESTServers)
			if len(as) == 0 {
				return steps.Finding{Applicable: false, Reason: "no REST Server agent is configured"}
			}
			ok := !slices.ContainsFunc(as, func(a device.Agent) bool { return a.Enabled && a.WriteEndpoint })
			f := steps.Finding{Applicable: true, Compliant: ok, Expected: "Enable Write Endpoint: off on every running REST Server agent",
				Observed: restServersText(as, text)}
			if slices.ContainsFunc(as, func(a device.Agent) bool { return a.WriteEndpoint && a.Anonymous }) {
				f.Notes = append(f.Notes, "an agent accepts writes from anonymous clients: anyone who reaches its port can change tags")
			}
			return f
		},
		Plan: func(s kstate, _ steps.Values) (steps.Plan[kstate], error) {
			as := agentsOf(s, device.RESTServers)
			if len(as) == 0 {
				return steps.Plan[kstate]{}, errors.New("the server has no REST Server agent")
			}
			return steps.Plan[kstate]{
				// a setting switched off: the agent and its read endpoint stay
				Changes: []steps.Change{{Setting: "REST Server Enable Write Endpoint", From: restServersText(as, text), To: "writes refused on every agent"}},
				Mutate: func(d *kstate) error {
					for i := range d.Agents {
						if d.Agents[i].Collection == device.RESTServers {
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

func restServerCORS() catalog.Code[kstate] {
	return catalog.Code[kstate]{
		Validate: map[string]func(string) error{"origins": func(v string) error { _, err := parseOrigins(v); return err }},
		Check: func(s kstate) steps.Finding {
			as := agentsOf(s, device.RESTServers)
			if len(as) == 0 {
				return steps.Finding{Applicable: false, Reason: "no REST Server agent is configured"}
			}
			ok := !slices.ContainsFunc(as, func(a device.Agent) bool { return !corsOK(a.CORS) })
			return steps.Finding{Applicable: true, Compliant: ok, Expected: "CORS Allowed Origins: the site's origins, never '*'",
				Observed: restServersText(as, func(a device.Agent) string { return "CORS " + quoteOrNone(a.CORS) })}
		},
		Defaults: func(s kstate) steps.Values {
			for _, a := range agentsOf(s, device.RESTServers) {
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
				Changes: []steps.Change{{Setting: "REST Server CORS Allowed Origins", From: restServersText(agentsOf(s, device.RESTServers), func(a device.Agent) string { return quoteOrNone(a.CORS) }), To: origins}},
				Mutate: func(d *kstate) error {
					for i := range d.Agents {
						if d.Agents[i].Collection == device.RESTServers {
							d.Agents[i].CORS = origins
						}
					}
					return nil
				},
			}, nil
		},
	}
}

func configHTTP() catalog.Code[kstate] {
	return catalog.Code[kstate]{
		Check: func(s kstate) steps.Finding {
			p := ports(s)
			http, hok := p[device.SvcConfigHTTP]
			https, sok := p[device.SvcConfigHTTPS]
			f := steps.Finding{Applicable: true, Observed: p.Text(device.SvcConfigHTTP, device.SvcConfigHTTPS) + "; the tool uses " + s.Via,
				Expected: "HTTP port closed; HTTPS port open and used by the tool"}
			f.Compliant = hok && sok && http.State != probe.Open && http.State != probe.Failed && https.State == probe.Open && s.Via == "https"
			return f
		},
	}
}

func certificate() catalog.Code[kstate] {
	return catalog.Code[kstate]{
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

func listeningPorts() catalog.Code[kstate] {
	return catalog.Code[kstate]{
		Check: func(s kstate) steps.Finding {
			restOn := slices.ContainsFunc(agentsOf(s, device.RESTServers), func(a device.Agent) bool { return a.Enabled })
			p := ports(s)
			_, uok := p[device.SvcOPCUA]
			_, rok := p[device.SvcRESTServer]
			f := steps.Finding{Applicable: true, Observed: p.Text(device.SvcOPCUA, device.SvcRESTServer) + fmt.Sprintf("; UA interface %s; REST Server agent running: %t", catalog.OnOff(s.Project.UAEnabled), restOn),
				Expected: "OPC UA port open only with the UA interface on; REST Server port open only with a REST Server agent running"}
			f.Compliant = uok && rok && p.Open(device.SvcOPCUA) == s.Project.UAEnabled && p.Open(device.SvcRESTServer) == restOn
			return f
		},
	}
}

func eventLog() catalog.Code[kstate] {
	return catalog.Code[kstate]{
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

func diagnostics() catalog.Code[kstate] {
	text := func(p device.Project) string {
		return fmt.Sprintf("OPC DA diagnostics %s, OPC UA diagnostics %s", catalog.OnOff(p.DADiagnostics), catalog.OnOff(p.UADiagnostics))
	}
	return catalog.Code[kstate]{
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

func upgrades() catalog.Code[kstate] {
	return catalog.Code[kstate]{
		Validate: map[string]func(string) error{"owner": required("name the role or person who follows PTC's advisories")},
		Check: func(s kstate) steps.Finding {
			return steps.Finding{Applicable: true,
				Observed: fmt.Sprintf("%s %s", printable.String(s.Identity.Model), printable.String(s.Identity.Firmware)),
				Expected: "the latest release, or a plan to install it"}
		},
	}
}

// guardOwnAccount keeps the account the tool uses enabled and in
// Administrators, so it can still verify its changes.
func guardOwnAccount(p kstate) error {
	u, ok := p.UserNamed(p.User)
	if !ok {
		return nil
	}
	if !u.Enabled || u.Group != device.GroupAdministrators {
		return fmt.Errorf("this would take %q, the account the tool is using, out of Administrators or disable it: the tool could no longer verify its changes", p.User)
	}
	if g, ok := p.GroupNamed(device.GroupAdministrators); ok && !g.Enabled {
		return errors.New("this would disable the Administrators group, and with it every administrator")
	}
	return nil
}

// guardBuiltins refuses duplicate group and user names in a plan.
func guardBuiltins(p kstate) error {
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
