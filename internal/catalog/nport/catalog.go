// Package nport is the Moxa NPort 5000 catalog: the hardening guide's
// recommendations as steps. The words (ids, sections, titles, why, SRs,
// cautions, attestations, input labels, what each change interrupts) are
// in steps.toml; this file holds the checks, plans, input validators and
// guards, keyed by step id. family.go describes the family to the command.
package nport

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/commission-tool/commission/internal/catalog"
	"github.com/commission-tool/commission/internal/devices"
	device "github.com/commission-tool/commission/internal/devices/nport"
	"github.com/commission-tool/commission/internal/printable"
	"github.com/commission-tool/commission/internal/steps"
)

//go:generate go run ../gen

// The steps' words are steps.toml's. prose_gen.go holds them as
// stepsProse, read and checked by catalog.LoadProse when go generate
// wrote it, so that no command parses TOML; TestProseIsGenerated fails
// when the two disagree.

type nstate = device.State

// PasswordRules are the NPort guide's: length 16 (the guide's minimum is
// the device's maximum), a digit, both cases and a special character.
var PasswordRules = catalog.PasswordRules{MinLength: 16, MaxLength: 16, Classes: 4,
	Special: "~!@#$%^&*-_|;:,.<>[]{}()", CheckCommon: true}

// DefaultBanner is the login message the wizard proposes.
const DefaultBanner = "Authorised access only. This device is part of an industrial control system; activity is logged and monitored."

// Catalog returns the NPort 5000 catalog: every recommendation of the
// guide's sections 3.1 to 4.2, in guide order (the order of steps.toml).
func Catalog() steps.Catalog[device.State] {
	p, st, err := build()
	if err != nil {
		// prose_gen.go is steps.toml, checked: the tests make this unreachable
		panic("catalog/nport: " + err.Error())
	}
	return steps.Catalog[device.State]{
		Family:   p.Family,
		Guide:    p.Guide,
		Steps:    st,
		Guards:   []steps.Guard[device.State]{guardOwnAddress, guardHTTPSBeforeHTTP, guardLastAdmin},
		Clone:    func(s device.State) device.State { return s.Clone() },
		Identity: func(s device.State) devices.Identity { return s.Identity },
	}
}

// Timing is the wording of the wizard's confirm screens for an NPort,
// which holds every submitted setting until one Save/Restart.
func Timing() catalog.Timing {
	return stepsProse.Timing
}

func build() (catalog.Prose, []steps.Step[nstate], error) {
	p := stepsProse
	if len(p.Effects) > 0 {
		// the plans append no effect: every change waits for the Save/Restart ([timing] apply says so)
		return p, nil, errors.New("steps.toml: [effects] is not used by the NPort's plans")
	}
	st, err := catalog.Build(p, code())
	return p, st, err
}

// code is every step's Go side, keyed by the step id of steps.toml.
func code() map[string]catalog.Code[nstate] {
	return map[string]catalog.Code[nstate]{
		"nport.3.1.http": serviceOff(func(s nstate) bool { return s.Console.HTTP }, func(s *nstate) { s.Console.HTTP = false },
			"HTTP console", "http"),
		"nport.3.1.https":      https(),
		"nport.3.1.tls-legacy": legacyTLS(),
		"nport.3.1.telnet": serviceOff(func(s nstate) bool { return s.Console.Telnet }, func(s *nstate) { s.Console.Telnet = false },
			"Telnet console", "telnet"),
		"nport.3.1.moxa-service": serviceOff(func(s nstate) bool { return s.Console.MoxaService }, func(s *nstate) { s.Console.MoxaService = false },
			"Moxa Service", "moxa-udp", "moxa-tcp", "moxa-tcp2"),
		"nport.3.1.dsci-leak":       dsciLeak(),
		"nport.3.1.snmp":            snmp(),
		"nport.3.1.sntp":            sntp(),
		"nport.3.1.dhcp":            dhcp(),
		"nport.3.1.syslog":          syslogServer(),
		"nport.3.1.opmodes":         opModes(),
		"nport.3.2.personal-admin":  personalAdmin(),
		"nport.3.2.default-admin":   defaultAdmin(),
		"nport.3.2.password-policy": policy(),
		"nport.3.2.lockout":         lockout(),
		"nport.3.2.login-message":   loginMessage(),
		"nport.3.3.accessible-ip":   accessList(),
		"nport.3.4.log-events":      logEvents(),
		"nport.3.4.log-review":      logReview(),
		"nport.4.1.patch-plan":      patchPlan(),
		"nport.4.2.firmware":        firmware(),
		"nport.4.2.firmware-hash":   firmwareHash(),
	}
}

func ports(s nstate) catalog.Ports { return catalog.Ports(s.Observed.Ports) }

// serviceOff turns a console service off and proves it with probes.
func serviceOff(get func(nstate) bool, set func(*nstate), label string, names ...string) catalog.Code[nstate] {
	return catalog.Code[nstate]{
		Check: func(s nstate) steps.Finding {
			f := steps.Finding{Applicable: true,
				Observed: fmt.Sprintf("%s: %s; %s", label, catalog.OnOff(get(s)), ports(s).Numbers(names...)),
				Expected: fmt.Sprintf("%s: Disabled; every port closed", label),
			}
			f.Compliant = !get(s) && ports(s).AllClosed(names...)
			if !get(s) && !f.Compliant {
				f.Notes = append(f.Notes, "the setting is off but a port still answers: the change waits for a restart, or the device ignores it")
			}
			return f
		},
		Plan: func(s nstate, _ steps.Values) (steps.Plan[nstate], error) {
			return steps.Plan[nstate]{
				Changes: []steps.Change{{Setting: label, From: catalog.OnOff(get(s)), To: "Disabled"}},
				Mutate:  func(d *nstate) error { set(d); return nil },
			}, nil
		},
	}
}

func https() catalog.Code[nstate] {
	return catalog.Code[nstate]{
		Check: func(s nstate) steps.Finding {
			tls12 := s.Observed.TLS.Versions["TLS 1.2"]
			f := steps.Finding{Applicable: true,
				Observed: fmt.Sprintf("HTTPS console: %s; %s; TLS 1.2 accepted: %t; logged in over HTTPS: %t", catalog.OnOff(s.Console.HTTPS), ports(s).Numbers("https"), tls12, s.HTTPSProven),
				Expected: "HTTPS console: Enabled; port open; TLS 1.2 accepted; login over HTTPS works",
			}
			f.Compliant = s.Console.HTTPS && ports(s).AllOpen("https") && tls12 && s.HTTPSProven
			if s.Via == "http" {
				f.Notes = append(f.Notes, "this unit was driven over plain HTTP because its HTTPS console did not answer: the login crossed the network as a hashed answer that an eavesdropper can replay, and every setting was readable on the wire; treat the password as exposed until HTTPS works and change it over HTTPS")
			}
			if c := s.Observed.Cert; c != nil && len(c.Problems) > 0 {
				f.Compliant = false
				for _, p := range c.Problems {
					f.Notes = append(f.Notes, "certificate deviation: "+printable.String(p)+": replace the certificate (import one from the plant's CA)")
				}
			}
			if c := s.Observed.TLS.Cert; c != nil {
				f.Notes = append(f.Notes, fmt.Sprintf("certificate %s, issued by %s, valid until %s, signature %s", printable.String(c.Subject), printable.String(c.Issuer), c.NotAfter.Format("2006-01-02"), c.SignatureAlgorithm))
				if c.SelfSigned {
					f.Notes = append(f.Notes, "the certificate is self-signed: the tool pinned its fingerprint; import a certificate from the plant's CA when one is available")
				}
				if c.SHA1Signed {
					f.Notes = append(f.Notes, "the certificate is signed with SHA-1, which is broken: replace it")
				}
			}
			return f
		},
		Plan: func(s nstate, _ steps.Values) (steps.Plan[nstate], error) {
			return steps.Plan[nstate]{
				Changes: []steps.Change{{Setting: "HTTPS console", From: catalog.OnOff(s.Console.HTTPS), To: "Enabled"}},
				Mutate:  func(d *nstate) error { d.Console.HTTPS = true; return nil },
			}, nil
		},
	}
}

func legacyTLS() catalog.Code[nstate] {
	return catalog.Code[nstate]{
		Check: func(s nstate) steps.Finding {
			v := s.Observed.TLS.Versions
			f := steps.Finding{Applicable: true,
				Observed: fmt.Sprintf("TLS v1.0/v1.1 setting: %s; offered: TLS 1.0 %t, TLS 1.1 %t", catalog.OnOff(s.Console.LegacyTLS), v["TLS 1.0"], v["TLS 1.1"]),
				Expected: "setting Disabled; TLS 1.0 and 1.1 refused by the HTTPS port",
			}
			probed := len(v) > 0
			f.Compliant = !s.Console.LegacyTLS && probed && !v["TLS 1.0"] && !v["TLS 1.1"]
			if !probed {
				f.Notes = append(f.Notes, "the HTTPS port could not be probed: "+s.Observed.TLS.Error)
			}
			return f
		},
		Plan: func(s nstate, _ steps.Values) (steps.Plan[nstate], error) {
			return steps.Plan[nstate]{
				Changes: []steps.Change{{Setting: "TLS v1.0/v1.1 for HTTPS console", From: catalog.OnOff(s.Console.LegacyTLS), To: "Disabled"}},
				Mutate:  func(d *nstate) error { d.Console.LegacyTLS = false; return nil },
			}, nil
		},
	}
}

func dsciLeak() catalog.Code[nstate] {
	return catalog.Code[nstate]{
		Check: func(s nstate) steps.Finding {
			f := steps.Finding{Applicable: true,
				Observed: fmt.Sprintf("UDP 4800 function 0x28 returned a community: %t; %s", s.Observed.DSCILeak, ports(s).Numbers("moxa-udp")),
				Expected: "no secret returned (the service is off, or the firmware no longer leaks)",
			}
			// never compliant when the request was not sent
			f.Compliant = s.Observed.DSCIAsked && !s.Observed.DSCILeak
			if !s.Observed.DSCIAsked {
				f.Observed = "the UDP 4800 request for the community was not sent: the check was not made; " + ports(s).Numbers("moxa-udp")
			}
			return f
		},
		Plan: func(s nstate, _ steps.Values) (steps.Plan[nstate], error) {
			return steps.Plan[nstate]{
				Changes: []steps.Change{{Setting: "Moxa Service", From: catalog.OnOff(s.Console.MoxaService), To: "Disabled"}},
				Mutate:  func(d *nstate) error { d.Console.MoxaService = false; return nil },
			}, nil
		},
	}
}

func snmp() catalog.Code[nstate] {
	return catalog.Code[nstate]{
		Check: func(s nstate) steps.Finding {
			f := steps.Finding{Applicable: true,
				Observed: fmt.Sprintf("SNMP agent: %s; default communities accepted: %t; %s", catalog.OnOff(s.SNMP.Enabled), s.SNMP.DefaultCommunities, ports(s).Numbers("snmp")),
				Expected: "SNMP agent: Disabled; no answer on UDP 161",
			}
			f.Compliant = !s.SNMP.Enabled && !s.SNMP.DefaultCommunities && ports(s).AllClosed("snmp")
			return f
		},
		Plan: func(s nstate, _ steps.Values) (steps.Plan[nstate], error) {
			return steps.Plan[nstate]{
				Changes: []steps.Change{{Setting: "SNMP", From: catalog.OnOff(s.SNMP.Enabled), To: "Disabled"}},
				Mutate:  func(d *nstate) error { d.SNMP.Enabled = false; return nil },
			}, nil
		},
	}
}

func sntp() catalog.Code[nstate] {
	return catalog.Code[nstate]{
		Check: func(s nstate) steps.Finding {
			if s.Time.NoServer {
				return steps.Finding{Applicable: false, Compliant: true,
					Reason:   "the 5100 and 5200 series have no SNTP client: the Basic Settings page has no Time server row",
					Observed: "this model has no Time server setting (the 5100 and 5200 series have no SNTP client)",
					Expected: "Time server: (none)"}
			}
			return steps.Finding{Applicable: true, Compliant: s.Time.Server == "",
				Observed: "Time server: " + quoteOrNone(s.Time.Server),
				Expected: "Time server: (none)"}
		},
		Plan: func(s nstate, _ steps.Values) (steps.Plan[nstate], error) {
			return steps.Plan[nstate]{
				// clearing the server removes the site's setting from the device
				Changes: []steps.Change{{Setting: "Time server", From: quoteOrNone(s.Time.Server), To: "(none)", Deletes: s.Time.Server != ""}},
				Mutate:  func(d *nstate) error { d.Time.Server = ""; return nil },
			}, nil
		},
	}
}

func quoteOrNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return printable.String(s)
}

func dhcp() catalog.Code[nstate] {
	return catalog.Code[nstate]{
		Check: func(s nstate) steps.Finding {
			return steps.Finding{Applicable: true, Compliant: s.Network.Config == "Static",
				Observed: fmt.Sprintf("IP configuration: %s (%s)", printable.String(s.Network.Config), printable.String(s.Network.IP)),
				Expected: "IP configuration: Static"}
		},
		Plan: func(s nstate, _ steps.Values) (steps.Plan[nstate], error) {
			if _, err := netip.ParseAddr(s.Network.IP); err != nil {
				return steps.Plan[nstate]{}, errors.New("the device does not show its current address; set a static address by hand in Network Settings")
			}
			return steps.Plan[nstate]{
				Changes: []steps.Change{{Setting: "IP configuration", From: s.Network.Config, To: "Static (" + s.Network.IP + ")"}},
				Mutate:  func(d *nstate) error { d.Network.Config = "Static"; return nil },
			}, nil
		},
	}
}

func validateIPv4(v string) error { _, err := catalog.ParseIPv4(v); return err }

func syslogServer() catalog.Code[nstate] {
	return catalog.Code[nstate]{
		Validate: map[string]func(string) error{"server": validateIPv4},
		Check: func(s nstate) steps.Finding {
			_, err := netip.ParseAddr(s.RemoteLog.Server)
			return steps.Finding{Applicable: true, Compliant: err == nil,
				Observed: "SYSLOG server: " + quoteOrNone(s.RemoteLog.Server),
				Expected: "SYSLOG server: the site's log server"}
		},
		Defaults: func(s nstate) steps.Values { return steps.Values{"server": s.RemoteLog.Server} },
		Plan: func(s nstate, in steps.Values) (steps.Plan[nstate], error) {
			ip, err := catalog.ParseIPv4(in["server"])
			if err != nil {
				return steps.Plan[nstate]{}, err
			}
			return steps.Plan[nstate]{
				Changes: []steps.Change{{Setting: "SYSLOG server", From: quoteOrNone(s.RemoteLog.Server), To: ip.String()}},
				Mutate:  func(d *nstate) error { d.RemoteLog.Server = ip.String(); return nil },
			}, nil
		},
	}
}

func opModes() catalog.Code[nstate] {
	return catalog.Code[nstate]{
		Check: func(s nstate) steps.Finding {
			var parts []string
			for _, p := range s.Ports {
				n := strconv.Itoa(p.Number)
				parts = append(parts, fmt.Sprintf("port %d: %s (%s)", p.Number, printable.String(p.Mode),
					ports(s).Numbers("realcom-data-"+n, "realcom-cmd-"+n, "tcp-server-"+n)))
			}
			return steps.Finding{Applicable: true, Observed: strings.Join(parts, "; "),
				Expected: "only ports in use have an operation mode"}
		},
	}
}

func accountsText(s nstate) string {
	var parts []string
	for _, a := range s.Accounts {
		lvl := "Read Only"
		if a.Admin {
			lvl = "Read Write"
		}
		act := ""
		if !a.Active {
			act = ", inactive"
		}
		parts = append(parts, fmt.Sprintf("%s (%s%s)", printable.String(a.Name), lvl, act))
	}
	return strings.Join(parts, ", ")
}

func personalAdmins(s nstate) []string {
	var out []string
	for _, a := range s.Accounts {
		if a.Active && a.Admin && !a.Delete && a.Name != "admin" {
			out = append(out, a.Name)
		}
	}
	return out
}

func personalAdmin() catalog.Code[nstate] {
	return catalog.Code[nstate]{
		Validate: map[string]func(string) error{"name": catalog.ValidateAccountName, "password": PasswordRules.Check},
		Check: func(s nstate) steps.Finding {
			p := personalAdmins(s)
			return steps.Finding{Applicable: true, Compliant: len(p) > 0,
				Observed: "accounts: " + accountsText(s),
				Expected: "at least one active personal account with User Level Read Write"}
		},
		Plan: func(s nstate, in steps.Values) (steps.Plan[nstate], error) {
			name := strings.TrimSpace(in["name"])
			if in["password"] != in["confirm"] {
				return steps.Plan[nstate]{}, errors.New("the two passwords differ: type the same password twice")
			}
			if _, ok := s.Account(name); ok {
				return steps.Plan[nstate]{}, fmt.Errorf("an account named %q already exists: choose another name", name)
			}
			if len(s.Accounts) >= 16 {
				return steps.Plan[nstate]{}, errors.New("the device already holds 16 accounts: delete one first")
			}
			pw := in["password"]
			return steps.Plan[nstate]{
				Changes: []steps.Change{{Setting: "User Account", From: "(none)", To: name + " (Read Write, active, new password)"}},
				Mutate: func(d *nstate) error {
					d.Accounts = append(d.Accounts, device.Account{Name: name, Active: true, Admin: true})
					if d.Secrets == nil {
						d.Secrets = map[string]string{}
					}
					d.Secrets[name] = pw
					return nil
				},
			}, nil
		},
	}
}

func defaultAdmin() catalog.Code[nstate] {
	return catalog.Code[nstate]{
		Validate: map[string]func(string) error{"password": PasswordRules.Check},
		Check: func(s nstate) steps.Finding {
			a, ok := s.Account("admin")
			f := steps.Finding{Applicable: true, Expected: `"admin" refuses the password "moxa" (or is inactive)`}
			switch {
			case !ok || !a.Active:
				f.Compliant, f.Observed = true, `"admin" is absent or inactive`
			case s.DefaultLogin == nil:
				f.Observed = "the default password was not tested"
			case *s.DefaultLogin:
				f.Observed = `"admin" accepts the default password`
			default:
				f.Compliant, f.Observed = true, `"admin" refused the default password`
			}
			return f
		},
		Plan: func(s nstate, in steps.Values) (steps.Plan[nstate], error) {
			if in["password"] != in["confirm"] {
				return steps.Plan[nstate]{}, errors.New("the two passwords differ: type the same password twice")
			}
			if in["password"] == "moxa" {
				return steps.Plan[nstate]{}, errors.New("that is the default password")
			}
			if _, ok := s.Account("admin"); !ok {
				return steps.Plan[nstate]{}, errors.New(`there is no "admin" account to change`)
			}
			pw := in["password"]
			return steps.Plan[nstate]{
				Changes: []steps.Change{{Setting: "admin password", From: "default", To: "new password (not shown)"}},
				Mutate: func(d *nstate) error {
					if d.Secrets == nil {
						d.Secrets = map[string]string{}
					}
					d.Secrets["admin"] = pw
					return nil
				},
			}, nil
		},
	}
}

func policyText(p device.PasswordPolicy) string {
	return fmt.Sprintf("minimum length %d; complexity check %s (digit %s, mixed case %s, special %s); lifetime %d days",
		p.MinLength, catalog.OnOff(p.Complexity), catalog.OnOff(p.Digit), catalog.OnOff(p.MixedCase), catalog.OnOff(p.Special), p.LifetimeDays)
}

func validateLifetime(v string) error { _, err := intIn(v, 1, 90); return err }

func policy() catalog.Code[nstate] {
	return catalog.Code[nstate]{
		Validate: map[string]func(string) error{"lifetime": validateLifetime},
		Check: func(s nstate) steps.Finding {
			p := s.Policy
			return steps.Finding{Applicable: true,
				Compliant: p.MinLength >= 16 && p.Complexity && p.Digit && p.MixedCase && p.Special && p.LifetimeDays >= 1 && p.LifetimeDays <= 90,
				Observed:  policyText(p),
				Expected:  "minimum length 16; complexity check and all three rules Enabled; lifetime 1 to 90 days"}
		},
		Defaults: func(s nstate) steps.Values {
			if s.Policy.LifetimeDays >= 1 && s.Policy.LifetimeDays <= 90 {
				return steps.Values{"lifetime": strconv.Itoa(s.Policy.LifetimeDays)}
			}
			return steps.Values{"lifetime": "30"}
		},
		Plan: func(s nstate, in steps.Values) (steps.Plan[nstate], error) {
			days, err := intIn(in["lifetime"], 1, 90)
			if err != nil {
				return steps.Plan[nstate]{}, err
			}
			want := s.Policy
			want.MinLength, want.Complexity, want.Digit, want.MixedCase, want.Special, want.LifetimeDays = 16, true, true, true, true, days
			return steps.Plan[nstate]{
				Changes: []steps.Change{{Setting: "Password policy", From: policyText(s.Policy), To: policyText(want)}},
				Mutate:  func(d *nstate) error { d.Policy = keepLockout(want, d.Policy); return nil },
			}, nil
		},
	}
}

// keepLockout takes the password rules of want and the lockout fields of cur.
func keepLockout(want, cur device.PasswordPolicy) device.PasswordPolicy {
	want.Lockout, want.Threshold, want.LockoutMinutes = cur.Lockout, cur.Threshold, cur.LockoutMinutes
	return want
}

func intIn(v string, lo, hi int) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n < lo || n > hi {
		return 0, fmt.Errorf("enter a whole number from %d to %d", lo, hi)
	}
	return n, nil
}

func lockoutText(p device.PasswordPolicy) string {
	return fmt.Sprintf("lockout %s after %d failures for %d min", catalog.OnOff(p.Lockout), p.Threshold, p.LockoutMinutes)
}

func lockout() catalog.Code[nstate] {
	return catalog.Code[nstate]{
		Check: func(s nstate) steps.Finding {
			p := s.Policy
			return steps.Finding{Applicable: true,
				Compliant: p.Lockout && p.Threshold >= 1 && p.Threshold <= 5 && p.LockoutMinutes >= 60,
				Observed:  lockoutText(p), Expected: "lockout Enabled after at most 5 failures for 60 min"}
		},
		Plan: func(s nstate, _ steps.Values) (steps.Plan[nstate], error) {
			want := s.Policy
			want.Lockout, want.Threshold, want.LockoutMinutes = true, 5, 60
			return steps.Plan[nstate]{
				Changes: []steps.Change{{Setting: "Account login failure lockout", From: lockoutText(s.Policy), To: lockoutText(want)}},
				Mutate: func(d *nstate) error {
					d.Policy.Lockout, d.Policy.Threshold, d.Policy.LockoutMinutes = true, 5, 60
					return nil
				},
			}, nil
		},
	}
}

func validateBanner(v string) error {
	v = strings.TrimSpace(v)
	switch {
	case v == "":
		return errors.New("enter the site's approved warning text")
	case len([]rune(v)) > 240:
		return fmt.Errorf("the device accepts at most 240 characters; this text has %d", len([]rune(v)))
	case printable.String(v) != v:
		return errors.New("remove control characters from the text")
	}
	return nil
}

func loginMessage() catalog.Code[nstate] {
	return catalog.Code[nstate]{
		Validate: map[string]func(string) error{"message": validateBanner},
		Check: func(s nstate) steps.Finding {
			m := strings.TrimSpace(s.Notice.LoginMessage)
			return steps.Finding{Applicable: true, Compliant: m != "" && m != "Welcome to Moxa NPort",
				Observed: "Login Message: " + quoteOrNone(m), Expected: "the site's approved warning text"}
		},
		Defaults: func(s nstate) steps.Values {
			if m := strings.TrimSpace(s.Notice.LoginMessage); m != "" && m != "Welcome to Moxa NPort" {
				return steps.Values{"message": m}
			}
			return steps.Values{"message": DefaultBanner}
		},
		Plan: func(s nstate, in steps.Values) (steps.Plan[nstate], error) {
			m := strings.TrimSpace(in["message"])
			if err := validateBanner(m); err != nil {
				return steps.Plan[nstate]{}, err
			}
			return steps.Plan[nstate]{
				Changes: []steps.Change{{Setting: "Login Message", From: quoteOrNone(s.Notice.LoginMessage), To: m}},
				Mutate:  func(d *nstate) error { d.Notice.LoginMessage = m; return nil },
			}, nil
		},
	}
}

func rulesText(l device.AccessList) string {
	if !l.Enabled {
		return "list disabled (any host allowed)"
	}
	var parts []string
	for _, r := range l.Rules {
		if r.Active {
			parts = append(parts, r.IP.String()+"/"+r.Netmask.String())
		}
	}
	if len(parts) == 0 {
		return "list enabled with no active rule"
	}
	return "allowed: " + strings.Join(parts, ", ")
}

// dropsRule reports whether replacing the list's rules with want's
// removes a rule the device holds (active or not).
func dropsRule(cur, want device.AccessList) bool {
	for _, r := range cur.Rules {
		if !slices.ContainsFunc(want.Rules, func(w device.AccessRule) bool { return w.IP == r.IP && w.Netmask == r.Netmask }) {
			return true
		}
	}
	return false
}

func validateRules(v string) error { _, err := catalog.ParseRules(v); return err }

func accessList() catalog.Code[nstate] {
	return catalog.Code[nstate]{
		Validate: map[string]func(string) error{"rules": validateRules},
		Check: func(s nstate) steps.Finding {
			active := 0
			for _, r := range s.AccessList.Rules {
				if r.Active {
					active++
				}
			}
			f := steps.Finding{Applicable: true,
				Observed: rulesText(s.AccessList),
				Expected: "list enabled with at least one rule, and this laptop allowed"}
			f.Compliant = s.AccessList.Enabled && active > 0 && s.AccessList.Allows(s.ClientAddr)
			return f
		},
		Defaults: func(s nstate) steps.Values {
			var lines []string
			for _, r := range s.AccessList.Rules {
				if r.Active {
					lines = append(lines, r.IP.String()+" "+r.Netmask.String())
				}
			}
			if len(lines) == 0 && s.ClientAddr.IsValid() {
				lines = append(lines, s.ClientAddr.String())
			}
			return steps.Values{"rules": strings.Join(lines, "\n")}
		},
		Plan: func(s nstate, in steps.Values) (steps.Plan[nstate], error) {
			rules, err := catalog.ParseRules(in["rules"])
			if err != nil {
				return steps.Plan[nstate]{}, err
			}
			want := device.AccessList{Enabled: true}
			for _, r := range rules {
				want.Rules = append(want.Rules, device.AccessRule{Active: true, IP: r.IP, Netmask: r.Netmask})
			}
			return steps.Plan[nstate]{
				Changes: []steps.Change{{Setting: "Accessible IP List", From: rulesText(s.AccessList), To: rulesText(want),
					Deletes: dropsRule(s.AccessList, want)}},
				Mutate: func(d *nstate) error { d.AccessList = want; return nil },
			}, nil
		},
	}
}

var logGroups = []string{"System", "Network", "Config", "OpMode"}

func logEventsText(s nstate) string {
	var parts []string
	for _, g := range logGroups {
		t := s.LogEvents[g]
		parts = append(parts, fmt.Sprintf("%s local %s remote %s", g, yesNo(t.Local), yesNo(t.Remote)))
	}
	return strings.Join(parts, "; ")
}

func yesNo(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

func logEvents() catalog.Code[nstate] {
	return catalog.Code[nstate]{
		Check: func(s nstate) steps.Finding {
			ok := true
			for _, g := range logGroups {
				t := s.LogEvents[g]
				if !t.Local || !t.Remote {
					ok = false
				}
			}
			f := steps.Finding{Applicable: true, Compliant: ok, Observed: logEventsText(s),
				Expected: "System, Network, Config and OpMode logged locally and to the remote log server"}
			if s.RemoteLog.Server == "" {
				f.Notes = append(f.Notes, "no remote log server is set yet: remote logging takes effect once one is (step 3.1 syslog)")
			}
			return f
		},
		Plan: func(s nstate, _ steps.Values) (steps.Plan[nstate], error) {
			return steps.Plan[nstate]{
				Changes: []steps.Change{{Setting: "System Log Settings", From: logEventsText(s), To: "every group local on, remote on"}},
				Mutate: func(d *nstate) error {
					d.LogEvents = map[string]device.LogTarget{}
					for _, g := range logGroups {
						d.LogEvents[g] = device.LogTarget{Local: true, Remote: true}
					}
					return nil
				},
			}, nil
		},
	}
}

func logReview() catalog.Code[nstate] {
	return catalog.Code[nstate]{
		Check: func(s nstate) steps.Finding {
			fails := 0
			for _, l := range s.LogLines {
				if strings.Contains(l, "Login Fail") {
					fails++
				}
			}
			tail := s.LogLines
			if len(tail) > 5 {
				tail = tail[len(tail)-5:]
			}
			clean := make([]string, len(tail))
			for i, l := range tail {
				clean[i] = printable.String(l)
			}
			f := steps.Finding{Applicable: true,
				Observed: fmt.Sprintf("%d log lines, %d failed logins; latest: %s", len(s.LogLines), fails, strings.Join(clean, " | ")),
				Expected: "no unexplained failed logins or changes"}
			if len(s.FailedLogins) > 0 {
				f.Notes = append(f.Notes, fmt.Sprintf("at login the device showed its failed-login record (%d entries); the tool kept it and did not clear it:", len(s.FailedLogins)))
				for _, l := range s.FailedLogins {
					f.Notes = append(f.Notes, "failed login: "+printable.String(l))
				}
			}
			return f
		},
	}
}

func validateOwner(v string) error {
	if strings.TrimSpace(v) == "" {
		return errors.New("name the role or person who follows Moxa's advisories")
	}
	return nil
}

func patchPlan() catalog.Code[nstate] {
	return catalog.Code[nstate]{Validate: map[string]func(string) error{"owner": validateOwner}}
}

func firmware() catalog.Code[nstate] {
	return catalog.Code[nstate]{
		Check: func(s nstate) steps.Finding {
			model, fw := s.Identity.Model, s.Identity.Firmware
			f := steps.Finding{Applicable: true, Observed: fmt.Sprintf("%s firmware %s", printable.String(model), printable.String(fw)),
				Expected: "firmware at or above the guide's minimum, with no advisory that a newer firmware fixes"}
			if fw == "" {
				f.Observed += " (the firmware version could not be read)"
				return f
			}
			f.Compliant = true
			for _, a := range device.Advisories(model, fw) {
				f.Notes = append(f.Notes, a.String())
				if a.Affected && a.FixedIn != "" {
					f.Compliant = false
				}
			}
			return f
		},
	}
}

func firmwareHash() catalog.Code[nstate] {
	return catalog.Code[nstate]{
		Validate: map[string]func(string) error{"file": catalog.ValidateMoxaFirmwareFile, "sha512": catalog.ValidateMoxaSHA512},
		Evidence: func(ctx context.Context, in steps.Values) (string, error) {
			return catalog.FileSHA512Matches(ctx, strings.TrimSpace(in["file"]), in["sha512"])
		},
	}
}

// guardOwnAddress refuses an allow list that would shut out the technician.
func guardOwnAddress(p nstate) error {
	if !p.AccessList.Enabled {
		return nil
	}
	if !p.ClientAddr.IsValid() {
		return errors.New("the tool cannot tell your address as the device sees it, so it will not turn the Accessible IP list on")
	}
	if !p.AccessList.Allows(p.ClientAddr) {
		return fmt.Errorf("the Accessible IP list would lock out this laptop (%s): add a rule that covers it, such as %s", p.ClientAddr, p.ClientAddr)
	}
	return nil
}

// guardHTTPSBeforeHTTP refuses to turn HTTP off until HTTPS is proven.
func guardHTTPSBeforeHTTP(p nstate) error {
	if !p.Console.HTTPS {
		return errors.New("the HTTPS console is the management path the guide keeps; the tool will not turn it off")
	}
	if !p.Console.HTTP {
		if !p.HTTPSProven {
			return errors.New("HTTPS has not been proven in this session (the tool has not logged in over it), so HTTP stays on: check that the HTTPS console answers, then try again")
		}
	}
	return nil
}

// guardLastAdmin keeps at least one active administrator whose password is known.
func guardLastAdmin(p nstate) error {
	n := 0
	for _, a := range p.Accounts {
		if a.Active && a.Admin && !a.Delete {
			n++
		}
	}
	if n == 0 {
		return errors.New("this would leave no active Read Write account: the last administrator stays")
	}
	if a, ok := p.Account(p.User); ok && (!a.Active || a.Delete || !a.Admin) {
		if _, newPw := p.Secrets[p.User]; newPw {
			// the tool would log in with that new password after the restart
			return fmt.Errorf("this would disable or demote %q, the account the tool is using, while a new password is staged for it: keep the account an active administrator, or drop the password change", p.User)
		}
		others := slices.ContainsFunc(p.Accounts, func(b device.Account) bool {
			_, hasPw := p.Secrets[b.Name]
			return b.Name != p.User && b.Active && b.Admin && !b.Delete && (hasPw || slices.Contains(p.ProvenUsers, b.Name))
		})
		if !others {
			return fmt.Errorf("this would disable %q, the account the tool is using, with no other proven administrator", p.User)
		}
	}
	return nil
}
