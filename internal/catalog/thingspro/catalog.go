// Package thingspro is the ThingsPro Edge catalog: the guide's
// recommendations as steps. The words (ids, sections, titles, why, SRs,
// cautions, attestations, input labels, what each change interrupts) are
// in steps.toml; this file holds the checks, plans, input validators and
// guards, keyed by step id.
package thingspro

import (
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/commission-tool/commission/internal/catalog"
	"github.com/commission-tool/commission/internal/devices"
	device "github.com/commission-tool/commission/internal/devices/thingspro"
	"github.com/commission-tool/commission/internal/printable"
	"github.com/commission-tool/commission/internal/steps"
)

//go:generate go run ../gen

// The steps' words are steps.toml's. prose_gen.go holds them as
// stepsProse, read and checked by catalog.LoadProse when go generate
// wrote it, so that no command parses TOML; TestProseIsGenerated fails
// when the two disagree.

type tstate = device.State

// PasswordRules are ours for gateway accounts: the gateway only asks for
// 6 characters; the guide's spirit asks for more.
var PasswordRules = catalog.PasswordRules{MinLength: 12, MaxLength: 256, Classes: 3, CheckCommon: true}

// Catalog returns the ThingsPro Edge catalog: every recommendation of the
// guide's sections 1 to 4, in the order of steps.toml (guide order,
// except that turning the HTTPS service off comes last).
func Catalog() steps.Catalog[device.State] {
	p, st, err := build()
	if err != nil {
		// prose_gen.go is steps.toml, checked: the tests make this unreachable
		panic("catalog/thingspro: " + err.Error())
	}
	return steps.Catalog[device.State]{
		Family:   p.Family,
		Guide:    p.Guide,
		Steps:    st,
		Guards:   []steps.Guard[device.State]{guardLastAdmin, guardOwnAccount, guardManagementLAN, guardKeepHTTPS},
		Clone:    func(s device.State) device.State { return s.Clone() },
		Identity: func(s device.State) devices.Identity { return s.Identity },
	}
}

// Timing is the wording of the wizard's confirm screens for a gateway,
// which applies each change at once.
func Timing() catalog.Timing {
	return stepsProse.Timing
}

func build() (catalog.Prose, []steps.Step[tstate], error) {
	p := stepsProse
	for _, k := range effectKinds {
		if p.Effects[k] == "" {
			return p, nil, fmt.Errorf("steps.toml: [effects] has no %q", k)
		}
	}
	for k := range p.Effects {
		if !slices.Contains(effectKinds, k) {
			return p, nil, fmt.Errorf("steps.toml: [effects] %q is a kind of change the code does not make", k)
		}
	}
	st, err := catalog.Build(p, code())
	return p, st, err
}

// code is every step's Go side, keyed by the step id of steps.toml.
func code() map[string]catalog.Code[tstate] {
	return map[string]catalog.Code[tstate]{
		"thingspro.1.1.personal-account": personalAccount(),
		"thingspro.1.2.default-account":  defaultAccount(),
		"thingspro.2.1.1.cellular":       interfaceOff(device.KindCellular),
		"thingspro.2.1.2.dhcp-server":    interfaceOff(device.KindDHCPServer),
		"thingspro.2.1.3.lan":            lanPorts(),
		"thingspro.2.1.4.wifi":           interfaceOff(device.KindWiFi),
		"thingspro.2.2.1.http":           serviceOff(device.SvcHTTP, "HTTP service", "http"),
		"thingspro.2.2.2.local-console":  serviceOff(device.SvcLocalConsole, "Local console", ""),
		"thingspro.2.2.3.nat":            serviceOff(device.SvcNAT, "NAT service", ""),
		"thingspro.2.2.4.sd-card":        serviceOff(device.SvcSDCard, "SD card", ""),
		"thingspro.2.2.5.ssh":            serviceOff(device.SvcSSH, "SSH server", "ssh"),
		"thingspro.2.3.1.proxy":          proxy(),
		"thingspro.3.1.time":             clock(),
		"thingspro.3.2.https-cert":       httpsCert(),
		"thingspro.3.3.firewall":         firewall(),
		"thingspro.3.4.log-storage":      logStorage(),
		"thingspro.4.azure-device":       cloudX509(device.AppAzureDevice, "Azure IoT Device"),
		"thingspro.4.azure-iotedge":      cloudX509(device.AppAzureEdge, "Azure IoT Edge"),
		"thingspro.4.aws":                cloudX509(device.AppAWS, "AWS IoT Core"),
		"thingspro.4.mqtt":               cloudX509(device.AppMQTT, "MQTT client"),
		"thingspro.4.sparkplug":          cloudX509(device.AppSparkplug, "Sparkplug"),
		"thingspro.2.2.1.https-off":      httpsOff(),
	}
}

// effectKinds are the kinds of change the plans name; steps.toml's
// [effects] says, for each, when it takes effect and what it interrupts.
var effectKinds = []string{
	device.SvcHTTP, device.SvcLocalConsole, device.SvcNAT, device.SvcSDCard, device.SvcSSH, "proxy",
	device.KindEthernet, device.KindCellular, device.KindWiFi, device.KindDHCPServer,
	"account-new", "account-password", "account-remove", "time", "cert", "firewall",
}

// withEffect is a preview's new value with when it takes effect.
func withEffect(to, effect string) string {
	if e := stepsProse.Effects[effect]; e != "" {
		return to + " (" + e + ")"
	}
	return to
}

func ports(s tstate) catalog.Ports { return catalog.Ports(s.Observed.Ports) }

func validateRole(v string) error {
	if !roleName().MatchString(strings.TrimSpace(v)) {
		return errors.New("use 1-64 letters, digits and +=,.@_- starting with a letter or digit, such as operator")
	}
	return nil
}

func validateAdminPassword(v string) error {
	if v == "" {
		return nil // only needed to change the password; Plan checks
	}
	return PasswordRules.Check(v)
}

func validateZone(v string) error {
	if !zoneName().MatchString(strings.TrimSpace(v)) {
		return errors.New("use a time zone name such as Europe/Berlin, America/Chicago or UTC")
	}
	return nil
}

func validateCertPEM(v string) error {
	if !strings.Contains(v, "-----BEGIN CERTIFICATE-----") {
		return errors.New("paste the certificate in PEM form, from -----BEGIN CERTIFICATE----- to -----END CERTIFICATE-----")
	}
	return nil
}

func validatePrivateKeyPEM(v string) error {
	if !strings.Contains(v, "PRIVATE KEY-----") {
		return errors.New("paste the RSA private key in PEM form (PKCS#1, the block headed RSA PRIVATE KEY)")
	}
	return nil
}

func validateDisableHTTPS(v string) error {
	if strings.TrimSpace(v) != "DISABLE HTTPS" {
		return errors.New(`type DISABLE HTTPS exactly to confirm that you turned the service off`)
	}
	return nil
}

func accountsText(s tstate) string {
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

func personalAccounts(s tstate) []device.User {
	var out []device.User
	for _, u := range s.Users {
		if u.Active && !strings.EqualFold(u.Name, device.DefaultUser) && len(u.Roles) > 0 {
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

var roleName = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9+=,.@_-]{0,63}$`) })

func personalAccount() catalog.Code[tstate] {
	return catalog.Code[tstate]{
		Validate: map[string]func(string) error{"name": catalog.ValidateAccountName, "role": validateRole, "password": PasswordRules.Check},
		Defaults: func(tstate) steps.Values { return steps.Values{"role": device.AdminRole} },
		Check: func(s tstate) steps.Finding {
			f := steps.Finding{Applicable: true, Compliant: len(personalAccounts(s)) > 0,
				Observed: "accounts: " + accountsText(s),
				Expected: "at least one active personal account (not admin) holding a role"}
			custom := 0
			for _, r := range s.Roles {
				if r.Name != device.AdminRole {
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
			if !slices.ContainsFunc(s.Roles, func(r device.Role) bool { return r.Name == role }) {
				to += "; new role " + role + " with device management permission"
			}
			pw := in["password"]
			return steps.Plan[tstate]{
				Changes: []steps.Change{{Setting: "User account", From: "(none)", To: withEffect(to+"; the tool reads it back and checks its role", "account-new")}},
				Mutate: func(d *tstate) error {
					d.Users = append(d.Users, device.User{Name: name, Active: true, Roles: []string{role}})
					ensureSecrets(d)
					d.Secrets[name] = pw
					return nil
				},
			}, nil
		},
	}
}

func defaultAccount() catalog.Code[tstate] {
	return catalog.Code[tstate]{
		Validate: map[string]func(string) error{"password": validateAdminPassword},
		Defaults: func(tstate) steps.Values { return steps.Values{"action": "change-password"} },
		Check: func(s tstate) steps.Finding {
			a, ok := s.UserByName(device.DefaultUser)
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
			a, ok := s.UserByName(device.DefaultUser)
			if !ok {
				return steps.Plan[tstate]{}, errors.New("there is no admin account: nothing to do")
			}
			switch in["action"] {
			case "delete":
				return steps.Plan[tstate]{
					Changes: []steps.Change{{Setting: "User account admin", From: "present", To: withEffect("deleted", "account-remove"), Deletes: true}},
					Mutate: func(d *tstate) error {
						for i := range d.Users {
							if d.Users[i].Name == device.DefaultUser {
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
					Changes: []steps.Change{{Setting: "User account admin", From: "active", To: withEffect("inactive (kept, with its roles)", "account-remove")}},
					Mutate: func(d *tstate) error {
						for i := range d.Users {
							if d.Users[i].Name == device.DefaultUser {
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
				Changes: []steps.Change{{Setting: "admin password", From: from, To: withEffect("new password (not recorded)", "account-password")}},
				Mutate: func(d *tstate) error {
					ensureSecrets(d)
					d.Secrets[device.DefaultUser] = pw
					return nil
				},
			}, nil
		},
	}
}

func ifaceText(s tstate, kind string) string {
	var parts []string
	for _, it := range s.Interfaces {
		if it.Kind == kind {
			if it.EnableUnknown {
				parts = append(parts, it.Name+" unknown (the gateway's reply does not say)")
				continue
			}
			parts = append(parts, it.Name+" "+catalog.OnOff(it.Enable))
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

// interfaceOff turns every interface of one kind off.
func interfaceOff(kind string) catalog.Code[tstate] {
	return catalog.Code[tstate]{
		Check: func(s tstate) steps.Finding {
			f := steps.Finding{Applicable: true, Compliant: true, Observed: ifaceText(s, kind), Expected: "every one Disabled"}
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
					ch = append(ch, steps.Change{Setting: it.Name, From: from, To: withEffect("Disabled", kind)})
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

func lanPorts() catalog.Code[tstate] {
	return catalog.Code[tstate]{
		Defaults: func(s tstate) steps.Values {
			if i := s.ManagementInterface(); i >= 0 {
				return steps.Values{"keep": s.Interfaces[i].Name}
			}
			return steps.Values{}
		},
		Check: func(s tstate) steps.Finding {
			mgmt := s.ManagementInterface()
			f := steps.Finding{Applicable: true, Compliant: true, Observed: ifaceText(s, device.KindEthernet),
				Expected: "only the LAN ports in use Enabled"}
			for i, it := range s.Interfaces {
				if it.Kind == device.KindEthernet && (it.Enable || it.EnableUnknown) && i != mgmt {
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
					found := slices.ContainsFunc(s.Interfaces, func(it device.Interface) bool {
						return it.Kind == device.KindEthernet && strings.EqualFold(it.Name, k)
					})
					if !found {
						return steps.Plan[tstate]{}, fmt.Errorf("there is no LAN port %q: the gateway has %s", k, ifaceText(s, device.KindEthernet))
					}
					keep[strings.ToLower(k)] = true
				}
			}
			mgmt := s.ManagementInterface()
			var ch []steps.Change
			off := map[int]bool{}
			for i, it := range s.Interfaces {
				if it.Kind == device.KindEthernet && (it.Enable || it.EnableUnknown) && i != mgmt && !keep[strings.ToLower(it.Name)] {
					from := "Enabled"
					if it.EnableUnknown {
						from = "unknown"
					}
					ch = append(ch, steps.Change{Setting: it.Name, From: from, To: withEffect("Disabled", device.KindEthernet)})
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

// serviceOff turns one service off, proven by a probe when it has a port.
func serviceOff(svc, label, port string) catalog.Code[tstate] {
	return catalog.Code[tstate]{
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
			f := steps.Finding{Applicable: true, Observed: label + ": " + catalog.OnOff(on), Expected: label + ": Disabled"}
			f.Compliant = !on
			if port != "" {
				f.Observed += "; " + ports(s).Text(port)
				f.Expected += "; port closed"
				f.Compliant = f.Compliant && ports(s).AllClosed(port)
				if !on && !ports(s).AllClosed(port) {
					f.Notes = append(f.Notes, "the setting is off but the port still answers")
				}
			}
			return f
		},
		Plan: func(s tstate, _ steps.Values) (steps.Plan[tstate], error) {
			_, known := s.Services[svc]
			from := catalog.OnOff(s.Services[svc])
			if !known && s.Unknown[svc] != "" {
				known, from = true, "unknown"
			}
			if !known {
				return steps.Plan[tstate]{}, errors.New("the gateway's API has no " + label + " setting: turn it off in the web console and waive this step")
			}
			return steps.Plan[tstate]{
				Changes: []steps.Change{{Setting: label, From: from, To: withEffect("Disabled", svc)}},
				Mutate:  func(d *tstate) error { d.Services[svc] = false; return nil },
			}, nil
		},
	}
}

func proxy() catalog.Code[tstate] {
	return catalog.Code[tstate]{
		Check: func(s tstate) steps.Finding {
			prov, provKnown := s.Services[device.SvcProvision]
			disc, discKnown := s.Services[device.SvcDiscovery]
			f := steps.Finding{Applicable: true,
				Observed: fmt.Sprintf("provisioning: %s; discovery: %s; %s", serviceText(s, device.SvcProvision, prov, provKnown),
					serviceText(s, device.SvcDiscovery, disc, discKnown), ports(s).Text("discovery")),
				Expected: "provisioning and discovery Disabled; discovery port silent"}
			// a setting the gateway did not report is unknown, never off
			f.Compliant = provKnown && discKnown && !prov && !disc && !ports(s).Open("discovery")
			return f
		},
		Plan: func(s tstate, _ steps.Values) (steps.Plan[tstate], error) {
			return steps.Plan[tstate]{
				Changes: []steps.Change{
					{Setting: "ThingsPro Proxy provisioning", From: serviceTextAt(s, device.SvcProvision), To: withEffect("Disabled", "proxy")},
					{Setting: "Device discovery", From: serviceTextAt(s, device.SvcDiscovery), To: withEffect("Disabled", "proxy")}},
				Mutate: func(d *tstate) error {
					d.Services[device.SvcProvision] = false
					d.Services[device.SvcDiscovery] = false
					return nil
				},
			}, nil
		},
	}
}

// serviceText renders a service state, "unknown" when the gateway did not report it.
func serviceText(s tstate, svc string, on, known bool) string {
	switch {
	case known:
		return catalog.OnOff(on)
	case s.Unknown[svc] != "":
		return "unknown (" + s.Unknown[svc] + ")"
	}
	return "unknown (not reported)"
}

func serviceTextAt(s tstate, svc string) string {
	on, known := s.Services[svc]
	return serviceText(s, svc, on, known)
}

var zoneName = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^(UTC|[A-Z][A-Za-z_]+(/[A-Za-z0-9_+-]+){1,2})$`) })

func clock() catalog.Code[tstate] {
	return catalog.Code[tstate]{
		Validate: map[string]func(string) error{"zone": validateZone, "server": validateNTPServer},
		Defaults: func(s tstate) steps.Values {
			return steps.Values{"zone": s.Time.Zone, "server": s.Time.Server}
		},
		Check: func(s tstate) steps.Finding {
			f := steps.Finding{Applicable: true,
				Observed: fmt.Sprintf("zone %s; NTP %s, server %q, last sync %s; clock %s", s.Time.Zone, catalog.OnOff(s.Time.NTP), s.Time.Server, s.Time.LastUpdate, s.Time.Time),
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
				ch = append(ch, steps.Change{Setting: "Time zone", From: s.Time.Zone, To: withEffect(zone, "time")})
			}
			ch = append(ch, steps.Change{Setting: "NTP", From: fmt.Sprintf("%s (%s)", catalog.OnOff(s.Time.NTP), s.Time.Server), To: withEffect("Enabled ("+server+")", "time")})
			return steps.Plan[tstate]{Changes: ch, Mutate: func(d *tstate) error {
				d.Time.Zone, d.Time.NTP, d.Time.Server = zone, true, server
				return nil
			}}, nil
		},
	}
}

var hostName = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]{0,62}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,62}[A-Za-z0-9])?)*$`)
})

func validateNTPServer(v string) error {
	v = strings.TrimSpace(v)
	if v == "" {
		return errors.New("enter the NTP server, such as pool.ntp.org or 192.168.127.1")
	}
	if strings.Trim(v, "0123456789.") == "" {
		_, err := catalog.ParseIPv4(v)
		return err
	}
	if len(v) > 253 || !hostName().MatchString(v) {
		return fmt.Errorf("%q is not a host name: use letters, digits, dots and dashes", v)
	}
	return nil
}

const defaultIssuer = "ThingsPro Edge Root CA for HTTPS"

func httpsCert() catalog.Code[tstate] {
	return catalog.Code[tstate]{
		Validate: map[string]func(string) error{"cert": validateCertPEM, "key": validatePrivateKeyPEM},
		Check: func(s tstate) steps.Finding {
			if !s.Services[device.SvcHTTPS] {
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
			if !s.Services[device.SvcHTTPS] {
				return steps.Plan[tstate]{}, errors.New("the HTTPS service is off: there is nothing to serve the certificate")
			}
			p, err := device.ParseCertKey(in["cert"], in["key"], time.Now())
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
					To: withEffect(fmt.Sprintf("%s issued by %s, valid until %s", printable.String(p.Cert.Subject.String()), printable.String(p.Cert.Issuer.String()), p.Cert.NotAfter.Format("2006-01-02")), "cert")}},
				Mutate: func(d *tstate) error {
					d.NewCert = &device.CertImport{CertPEM: certPEM, KeyPEM: keyPEM}
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

func ruleText(r device.FirewallRule) string {
	return fmt.Sprintf("#%d %s: %s %s/%s from %q", r.ID, r.Name, r.Action, r.Port, r.Protocol, r.Source)
}

// ruleIDs reads "83, 84" into rule ids that exist in s.
func ruleIDs(s tstate, v string) (map[int]bool, error) {
	out := map[int]bool{}
	for _, f := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' }) {
		id, err := strconv.Atoi(strings.TrimPrefix(f, "#"))
		if err != nil || !slices.ContainsFunc(s.Firewall, func(r device.FirewallRule) bool { return r.ID == id }) {
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

// sshOffered reports whether the gateway gives SSH now.
func sshOffered(s tstate) bool {
	return s.Services[device.SvcSSH] || ports(s).Open("ssh")
}

func firewall() catalog.Code[tstate] {
	return catalog.Code[tstate]{
		Check: func(s tstate) steps.Finding {
			flag := flaggedRules(s)
			var rules []string
			unchecked := 0
			for _, r := range s.Firewall {
				t := ruleText(r)
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
				if ports(s).Open(name) {
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
				case sshOffered(s) && s.Listening == nil:
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
			chosen, err := ruleIDs(s, in["delete"])
			if err != nil {
				return steps.Plan[tstate]{}, err
			}
			sshUser := strings.TrimSpace(in["ssh-user"])
			if sshUser != "" && in["ssh-password"] == "" {
				return steps.Plan[tstate]{}, errors.New("give the SSH password too, or leave the SSH login empty")
			}
			if sshUser != "" && !sshOffered(s) {
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
					ch = append(ch, steps.Change{Setting: set, From: from, To: withEffect("deleted, as you decided", "firewall"), Deletes: true})
				case flagged && fl.Idle:
					del[r.ID] = true
					ch = append(ch, steps.Change{Setting: set, From: from + " (nothing listens on it)", To: withEffect("deleted", "firewall"), Deletes: true})
				case flagged && check && r.Action != "forward":
					idle[r.ID] = true
					ch = append(ch, steps.Change{Setting: set, From: from + " (not checked yet)",
						To: withEffect(fmt.Sprintf("deleted only if the gateway's shell, asked over SSH as %s just before, shows nothing listening on %s/%s; kept otherwise", sshUser, r.Port, protoOf(r.Protocol)), "firewall"), Deletes: true})
				case flagged:
					undecided = append(undecided, ruleText(r)+" ("+fl.Why+")")
				}
			}
			if len(undecided) > 0 {
				return steps.Plan[tstate]{}, fmt.Errorf("your decision is needed for %s: list its id under \"Rules you decided to delete\" if you know nothing uses it, "+
					"give an SSH login so the tool checks what listens, or waive this step and say what the rule is for; the tool deletes nothing on a guess", strings.Join(undecided, "; "))
			}
			var shell *device.ShellLogin
			if check && len(idle) > 0 {
				shell = &device.ShellLogin{User: sshUser, Password: in["ssh-password"]}
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

func logStorage() catalog.Code[tstate] {
	return catalog.Code[tstate]{
		Check: func(s tstate) steps.Finding {
			l := s.Log
			return steps.Finding{Applicable: true,
				Compliant: l.SystemEnable && l.EventEnable && l.SystemMB >= 100 && l.EventMB >= 100,
				Observed:  fmt.Sprintf("system log %s, %d MB; event log %s, %d MB", catalog.OnOff(l.SystemEnable), l.SystemMB, catalog.OnOff(l.EventEnable), l.EventMB),
				Expected:  "both Enabled with at least 100 MB",
				Notes:     []string{"review the size against how long the site must keep logs"}}
		},
	}
}

func cloudX509(app, name string) catalog.Code[tstate] {
	return catalog.Code[tstate]{
		Check: func(s tstate) steps.Finding {
			var apps []device.CloudApp
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

func httpsOff() catalog.Code[tstate] {
	return catalog.Code[tstate]{
		Validate: map[string]func(string) error{"confirm": validateDisableHTTPS},
		Check: func(s tstate) steps.Finding {
			on := s.Services[device.SvcHTTPS]
			return steps.Finding{Applicable: true, Compliant: !on,
				Observed: "HTTPS service: " + catalog.OnOff(on) + "; " + ports(s).Text("https"),
				Expected: "HTTPS service Disabled at the end of commissioning"}
		},
	}
}

func guardLastAdmin(p tstate) error {
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

func guardOwnAccount(p tstate) error {
	if u, ok := p.UserByName(p.User); ok && (u.Delete || !u.Active || !u.Admin()) {
		return fmt.Errorf("the tool is logged in as %s: log in with another administrator (such as your personal account) before removing or demoting it", p.User)
	}
	return nil
}

func guardManagementLAN(p tstate) error {
	if i := p.ManagementInterface(); i >= 0 && !p.Interfaces[i].Enable {
		return fmt.Errorf("this laptop reaches the gateway through %s: turning it off would cut the session", p.Interfaces[i].Name)
	}
	return nil
}

func guardKeepHTTPS(p tstate) error {
	if on, ok := p.Services[device.SvcHTTPS]; ok && !on {
		return errors.New("turning HTTPS off cuts the tool's own access: do it by hand as the last step")
	}
	return nil
}
