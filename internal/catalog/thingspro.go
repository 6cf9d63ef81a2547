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
				Changes: []steps.Change{{Setting: "User account", From: "(none)", To: to}},
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
			Caution: "The gateway never removes its last administrator: create a personal administrator first. If you keep admin, store its new password in the site's vault.",
			Inputs: []steps.Input{
				{Key: "action", Label: "What to do with admin", Options: []string{"change-password", "delete"}},
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
			if in["action"] == "delete" {
				return steps.Plan[tstate]{
					Changes: []steps.Change{{Setting: "User account admin", From: "present", To: "deleted"}},
					Mutate: func(d *tstate) error {
						for i := range d.Users {
							if d.Users[i].Name == thingspro.DefaultUser {
								d.Users[i].Delete = true
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
				Changes: []steps.Change{{Setting: "admin password", From: from, To: "new password (not recorded)"}},
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
					if it.Enable {
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
				if it.Kind == kind && it.Enable {
					ch = append(ch, steps.Change{Setting: it.Name, From: "Enabled", To: "Disabled"})
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
				if it.Kind == thingspro.KindEthernet && it.Enable && i != mgmt {
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
				if it.Kind == thingspro.KindEthernet && it.Enable && i != mgmt && !keep[strings.ToLower(it.Name)] {
					ch = append(ch, steps.Change{Setting: it.Name, From: "Enabled", To: "Disabled"})
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
			if _, known := s.Services[svc]; !known {
				return steps.Plan[tstate]{}, errors.New("the gateway's API has no " + label + " setting: turn it off in the web console and waive this step")
			}
			return steps.Plan[tstate]{
				Changes: []steps.Change{{Setting: label, From: onOff(s.Services[svc]), To: "Disabled"}},
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
			prov, disc := s.Services[thingspro.SvcProvision], s.Services[thingspro.SvcDiscovery]
			f := steps.Finding{Applicable: true,
				Observed: fmt.Sprintf("provisioning: %s; discovery: %s; %s", onOff(prov), onOff(disc), tpPortText(s, "discovery")),
				Expected: "provisioning and discovery Disabled; discovery port silent"}
			f.Compliant = !prov && !disc && !(s.Observed.Ports["discovery"].State == probe.Open)
			return f
		},
		Plan: func(s tstate, _ steps.Values) (steps.Plan[tstate], error) {
			return steps.Plan[tstate]{
				Changes: []steps.Change{
					{Setting: "ThingsPro Proxy provisioning", From: onOff(s.Services[thingspro.SvcProvision]), To: "Disabled"},
					{Setting: "Device discovery", From: onOff(s.Services[thingspro.SvcDiscovery]), To: "Disabled"}},
				Mutate: func(d *tstate) error {
					d.Services[thingspro.SvcProvision] = false
					d.Services[thingspro.SvcDiscovery] = false
					return nil
				},
			}, nil
		},
	}
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
				ch = append(ch, steps.Change{Setting: "Time zone", From: s.Time.Zone, To: zone})
			}
			ch = append(ch, steps.Change{Setting: "NTP", From: fmt.Sprintf("%s (%s)", onOff(s.Time.NTP), s.Time.Server), To: "Enabled (" + server + ")"})
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
				f.Observed = "no certificate seen on the HTTPS port: " + devices.Printable(s.Observed.TLS.Error)
				return f
			}
			f.Observed = fmt.Sprintf("file %s; issued by %s to %s, valid until %s, signature %s, SANs %s", s.HTTP.CertFileName,
				devices.Printable(c.Issuer), devices.Printable(c.Subject), c.NotAfter.Format("2006-01-02"), c.SignatureAlgorithm, devices.Printable(strings.Join(c.SANs, " ")))
			covered := !s.GatewayAddr.IsValid()
			for _, san := range c.SANs {
				if a, err := netip.ParseAddr(strings.TrimPrefix(san, "IP:")); err == nil && a == s.GatewayAddr {
					covered = true
				}
			}
			now := time.Now()
			f.Compliant = !strings.Contains(c.Issuer, defaultIssuer) && !c.SHA1Signed && now.Before(c.NotAfter) && now.After(c.NotBefore) && covered
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
				from = devices.Printable(c.Issuer)
			}
			certPEM, keyPEM := in["cert"], p.KeyPEM
			return steps.Plan[tstate]{
				Changes: []steps.Change{{Setting: "HTTPS certificate", From: from,
					To: fmt.Sprintf("%s issued by %s, valid until %s", devices.Printable(p.Cert.Subject.String()), devices.Printable(p.Cert.Issuer.String()), p.Cert.NotAfter.Format("2006-01-02"))}},
				Mutate: func(d *tstate) error {
					d.NewCert = &thingspro.CertImport{CertPEM: certPEM, KeyPEM: keyPEM}
					return nil
				},
			}, nil
		},
	}
}

// flaggedRules returns the user rules to review: forwards, and allows on
// ports nothing listens on (when the shell told us) or other than HTTPS.
func flaggedRules(s tstate) map[int]string {
	out := map[int]string{}
	for _, r := range s.Firewall {
		port, _ := strconv.Atoi(r.Port)
		switch {
		case r.Action == "forward":
			out[r.ID] = "forwards traffic to a device behind the gateway"
		case s.Listening != nil && port > 0 && !s.ListeningOn(protoOf(r.Protocol), port):
			out[r.ID] = "allows a port nothing listens on"
		case s.Listening == nil && port != 8443 && port != s.HTTP.HTTPSPort:
			out[r.ID] = "allows a port other than HTTPS (no shell to check what listens)"
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

func tpFirewallStep() steps.Step[tstate] {
	return steps.Step[tstate]{
		Meta: steps.Meta{ID: "thingspro.3.3.firewall", Section: "3.3", Group: groupAllowList,
			Title: "Review the inbound firewall rules against what listens",
			Why:   "Every inbound rule is a hole in the gateway's firewall. Rules left from staging, or for services since turned off, keep holes nobody remembers.",
			SRs:   []string{"SR 5.2", "SR 7.7", "SR 7.6"}, Kind: steps.Automatic,
			Caution: "Only the flagged rules are deleted. If a flagged rule is needed, waive this step and say what for."},
		Check: func(s tstate) steps.Finding {
			flag := flaggedRules(s)
			var rules []string
			for _, r := range s.Firewall {
				t := fmt.Sprintf("#%d %s %s/%s from %q", r.ID, r.Action, r.Port, r.Protocol, r.Source)
				if why, ok := flag[r.ID]; ok {
					t += " (" + why + ")"
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
			case s.ShellError != "":
				f.Notes = append(f.Notes, "the gateway's shell could not be asked: "+s.ShellError)
			default:
				f.Notes = append(f.Notes, "give an SSH login to compare the rules with what really listens")
			}
			return f
		},
		Plan: func(s tstate, _ steps.Values) (steps.Plan[tstate], error) {
			flag := flaggedRules(s)
			if len(flag) == 0 {
				return steps.Plan[tstate]{}, errors.New("no rule is flagged: nothing to delete")
			}
			var ch []steps.Change
			for _, r := range s.Firewall {
				if why, ok := flag[r.ID]; ok {
					ch = append(ch, steps.Change{Setting: fmt.Sprintf("Inbound rule #%d %s", r.ID, r.Name), From: fmt.Sprintf("%s %s/%s (%s)", r.Action, r.Port, r.Protocol, why), To: "deleted"})
				}
			}
			return steps.Plan[tstate]{Changes: ch, Mutate: func(d *tstate) error {
				for i := range d.Firewall {
					if _, ok := flag[d.Firewall[i].ID]; ok {
						d.Firewall[i].Delete = true
					}
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
	if p.ActiveAdmins() == 0 {
		return errors.New("this would leave no active administrator: the gateway keeps its last administrator, and so does the tool")
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
