package catalog

import (
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/commission-tool/commission/internal/devices"
	"github.com/commission-tool/commission/internal/devices/thingspro"
	"github.com/commission-tool/commission/internal/printable"
	"github.com/commission-tool/commission/internal/probe"
	"github.com/commission-tool/commission/internal/steps"
)

// ThingsProGuide names the guide the ThingsPro catalog follows.
const ThingsProGuide = "Moxa, Enforce Secured Setting on ThingsPro Edge, v1.1 (2022-03-02), sections 1 to 4"

type tstate = thingspro.State

// ThingsProPasswordRules are ours for gateway accounts: the gateway only
// asks for 6 characters; the guide's spirit asks for more.
var ThingsProPasswordRules = PasswordRules{MinLength: 12, MaxLength: 256, Classes: 3, CheckCommon: true}

// ThingsPro returns the ThingsPro Edge catalog: every recommendation of
// the guide's sections 1 to 4, in guide order, except that turning the
// HTTPS service off comes last.
func ThingsPro() steps.Catalog[thingspro.State] {
	return steps.Catalog[thingspro.State]{
		Family:   "thingspro",
		Guide:    ThingsProGuide,
		Steps:    thingsproSteps(),
		Guards:   []steps.Guard[thingspro.State]{guardTPLastAdmin, guardTPOwnAccount, guardTPManagementLAN, guardTPKeepHTTPS},
		Clone:    func(s thingspro.State) thingspro.State { return s.Clone() },
		Identity: func(s thingspro.State) devices.Identity { return s.Identity },
	}
}

const backupCaution = "Each interface or service turned off is one less way back in: if the remaining path fails, someone must reach the gateway in person."

// ThingsPro timing, in the technician's words, for the wizard's confirm
// screens (tui.Timing): the gateway applies each change at once.
const (
	// ThingsProApplyTiming is shown before a change is sent.
	ThingsProApplyTiming = "The gateway applies the change as soon as you press y: nothing restarts and no serial link drops. " +
		"Each line says what it interrupts. A fresh read (r on the overview) then verifies it."
	// ThingsProCommitTiming is shown before the verifying read.
	ThingsProCommitTiming = "Nothing restarts: the changes are already in effect. The tool reads the gateway again and verifies each one."
	// ThingsProDeleteTiming is shown before a deletion.
	ThingsProDeleteTiming = "The gateway deletes it at once and the tool cannot bring it back: logins or traffic that relied on it are refused from then on."
)

// tpEffects says, per kind of change, when it takes effect on a
// ThingsPro Edge gateway and what it interrupts. The gateway applies
// every setting at once: there is no restart and no serial link to drop.
// The interruptions are inferred from what each service does.
var tpEffects = map[string]string{
	thingspro.SvcHTTP:         "at once: the HTTP port closes; a browser on http:// loses the page",
	thingspro.SvcLocalConsole: "at once: a session on the serial console ends",
	thingspro.SvcNAT:          "at once: field devices below the gateway lose their direct Internet path",
	thingspro.SvcSDCard:       "at once: the card is released; an app writing to it fails",
	thingspro.SvcSSH:          "at once: open SSH sessions drop",
	"proxy":                   "at once: ThingsPro Proxy can no longer find or provision the gateway",
	thingspro.KindEthernet:    "at once: every link on the port drops",
	thingspro.KindCellular:    "at once: the cellular connection drops",
	thingspro.KindWiFi:        "at once: the Wi-Fi connection and its clients drop",
	thingspro.KindDHCPServer:  "at once: no new address leases; devices keep theirs until the lease runs out",
	"account-new":             "at once; nothing is interrupted",
	"account-password":        "at once: the next login as this account needs the new password",
	"account-remove":          "at once: the account's sessions end and it can no longer log in",
	"time":                    "at once: the clock may jump at the first NTP sync; later log lines use the new zone",
	"cert":                    "at once: the HTTPS service serves the new certificate; open web sessions reconnect",
	"firewall":                "at once: connections that relied on the rule are refused",
}

// tpTo is a preview's new value with when it takes effect.
func tpTo(to, effect string) string {
	if e := tpEffects[effect]; e != "" {
		return to + " (" + e + ")"
	}
	return to
}

func thingsproSteps() []steps.Step[tstate] {
	return []steps.Step[tstate]{
		tpPersonalAccountStep(),
		tpDefaultAccountStep(),
		tpInterfaceStep("thingspro.2.1.1.cellular", "2.1.1", thingspro.KindCellular, "Turn cellular off if it is not used",
			"A cellular modem is a path into the gateway that bypasses the plant firewall entirely. If the application does not send data over it, it should not be up.",
			[]string{"SR 7.7", "SR 5.2", "SR 1.13"}),
		tpInterfaceStep("thingspro.2.1.2.dhcp-server", "2.1.2", thingspro.KindDHCPServer, "Turn the DHCP server off if it is not used",
			"A DHCP server hands out addresses to anything plugged in, which makes it easy for a stranger's laptop to join the gateway's network.",
			[]string{"SR 7.7", "SR 7.6"}),
		tpLANStep(),
		tpInterfaceStep("thingspro.2.1.4.wifi", "2.1.4", thingspro.KindWiFi, "Turn Wi-Fi off if it is not used",
			"Wi-Fi reaches beyond the cabinet and the fence. If the application does not need it, an open radio is only a way in.",
			[]string{"SR 7.7", "SR 1.6", "SR 5.2"}),
		tpServiceStep("thingspro.2.2.1.http", "2.2.1", "Turn the plain-HTTP service off",
			"HTTP carries the login and every setting in clear text. Even as a redirect it keeps a port open that HTTPS does not need.",
			[]string{"SR 7.7", "SR 4.1", "SR 3.1"}, thingspro.SvcHTTP, "HTTP service", "http"),
		tpServiceStep("thingspro.2.2.2.local-console", "2.2.2", "Turn the local console port off",
			"The serial console is left on for debugging. Anyone with physical access and a cable can use it, which matters most in an unattended cabinet.",
			[]string{"SR 7.7", "SR 1.1"}, thingspro.SvcLocalConsole, "Local console", ""),
		tpServiceStep("thingspro.2.2.3.nat", "2.2.3", "Turn the NAT service off if field devices need no Internet",
			"NAT lets the devices below the gateway reach the Internet directly. Unless they need to, it only widens what a compromised field device can reach.",
			[]string{"SR 5.2", "SR 7.7"}, thingspro.SvcNAT, "NAT service", ""),
		tpServiceStep("thingspro.2.2.4.sd-card", "2.2.4", "Keep the SD card off unless it is needed",
			"A removable card is easy to pull and read later. Keep it off unless the application stores data on it, and never keep secrets there.",
			[]string{"SR 7.7", "SR 4.1"}, thingspro.SvcSDCard, "SD card", ""),
		tpServiceStep("thingspro.2.2.5.ssh", "2.2.5", "Turn the SSH server off once set-up is done",
			"SSH gives a full shell on the gateway. It helps during set-up, but left on it is the most powerful way in for anyone who learns a password.",
			[]string{"SR 7.7", "SR 1.1", "SR 2.1"}, thingspro.SvcSSH, "SSH server", "ssh"),
		tpProxyStep(),
		tpTimeStep(),
		tpCertStep(),
		tpFirewallStep(),
		tpLogStep(),
		tpCloudStep("thingspro.4.azure-device", thingspro.AppAzureDevice, "Azure IoT Device"),
		tpCloudStep("thingspro.4.azure-iotedge", thingspro.AppAzureEdge, "Azure IoT Edge"),
		tpCloudStep("thingspro.4.aws", thingspro.AppAWS, "AWS IoT Core"),
		tpCloudStep("thingspro.4.mqtt", thingspro.AppMQTT, "MQTT client"),
		tpCloudStep("thingspro.4.sparkplug", thingspro.AppSparkplug, "Sparkplug"),
		tpHTTPSOffStep(),
	}
}

func tpAccountsText(s tstate) string {
	var parts []string
	for _, u := range s.Users {
		st := "active"
		if !u.Active {
			st = "inactive"
		}
		parts = append(parts, fmt.Sprintf("%s (%s, %s)", u.Name, strings.Join(u.Roles, "+"), st))
	}
	if len(parts) == 0 {
		return "(none)"
	}
	return strings.Join(parts, ", ")
}

func tpPersonal(s tstate) []thingspro.User {
	var out []thingspro.User
	for _, u := range s.Users {
		if u.Active && !strings.EqualFold(u.Name, thingspro.DefaultUser) && len(u.Roles) > 0 {
			out = append(out, u)
		}
	}
	return out
}

func ensureSecrets(d *tstate) {
	if d.Secrets == nil {
		d.Secrets = map[string]string{}
	}
}

var roleName = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9+=,.@_-]{0,63}$`)

func tpPersonalAccountStep() steps.Step[tstate] {
	return steps.Step[tstate]{
		Meta: steps.Meta{ID: "thingspro.1.1.personal-account", Section: "1.1", Group: groupAccounts,
			Title: "Give each person an account with a role",
			Why:   "The default account's password is printed in public manuals, and a shared account hides who changed what. One account per person, with only the permissions their role needs, fixes both.",
			SRs:   []string{"SR 1.1", "SR 1.3", "SR 2.1"}, Kind: steps.Automatic,
			Caution: "Run this once per person. A role other than Administrator is created with device-management permission only.",
			Inputs: []steps.Input{
				{Key: "name", Label: "Account name", Help: "the person's own name, not admin", Validate: validateAccountName},
				{Key: "role", Label: "Role", Help: "Administrator, or a role name such as operator", Validate: func(v string) error {
					if !roleName.MatchString(strings.TrimSpace(v)) {
						return errors.New("use 1-64 letters, digits and +=,.@_- starting with a letter or digit, such as operator")
					}
					return nil
				}},
				{Key: "password", Label: "Password", Help: "at least 12 characters with three of: lower case, upper case, digit, special", Secret: true, Validate: ThingsProPasswordRules.Check},
				{Key: "confirm", Label: "Confirm password", Secret: true},
			}},
		Defaults: func(tstate) steps.Values { return steps.Values{"role": thingspro.AdminRole} },
		Check: func(s tstate) steps.Finding {
			f := steps.Finding{Applicable: true, Compliant: len(tpPersonal(s)) > 0,
				Observed: "accounts: " + tpAccountsText(s),
				Expected: "at least one active personal account (not admin) holding a role"}
			custom := 0
			for _, r := range s.Roles {
				if r.Name != thingspro.AdminRole {
					custom++
				}
			}
			if custom == 0 {
				f.Notes = append(f.Notes, "only the built-in Administrator role exists: people who only operate the gateway need a role with fewer permissions")
			}
			return f
		},
		Plan: func(s tstate, in steps.Values) (steps.Plan[tstate], error) {
			name, role := strings.TrimSpace(in["name"]), strings.TrimSpace(in["role"])
			if in["password"] != in["confirm"] {
				return steps.Plan[tstate]{}, errors.New("the two passwords differ: type the same password twice")
			}
			if _, ok := s.UserByName(name); ok {
				return steps.Plan[tstate]{}, fmt.Errorf("an account named %q already exists: choose another name", name)
			}
			for _, r := range s.Roles {
				if strings.EqualFold(r.Name, role) {
					role = r.Name
				}
			}
			to := name + " (role " + role + ", active, new password)"
			if !slices.ContainsFunc(s.Roles, func(r thingspro.Role) bool { return r.Name == role }) {
				to += "; new role " + role + " with device management permission"
			}
			pw := in["password"]
			return steps.Plan[tstate]{
				Changes: []steps.Change{{Setting: "User account", From: "(none)", To: tpTo(to+"; the tool reads it back and checks its role", "account-new")}},
				Mutate: func(d *tstate) error {
					d.Users = append(d.Users, thingspro.User{Name: name, Active: true, Roles: []string{role}})
					ensureSecrets(d)
					d.Secrets[name] = pw
					return nil
				},
			}, nil
		},
	}
}

func tpDefaultAccountStep() steps.Step[tstate] {
	return steps.Step[tstate]{
		Meta: steps.Meta{ID: "thingspro.1.2.default-account", Section: "1.2", Group: groupAccounts,
			Title: "Remove the default account or change its password",
			Why:   "admin / admin@123 is in every installation guide. Until the account is gone or its password changed, anyone who reaches the gateway owns it.",
			SRs:   []string{"SR 1.5", "SR 1.1", "SR 1.3"}, Kind: steps.Automatic,
			Caution: "The gateway never removes its last administrator, and the tool removes or deactivates admin only once it has read another administrator back from the gateway: create a personal administrator first, and log in with it. If you keep admin, store its new password in the site's vault.",
			Inputs: []steps.Input{
				{Key: "action", Label: "What to do with admin", Options: []string{"change-password", "deactivate", "delete"}},
				{Key: "password", Label: "New admin password", Help: "for change-password: at least 12 characters with three of lower, upper, digit, special", Secret: true, Validate: func(v string) error {
					if v == "" {
						return nil // only needed to change the password; Plan checks
					}
					return ThingsProPasswordRules.Check(v)
				}},
				{Key: "confirm", Label: "Confirm password", Secret: true},
			}},
		Defaults: func(tstate) steps.Values { return steps.Values{"action": "change-password"} },
		Check: func(s tstate) steps.Finding {
			a, ok := s.UserByName(thingspro.DefaultUser)
			f := steps.Finding{Applicable: true, Expected: "admin deleted or inactive, or its factory password changed"}
			switch {
			case !ok:
				f.Observed, f.Compliant = "no admin account", true
			case !a.Active:
				f.Observed, f.Compliant = "admin is inactive", true
			case s.DefaultLogin != nil && *s.DefaultLogin:
				f.Observed = "admin logs in with the factory password"
			case a.PasswordChanged:
				f.Observed, f.Compliant = "admin is active; its password was changed", true
			default:
				f.Observed = "admin is active and its password was never changed"
			}
			return f
		},
		Plan: func(s tstate, in steps.Values) (steps.Plan[tstate], error) {
			a, ok := s.UserByName(thingspro.DefaultUser)
			if !ok {
				return steps.Plan[tstate]{}, errors.New("there is no admin account: nothing to do")
			}
			switch in["action"] {
			case "delete":
				return steps.Plan[tstate]{
					Changes: []steps.Change{{Setting: "User account admin", From: "present", To: tpTo("deleted", "account-remove")}},
					Mutate: func(d *tstate) error {
						for i := range d.Users {
							if d.Users[i].Name == thingspro.DefaultUser {
								d.Users[i].Delete = true
							}
						}
						return nil
					},
				}, nil
			case "deactivate":
				if !a.Active {
					return steps.Plan[tstate]{}, errors.New("admin is already inactive: nothing to do")
				}
				return steps.Plan[tstate]{
					Changes: []steps.Change{{Setting: "User account admin", From: "active", To: tpTo("inactive (kept, with its roles)", "account-remove")}},
					Mutate: func(d *tstate) error {
						for i := range d.Users {
							if d.Users[i].Name == thingspro.DefaultUser {
								d.Users[i].Active = false
							}
						}
						return nil
					},
				}, nil
			}
			pw := in["password"]
			if pw == "" {
				return steps.Plan[tstate]{}, errors.New("enter the new admin password, or choose delete")
			}
			if pw != in["confirm"] {
				return steps.Plan[tstate]{}, errors.New("the two passwords differ: type the same password twice")
			}
			from := "factory or unknown"
			if a.PasswordChanged {
				from = "changed before"
			}
			return steps.Plan[tstate]{
				Changes: []steps.Change{{Setting: "admin password", From: from, To: tpTo("new password (not recorded)", "account-password")}},
				Mutate: func(d *tstate) error {
					ensureSecrets(d)
					d.Secrets[thingspro.DefaultUser] = pw
					return nil
				},
			}, nil
		},
	}
}

func tpIfaceText(s tstate, kind string) string {
	var parts []string
	for _, it := range s.Interfaces {
		if it.Kind == kind {
			if it.EnableUnknown {
				parts = append(parts, it.Name+" unknown (the gateway's reply does not say)")
				continue
			}
			parts = append(parts, it.Name+" "+onOff(it.Enable))
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

// tpInterfaceStep turns every interface of one kind off.
func tpInterfaceStep(id, section, kind, title, why string, srs []string) steps.Step[tstate] {
	return steps.Step[tstate]{
		Meta: steps.Meta{ID: id, Section: section, Group: groupServices, Title: title, Why: why, SRs: srs, Kind: steps.Automatic,
			Caution: backupCaution + " If the application uses it, waive this step and say what for."},
		Check: func(s tstate) steps.Finding {
			f := steps.Finding{Applicable: true, Compliant: true, Observed: tpIfaceText(s, kind), Expected: "every one Disabled"}
			any := false
			for _, it := range s.Interfaces {
				if it.Kind == kind {
					any = true
					if it.Enable || it.EnableUnknown {
						f.Compliant = false
					}
				}
			}
			if !any {
				return steps.Finding{Applicable: false, Reason: "this gateway has no " + kind + " interface", Observed: "none", Expected: "Disabled"}
			}
			return f
		},
		Plan: func(s tstate, _ steps.Values) (steps.Plan[tstate], error) {
			var ch []steps.Change
			for _, it := range s.Interfaces {
				if it.Kind == kind && (it.Enable || it.EnableUnknown) {
					from := "Enabled"
					if it.EnableUnknown {
						from = "unknown"
					}
					ch = append(ch, steps.Change{Setting: it.Name, From: from, To: tpTo("Disabled", kind)})
				}
			}
			return steps.Plan[tstate]{Changes: ch, Mutate: func(d *tstate) error {
				for i := range d.Interfaces {
					if d.Interfaces[i].Kind == kind {
						d.Interfaces[i].Enable = false
					}
				}
				return nil
			}}, nil
		},
	}
}

func tpLANStep() steps.Step[tstate] {
	return steps.Step[tstate]{
		Meta: steps.Meta{ID: "thingspro.2.1.3.lan", Section: "2.1.3", Group: groupServices,
			Title: "Turn unused LAN ports off",
			Why:   "An unused but live Ethernet port lets anyone with a cable and a minute in the cabinet onto the gateway's network.",
			SRs:   []string{"SR 7.7", "SR 5.2"}, Kind: steps.Automatic,
			Caution: backupCaution + " The port this laptop uses stays on; list any other port the application uses.",
			Inputs:  []steps.Input{{Key: "keep", Label: "LAN ports in use", Help: "comma-separated, such as LAN1; the port this laptop uses always stays on"}}},
		Defaults: func(s tstate) steps.Values {
			if i := s.ManagementInterface(); i >= 0 {
				return steps.Values{"keep": s.Interfaces[i].Name}
			}
			return steps.Values{}
		},
		Check: func(s tstate) steps.Finding {
			mgmt := s.ManagementInterface()
			f := steps.Finding{Applicable: true, Compliant: true, Observed: tpIfaceText(s, thingspro.KindEthernet),
				Expected: "only the LAN ports in use Enabled"}
			for i, it := range s.Interfaces {
				if it.Kind == thingspro.KindEthernet && (it.Enable || it.EnableUnknown) && i != mgmt {
					f.Compliant = false
				}
			}
			if mgmt >= 0 {
				f.Notes = append(f.Notes, "this laptop reaches the gateway through "+s.Interfaces[mgmt].Name)
			} else {
				f.Notes = append(f.Notes, "the tool cannot tell which LAN port it uses (the gateway is reached through another address)")
			}
			if !f.Compliant {
				f.Notes = append(f.Notes, "if the other ports are in use, waive this step and say what for")
			}
			return f
		},
		Plan: func(s tstate, in steps.Values) (steps.Plan[tstate], error) {
			keep := map[string]bool{}
			for _, k := range strings.Split(in["keep"], ",") {
				if k = strings.TrimSpace(k); k != "" {
					found := slices.ContainsFunc(s.Interfaces, func(it thingspro.Interface) bool {
						return it.Kind == thingspro.KindEthernet && strings.EqualFold(it.Name, k)
					})
					if !found {
						return steps.Plan[tstate]{}, fmt.Errorf("there is no LAN port %q: the gateway has %s", k, tpIfaceText(s, thingspro.KindEthernet))
					}
					keep[strings.ToLower(k)] = true
				}
			}
			mgmt := s.ManagementInterface()
			var ch []steps.Change
			off := map[int]bool{}
			for i, it := range s.Interfaces {
				if it.Kind == thingspro.KindEthernet && (it.Enable || it.EnableUnknown) && i != mgmt && !keep[strings.ToLower(it.Name)] {
					from := "Enabled"
					if it.EnableUnknown {
						from = "unknown"
					}
					ch = append(ch, steps.Change{Setting: it.Name, From: from, To: tpTo("Disabled", thingspro.KindEthernet)})
					off[i] = true
				}
			}
			if len(ch) == 0 {
				return steps.Plan[tstate]{}, errors.New("every enabled LAN port is in use: nothing to turn off; waive this step if that is intended")
			}
			return steps.Plan[tstate]{Changes: ch, Mutate: func(d *tstate) error {
				for i := range off {
					d.Interfaces[i].Enable = false
				}
				return nil
			}}, nil
		},
	}
}

func tpPortText(s tstate, name string) string {
	r, ok := s.Observed.Ports[name]
	if !ok {
		return name + ": not probed"
	}
	return fmt.Sprintf("%s %d/%s %s", name, r.Port, r.Network, r.State)
}

func tpClosed(s tstate, name string) bool {
	r, ok := s.Observed.Ports[name]
	return ok && (r.State == probe.Closed || r.State == probe.Filtered)
}

// tpServiceStep turns one service off, proven by a probe when it has a port.
func tpServiceStep(id, section, title, why string, srs []string, svc, label, port string) steps.Step[tstate] {
	return steps.Step[tstate]{
		Meta: steps.Meta{ID: id, Section: section, Group: groupServices, Title: title, Why: why, SRs: srs, Kind: steps.Automatic,
			Caution: backupCaution},
		Check: func(s tstate) steps.Finding {
			on, known := s.Services[svc]
			if why := s.Unknown[svc]; !known && why != "" {
				return steps.Finding{Applicable: true, Compliant: false, Observed: label + ": unknown (" + why + ")", Expected: label + ": Disabled",
					Notes: []string{"the tool cannot tell whether " + label + " is on: check it in the web console, or let the tool turn it off"}}
			}
			if !known {
				return steps.Finding{Applicable: false, Reason: "the gateway's API shows no " + label + " setting (unknown on this firmware): check it in the web console",
					Observed: label + ": unknown", Expected: label + ": Disabled"}
			}
			f := steps.Finding{Applicable: true, Observed: label + ": " + onOff(on), Expected: label + ": Disabled"}
			f.Compliant = !on
			if port != "" {
				f.Observed += "; " + tpPortText(s, port)
				f.Expected += "; port closed"
				f.Compliant = f.Compliant && tpClosed(s, port)
				if !on && !tpClosed(s, port) {
					f.Notes = append(f.Notes, "the setting is off but the port still answers")
				}
			}
			return f
		},
		Plan: func(s tstate, _ steps.Values) (steps.Plan[tstate], error) {
			_, known := s.Services[svc]
			from := onOff(s.Services[svc])
			if !known && s.Unknown[svc] != "" {
				known, from = true, "unknown"
			}
			if !known {
				return steps.Plan[tstate]{}, errors.New("the gateway's API has no " + label + " setting: turn it off in the web console and waive this step")
			}
			return steps.Plan[tstate]{
				Changes: []steps.Change{{Setting: label, From: from, To: tpTo("Disabled", svc)}},
				Mutate:  func(d *tstate) error { d.Services[svc] = false; return nil },
			}, nil
		},
	}
}

func tpProxyStep() steps.Step[tstate] {
	return steps.Step[tstate]{
		Meta: steps.Meta{ID: "thingspro.2.3.1.proxy", Section: "2.3.1", Group: groupServices,
			Title: "Turn ThingsPro Proxy provisioning and discovery off",
			Why:   "Auto-provisioning keeps a discovery service listening so a proxy can find and configure the gateway. Once the gateway is provisioned, that is an open door for anyone who speaks the protocol.",
			SRs:   []string{"SR 7.7", "SR 1.2"}, Kind: steps.Automatic, Caution: backupCaution},
		Check: func(s tstate) steps.Finding {
			prov, provKnown := s.Services[thingspro.SvcProvision]
			disc, discKnown := s.Services[thingspro.SvcDiscovery]
			f := steps.Finding{Applicable: true,
				Observed: fmt.Sprintf("provisioning: %s; discovery: %s; %s", tpKnown(s, thingspro.SvcProvision, prov, provKnown),
					tpKnown(s, thingspro.SvcDiscovery, disc, discKnown), tpPortText(s, "discovery")),
				Expected: "provisioning and discovery Disabled; discovery port silent"}
			// a setting the gateway did not report is unknown, never off
			f.Compliant = provKnown && discKnown && !prov && !disc && !(s.Observed.Ports["discovery"].State == probe.Open)
			return f
		},
		Plan: func(s tstate, _ steps.Values) (steps.Plan[tstate], error) {
			return steps.Plan[tstate]{
				Changes: []steps.Change{
					{Setting: "ThingsPro Proxy provisioning", From: tpKnownAt(s, thingspro.SvcProvision), To: tpTo("Disabled", "proxy")},
					{Setting: "Device discovery", From: tpKnownAt(s, thingspro.SvcDiscovery), To: tpTo("Disabled", "proxy")}},
				Mutate: func(d *tstate) error {
					d.Services[thingspro.SvcProvision] = false
					d.Services[thingspro.SvcDiscovery] = false
					return nil
				},
			}, nil
		},
	}
}

// tpKnown renders a service state, "unknown" when the gateway did not report it.
func tpKnown(s tstate, svc string, on, known bool) string {
	switch {
	case known:
		return onOff(on)
	case s.Unknown[svc] != "":
		return "unknown (" + s.Unknown[svc] + ")"
	}
	return "unknown (not reported)"
}

func tpKnownAt(s tstate, svc string) string {
	on, known := s.Services[svc]
	return tpKnown(s, svc, on, known)
}

var zoneName = regexp.MustCompile(`^(UTC|[A-Z][A-Za-z_]+(/[A-Za-z0-9_+-]+){1,2})$`)

func tpTimeStep() steps.Step[tstate] {
	return steps.Step[tstate]{
		Meta: steps.Meta{ID: "thingspro.3.1.time", Section: "3.1", Group: groupLogging,
			Title: "Set the time zone and keep the clock synced with NTP",
			Why:   "Certificate checks and every log line depend on the clock. A wrong clock makes valid certificates fail and puts events at the wrong time in an investigation.",
			SRs:   []string{"SR 2.11", "SR 1.8", "SR 2.8"}, Kind: steps.Automatic,
			Caution: "The gateway must reach the NTP server: ask the network team which one the plant uses.",
			Inputs: []steps.Input{
				{Key: "zone", Label: "Time zone", Help: "such as Europe/Berlin or UTC", Validate: func(v string) error {
					if !zoneName.MatchString(strings.TrimSpace(v)) {
						return errors.New("use a time zone name such as Europe/Berlin, America/Chicago or UTC")
					}
					return nil
				}},
				{Key: "server", Label: "NTP server", Help: "host name or IPv4 address", Validate: validateNTPServer},
			}},
		Defaults: func(s tstate) steps.Values {
			return steps.Values{"zone": s.Time.Zone, "server": s.Time.Server}
		},
		Check: func(s tstate) steps.Finding {
			f := steps.Finding{Applicable: true,
				Observed: fmt.Sprintf("zone %s; NTP %s, server %q, last sync %s; clock %s", s.Time.Zone, onOff(s.Time.NTP), s.Time.Server, s.Time.LastUpdate, s.Time.Time),
				Expected: "NTP Enabled with a server, synced at least once; clock within 5 minutes"}
			f.Compliant = s.Time.NTP && s.Time.Server != "" && s.Time.LastUpdate != "" && s.Time.LastUpdate != "-"
			if t, err := time.Parse(time.RFC3339, s.Time.Time); err == nil {
				if skew := time.Since(t); skew > 5*time.Minute || skew < -5*time.Minute {
					f.Compliant = false
					f.Notes = append(f.Notes, fmt.Sprintf("the gateway's clock is %s off this laptop's", skew.Round(time.Second)))
				}
			}
			f.Notes = append(f.Notes, "confirm the zone "+s.Time.Zone+" is the site's")
			return f
		},
		Plan: func(s tstate, in steps.Values) (steps.Plan[tstate], error) {
			zone, server := strings.TrimSpace(in["zone"]), strings.TrimSpace(in["server"])
			var ch []steps.Change
			if zone != s.Time.Zone {
				ch = append(ch, steps.Change{Setting: "Time zone", From: s.Time.Zone, To: tpTo(zone, "time")})
			}
			ch = append(ch, steps.Change{Setting: "NTP", From: fmt.Sprintf("%s (%s)", onOff(s.Time.NTP), s.Time.Server), To: tpTo("Enabled ("+server+")", "time")})
			return steps.Plan[tstate]{Changes: ch, Mutate: func(d *tstate) error {
				d.Time.Zone, d.Time.NTP, d.Time.Server = zone, true, server
				return nil
			}}, nil
		},
	}
}

var hostName = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]{0,62}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,62}[A-Za-z0-9])?)*$`)

func validateNTPServer(v string) error {
	v = strings.TrimSpace(v)
	if v == "" {
		return errors.New("enter the NTP server, such as pool.ntp.org or 192.168.127.1")
	}
	if strings.Trim(v, "0123456789.") == "" {
		_, err := ParseIPv4(v)
		return err
	}
	if len(v) > 253 || !hostName.MatchString(v) {
		return fmt.Errorf("%q is not a host name: use letters, digits, dots and dashes", v)
	}
	return nil
}

const defaultIssuer = "ThingsPro Edge Root CA for HTTPS"

func tpCertStep() steps.Step[tstate] {
	return steps.Step[tstate]{
		Meta: steps.Meta{ID: "thingspro.3.2.https-cert", Section: "3.2", Group: groupTLS,
			Title: "Serve HTTPS with the plant's own certificate",
			Why:   "The factory certificate is signed by a Moxa root nobody's laptop trusts, so every visit trains people to click through warnings. A certificate from the plant's CA lets browsers and tools check they reach the real gateway.",
			SRs:   []string{"SR 1.8", "SR 1.2", "SR 3.1", "SR 4.1"}, Kind: steps.Automatic,
			Caution: "The tool pins the new certificate as it imports it. Other laptops see a new certificate: trust the plant CA on them. If no CA is available, export the gateway's root certificate instead and waive this step.",
			Inputs: []steps.Input{
				{Key: "cert", Label: "Certificate (PEM)", Multiline: true, Help: "from -----BEGIN CERTIFICATE-----; SHA-256, SAN with the gateway's address", Validate: func(v string) error {
					if !strings.Contains(v, "-----BEGIN CERTIFICATE-----") {
						return errors.New("paste the certificate in PEM form, from -----BEGIN CERTIFICATE----- to -----END CERTIFICATE-----")
					}
					return nil
				}},
				{Key: "key", Label: "Private key (PEM)", Multiline: true, Secret: true, Help: "RSA, without a passphrase", Validate: func(v string) error {
					if !strings.Contains(v, "PRIVATE KEY-----") {
						return errors.New("paste the RSA private key in PEM form (PKCS#1, the block headed RSA PRIVATE KEY)")
					}
					return nil
				}},
			}},
		Check: func(s tstate) steps.Finding {
			if !s.Services[thingspro.SvcHTTPS] {
				return steps.Finding{Applicable: false, Reason: "the HTTPS service is off", Observed: "HTTPS Disabled", Expected: "a plant certificate while HTTPS is on"}
			}
			c := s.Observed.TLS.Cert
			f := steps.Finding{Applicable: true, Expected: "issued by the plant's CA (not " + defaultIssuer + "), SHA-256 or better, valid now, SAN with " + s.GatewayAddr.String()}
			if c == nil {
				f.Observed = "no certificate seen on the HTTPS port: " + printable.String(s.Observed.TLS.Error)
				return f
			}
			f.Observed = fmt.Sprintf("file %s; issued by %s to %s, valid until %s, signature %s, SANs %s", s.HTTP.CertFileName,
				printable.String(c.Issuer), printable.String(c.Subject), c.NotAfter.Format("2006-01-02"), c.SignatureAlgorithm, printable.String(strings.Join(c.SANs, " ")))
			covered := !s.GatewayAddr.IsValid()
			for _, san := range c.SANs {
				if a, err := netip.ParseAddr(strings.TrimPrefix(san, "IP:")); err == nil && a == s.GatewayAddr {
					covered = true
				}
			}
			now := time.Now()
			f.Compliant = !strings.Contains(c.Issuer, defaultIssuer) && !c.SHA1Signed && now.Before(c.NotAfter) && now.After(c.NotBefore) && covered
			if ci := s.Observed.Cert; ci != nil {
				// expired, SHA-1 or MD5, RSA under 2048 bits: each a deviation with its reason
				f.Observed += fmt.Sprintf("; key %s %d bits; SHA-256 %s (%s)", ci.KeyAlg, ci.KeyBits, ci.SHA256Hex, ci.Fingerprint)
				for _, p := range ci.Problems {
					f.Compliant = false
					f.Notes = append(f.Notes, "the certificate is "+p)
				}
			} else {
				f.Compliant = false
				f.Notes = append(f.Notes, "the certificate could not be decoded to check its key and signature")
			}
			if strings.Contains(c.Issuer, defaultIssuer) {
				f.Notes = append(f.Notes, "this is the factory certificate")
			}
			if !covered {
				f.Notes = append(f.Notes, "the certificate does not name the address "+s.GatewayAddr.String())
			}
			return f
		},
		Plan: func(s tstate, in steps.Values) (steps.Plan[tstate], error) {
			if !s.Services[thingspro.SvcHTTPS] {
				return steps.Plan[tstate]{}, errors.New("the HTTPS service is off: there is nothing to serve the certificate")
			}
			p, err := thingspro.ParseCertKey(in["cert"], in["key"], time.Now())
			if err != nil {
				return steps.Plan[tstate]{}, err
			}
			if s.GatewayAddr.IsValid() {
				if err := p.CoversAddress(s.GatewayAddr); err != nil {
					return steps.Plan[tstate]{}, err
				}
			}
			from := s.HTTP.CertFileName
			if c := s.Observed.TLS.Cert; c != nil {
				from = printable.String(c.Issuer)
			}
			certPEM, keyPEM := in["cert"], p.KeyPEM
			return steps.Plan[tstate]{
				Changes: []steps.Change{{Setting: "HTTPS certificate", From: from,
					To: tpTo(fmt.Sprintf("%s issued by %s, valid until %s", printable.String(p.Cert.Subject.String()), printable.String(p.Cert.Issuer.String()), p.Cert.NotAfter.Format("2006-01-02")), "cert")}},
				Mutate: func(d *tstate) error {
					d.NewCert = &thingspro.CertImport{CertPEM: certPEM, KeyPEM: keyPEM}
					return nil
				},
			}, nil
		},
	}
}

// ruleFlag is why an inbound rule is flagged. Idle is evidence the rule
// is unused: the gateway's shell showed nothing listening on its port.
// Without that evidence the tool never proposes deleting a rule: the
// technician decides.
type ruleFlag struct {
	Why  string
	Idle bool
}

// flaggedRules returns the user rules to review: forwards (always the
// technician's decision), allows on ports nothing listens on (when the
// shell told us), and, without a shell, allows on a port other than HTTPS.
func flaggedRules(s tstate) map[int]ruleFlag {
	out := map[int]ruleFlag{}
	for _, r := range s.Firewall {
		port, _ := strconv.Atoi(r.Port)
		switch {
		case r.Action == "forward":
			out[r.ID] = ruleFlag{Why: "forwards traffic to a device behind the gateway: only you can tell whether it is needed"}
		case s.Listening != nil && port > 0 && !s.ListeningOn(protoOf(r.Protocol), port):
			out[r.ID] = ruleFlag{Why: "allows a port nothing listens on, per the gateway's shell", Idle: true}
		case s.Listening == nil && port != 8443 && port != s.HTTP.HTTPSPort:
			out[r.ID] = ruleFlag{Why: "allows a port other than HTTPS; the tool could not check what listens on it"}
		}
	}
	return out
}

func protoOf(p string) string {
	if p == "udp" {
		return "udp"
	}
	return "tcp"
}

func tpRuleText(r thingspro.FirewallRule) string {
	return fmt.Sprintf("#%d %s: %s %s/%s from %q", r.ID, r.Name, r.Action, r.Port, r.Protocol, r.Source)
}

// tpRuleIDs reads "83, 84" into rule ids that exist in s.
func tpRuleIDs(s tstate, v string) (map[int]bool, error) {
	out := map[int]bool{}
	for _, f := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' }) {
		id, err := strconv.Atoi(strings.TrimPrefix(f, "#"))
		if err != nil || !slices.ContainsFunc(s.Firewall, func(r thingspro.FirewallRule) bool { return r.ID == id }) {
			var ids []string
			for _, r := range s.Firewall {
				ids = append(ids, "#"+strconv.Itoa(r.ID))
			}
			return nil, fmt.Errorf("%q is not a rule of this gateway: its inbound rules are %s", f, strings.Join(ids, ", "))
		}
		out[id] = true
	}
	return out, nil
}

// tpSSHOffered reports whether the gateway gives SSH now.
func tpSSHOffered(s tstate) bool {
	return s.Services[thingspro.SvcSSH] || s.Observed.Ports["ssh"].State == probe.Open
}

func tpFirewallStep() steps.Step[tstate] {
	return steps.Step[tstate]{
		Meta: steps.Meta{ID: "thingspro.3.3.firewall", Section: "3.3", Group: groupAllowList,
			Title: "Review the inbound firewall rules against what listens",
			Why:   "Every inbound rule is a hole in the gateway's firewall. Rules left from staging, or for services since turned off, keep holes nobody remembers.",
			SRs:   []string{"SR 5.2", "SR 7.7", "SR 7.6"}, Kind: steps.Automatic,
			Caution: "The tool proposes deleting a rule only when the gateway's own shell shows nothing listening on its port. A rule it could not check, and every forward rule, is yours to decide: " +
				"list it to delete it, or waive this step and say what it is for. A Modbus/TCP or OPC UA rule may serve a device the tool cannot see.",
			Inputs: []steps.Input{
				{Key: "delete", Label: "Rules you decided to delete", Help: "ids of flagged rules, such as 83, 84; leave empty to keep them. Delete a rule the tool could not check only if you know nothing uses it"},
				{Key: "ssh-user", Label: "SSH login to check what listens (optional)", Help: "the gateway's Linux account; the tool then asks the gateway's shell what listens before it deletes an unchecked rule, and keeps a rule whose port is in use. The host key is pinned in known_hosts on first use"},
				{Key: "ssh-password", Label: "SSH password", Secret: true},
			}},
		Check: func(s tstate) steps.Finding {
			flag := flaggedRules(s)
			var rules []string
			unchecked := 0
			for _, r := range s.Firewall {
				t := tpRuleText(r)
				if fl, ok := flag[r.ID]; ok {
					t += " (" + fl.Why + ")"
					if !fl.Idle && r.Action != "forward" {
						unchecked++
					}
				}
				rules = append(rules, t)
			}
			if len(rules) == 0 {
				rules = []string{"no user rules"}
			}
			f := steps.Finding{Applicable: true, Compliant: len(flag) == 0,
				Observed: strings.Join(rules, "; "),
				Expected: "no forward rule, and allow rules only for ports that listen and are needed"}
			var open []string
			for _, name := range []string{"http", "ssh", "discovery"} {
				if s.Observed.Ports[name].State == probe.Open {
					open = append(open, name)
				}
			}
			if len(open) > 0 {
				f.Notes = append(f.Notes, "besides HTTPS, these answer from outside: "+strings.Join(open, ", ")+" (their own steps turn them off)")
			}
			switch {
			case s.Listening != nil:
				var ls []string
				for _, l := range s.Listening {
					ls = append(ls, fmt.Sprintf("%s/%d", l.Proto, l.Port))
				}
				f.Notes = append(f.Notes, "listening per the gateway's shell: "+strings.Join(ls, " "))
				if s.ShellNewKey != "" {
					f.Notes = append(f.Notes, "the gateway's SSH host key "+s.ShellNewKey+" was remembered on first use: compare it with the gateway's console if you can")
				}
			case s.ShellError != "":
				f.Notes = append(f.Notes, "the gateway's shell could not be asked: "+s.ShellError)
			}
			if unchecked > 0 {
				switch {
				case tpSSHOffered(s) && s.Listening == nil:
					f.Notes = append(f.Notes, fmt.Sprintf("%d rule(s) could not be checked against what listens: give the gateway's SSH login in this step and the tool checks before it deletes anything, or decide yourself", unchecked))
				case s.Listening == nil:
					f.Notes = append(f.Notes, fmt.Sprintf("%d rule(s) could not be checked against what listens, and the SSH server is off: decide yourself, or turn SSH on for the check (step 2.2.5 turns it off again)", unchecked))
				}
			}
			return f
		},
		Plan: func(s tstate, in steps.Values) (steps.Plan[tstate], error) {
			flag := flaggedRules(s)
			if len(flag) == 0 {
				return steps.Plan[tstate]{}, errors.New("no rule is flagged: nothing to delete")
			}
			chosen, err := tpRuleIDs(s, in["delete"])
			if err != nil {
				return steps.Plan[tstate]{}, err
			}
			sshUser := strings.TrimSpace(in["ssh-user"])
			if sshUser != "" && in["ssh-password"] == "" {
				return steps.Plan[tstate]{}, errors.New("give the SSH password too, or leave the SSH login empty")
			}
			if sshUser != "" && !tpSSHOffered(s) {
				return steps.Plan[tstate]{}, errors.New("the gateway's SSH server is off: turn it on for the check (step 2.2.5 turns it off again), or decide without it")
			}
			check := sshUser != "" && s.Listening == nil
			var ch []steps.Change
			del, idle := map[int]bool{}, map[int]bool{}
			var undecided []string
			for _, r := range s.Firewall {
				fl, flagged := flag[r.ID]
				from := fmt.Sprintf("%s %s/%s", r.Action, r.Port, r.Protocol)
				set := fmt.Sprintf("Inbound rule #%d %s", r.ID, r.Name)
				switch {
				case chosen[r.ID]:
					del[r.ID] = true
					ch = append(ch, steps.Change{Setting: set, From: from, To: tpTo("deleted, as you decided", "firewall")})
				case flagged && fl.Idle:
					del[r.ID] = true
					ch = append(ch, steps.Change{Setting: set, From: from + " (nothing listens on it)", To: tpTo("deleted", "firewall")})
				case flagged && check && r.Action != "forward":
					idle[r.ID] = true
					ch = append(ch, steps.Change{Setting: set, From: from + " (not checked yet)",
						To: tpTo(fmt.Sprintf("deleted only if the gateway's shell, asked over SSH as %s just before, shows nothing listening on %s/%s; kept otherwise", sshUser, r.Port, protoOf(r.Protocol)), "firewall")})
				case flagged:
					undecided = append(undecided, tpRuleText(r)+" ("+fl.Why+")")
				}
			}
			if len(undecided) > 0 {
				return steps.Plan[tstate]{}, fmt.Errorf("your decision is needed for %s: list its id under \"Rules you decided to delete\" if you know nothing uses it, "+
					"give an SSH login so the tool checks what listens, or waive this step and say what the rule is for; the tool deletes nothing on a guess", strings.Join(undecided, "; "))
			}
			var shell *thingspro.ShellLogin
			if check && len(idle) > 0 {
				shell = &thingspro.ShellLogin{User: sshUser, Password: in["ssh-password"]}
			}
			return steps.Plan[tstate]{Changes: ch, Mutate: func(d *tstate) error {
				for i := range d.Firewall {
					d.Firewall[i].Delete = d.Firewall[i].Delete || del[d.Firewall[i].ID]
					d.Firewall[i].DeleteIfIdle = d.Firewall[i].DeleteIfIdle || idle[d.Firewall[i].ID]
				}
				if shell != nil {
					v := *shell
					d.Shell = &v
				}
				return nil
			}}, nil
		},
	}
}

func tpLogStep() steps.Step[tstate] {
	return steps.Step[tstate]{
		Meta: steps.Meta{ID: "thingspro.3.4.log-storage", Section: "3.4", Group: groupLogging,
			Title: "Keep system and event logs with enough storage",
			Why:   "When the log space fills, the oldest records go first. Too little space means the events of an incident are gone before anyone looks.",
			SRs:   []string{"SR 2.9", "SR 2.8", "SR 6.1"}, Kind: steps.Automatic,
			Caution: "The guide's default is 100 MB each; raise it in the web console if the site keeps logs longer. The tool does not change sizes."},
		Check: func(s tstate) steps.Finding {
			l := s.Log
			return steps.Finding{Applicable: true,
				Compliant: l.SystemEnable && l.EventEnable && l.SystemMB >= 100 && l.EventMB >= 100,
				Observed:  fmt.Sprintf("system log %s, %d MB; event log %s, %d MB", onOff(l.SystemEnable), l.SystemMB, onOff(l.EventEnable), l.EventMB),
				Expected:  "both Enabled with at least 100 MB",
				Notes:     []string{"review the size against how long the site must keep logs"}}
		},
	}
}

func tpCloudStep(id, app, name string) steps.Step[tstate] {
	return steps.Step[tstate]{
		Meta: steps.Meta{ID: id, Section: "4", Group: groupTLS,
			Title: name + ": authenticate with an X.509 certificate",
			Why:   "A password, shared key or connection string can be copied and used from anywhere. A certificate with its private key on the gateway proves it is this gateway, and can be revoked alone.",
			SRs:   []string{"SR 1.2", "SR 1.9", "SR 1.8", "SR 4.1"}, Kind: steps.Automatic,
			Caution: "The tool does not upload cloud certificates: create the device certificate in the cloud service, upload it in the gateway's web console, then check again."},
		Check: func(s tstate) steps.Finding {
			var apps []thingspro.CloudApp
			for _, a := range s.Cloud {
				if a.App == app {
					apps = append(apps, a)
				}
			}
			f := steps.Finding{Applicable: true, Compliant: true, Expected: "every enabled connection uses X.509"}
			var obs []string
			enabled := 0
			for _, a := range apps {
				switch {
				case !a.Installed:
					obs = append(obs, a.Name+": not installed")
				case !a.Enabled:
					obs = append(obs, a.Name+": off")
				default:
					enabled++
					obs = append(obs, a.Name+": "+a.Auth)
					if a.Auth != "x509" {
						f.Compliant = false
					}
					for _, n := range a.Notes {
						f.Notes = append(f.Notes, a.Name+": "+n)
					}
				}
			}
			if len(obs) == 0 {
				obs = []string{name + ": not reported"}
			}
			f.Observed = strings.Join(obs, "; ")
			if enabled == 0 {
				f.Applicable, f.Reason = false, name+" is not installed or not in use"
			}
			return f
		},
	}
}

func tpHTTPSOffStep() steps.Step[tstate] {
	return steps.Step[tstate]{
		Meta: steps.Meta{ID: "thingspro.2.2.1.https-off", Section: "2.2.1", Group: groupServices,
			Title: "Turn the HTTPS service off after commissioning (last, by hand)",
			Why:   "The guide turns HTTPS off once the gateway is configured, so nobody can reach the management API from the network. It is also the tool's own way in, so the tool leaves it to you, as the very last action.",
			SRs:   []string{"SR 7.7", "SR 2.1"}, Kind: steps.Manual,
			Caution: "After this, the gateway can only be managed in person or over a path you kept on. If HTTPS must stay on for remote operation, waive this step and make sure the certificate step is done.",
			Attest:  "I turned the HTTPS service off in the web console (Services), as the last action of this session, or confirmed it must stay on.",
			Inputs: []steps.Input{{Key: "confirm", Label: `Type "DISABLE HTTPS" to confirm`, Validate: func(v string) error {
				if strings.TrimSpace(v) != "DISABLE HTTPS" {
					return errors.New(`type DISABLE HTTPS exactly to confirm that you turned the service off`)
				}
				return nil
			}}}},
		Check: func(s tstate) steps.Finding {
			on := s.Services[thingspro.SvcHTTPS]
			return steps.Finding{Applicable: true, Compliant: !on,
				Observed: "HTTPS service: " + onOff(on) + "; " + tpPortText(s, "https"),
				Expected: "HTTPS service Disabled at the end of commissioning"}
		},
	}
}

func guardTPLastAdmin(p tstate) error {
	switch {
	case p.ActiveAdmins() == 0:
		return errors.New("this would leave no active administrator: the gateway keeps its last administrator, and so does the tool")
	case p.ProvenAdmins() == 0:
		// the only administrators left are planned, not read back
		return errors.New("this removes or deactivates the last administrator the gateway has shown: the new administrator is not proven yet. " +
			"Apply the personal-account step and commit it, so the tool reads the account back and sees its Administrator role, then remove or deactivate the other account")
	}
	return nil
}

func guardTPOwnAccount(p tstate) error {
	if u, ok := p.UserByName(p.User); ok && (u.Delete || !u.Active || !u.Admin()) {
		return fmt.Errorf("the tool is logged in as %s: log in with another administrator (such as your personal account) before removing or demoting it", p.User)
	}
	return nil
}

func guardTPManagementLAN(p tstate) error {
	if i := p.ManagementInterface(); i >= 0 && !p.Interfaces[i].Enable {
		return fmt.Errorf("this laptop reaches the gateway through %s: turning it off would cut the session", p.Interfaces[i].Name)
	}
	return nil
}

func guardTPKeepHTTPS(p tstate) error {
	if on, ok := p.Services[thingspro.SvcHTTPS]; ok && !on {
		return errors.New("turning HTTPS off cuts the tool's own access: do it by hand as the last step")
	}
	return nil
}
