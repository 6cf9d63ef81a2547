package catalog

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/commission-tool/commission/internal/devices"
	"github.com/commission-tool/commission/internal/devices/nport"
	"github.com/commission-tool/commission/internal/printable"
	"github.com/commission-tool/commission/internal/probe"
	"github.com/commission-tool/commission/internal/steps"
)

// NPortGuide names the guide the NPort catalog follows.
const NPortGuide = "Moxa, The Security Hardening Guide for the NPort 5000 Series (2022-10-31), sections 3.1 to 4.2"

type nstate = nport.State

// NPort returns the NPort 5000 catalog: every recommendation of the
// guide's sections 3.1 to 4.2, in guide order.
func NPort() steps.Catalog[nport.State] {
	return steps.Catalog[nport.State]{
		Family:   "nport",
		Guide:    NPortGuide,
		Steps:    nportSteps(),
		Guards:   []steps.Guard[nport.State]{guardOwnAddress, guardHTTPSBeforeHTTP, guardLastAdmin},
		Clone:    func(s nport.State) nport.State { return s.Clone() },
		Identity: func(s nport.State) devices.Identity { return s.Identity },
	}
}

// Wizard sections.
const (
	groupAccounts  = "accounts"
	groupServices  = "services"
	groupAllowList = "allowlist"
	groupTLS       = "tls"
	groupLogging   = "logging"
	groupFirmware  = "firmware"
)

func onOff(b bool) string {
	if b {
		return "Enabled"
	}
	return "Disabled"
}

// portText describes what the probes saw on the named services.
func portText(s nstate, names ...string) string {
	var parts []string
	for _, n := range names {
		r, ok := s.Observed.Ports[n]
		if !ok {
			parts = append(parts, n+": not probed")
			continue
		}
		parts = append(parts, fmt.Sprintf("%d/%s %s", r.Port, r.Network, r.State))
	}
	return strings.Join(parts, ", ")
}

// closedAll reports whether every named service was probed and did not answer.
func closedAll(s nstate, names ...string) bool {
	for _, n := range names {
		r, ok := s.Observed.Ports[n]
		if !ok || r.State == probe.Open || r.State == probe.Failed {
			return false
		}
	}
	return true
}

func openAll(s nstate, names ...string) bool {
	for _, n := range names {
		if r, ok := s.Observed.Ports[n]; !ok || r.State != probe.Open {
			return false
		}
	}
	return true
}

// serviceOff builds a step that turns a console service off and proves it with probes.
func serviceOff(id, title, why string, srs []string, get func(nstate) bool, set func(*nstate), label string, ports ...string) steps.Step[nstate] {
	return steps.Step[nstate]{
		Meta: steps.Meta{ID: id, Section: "3.1", Group: groupServices, Title: title, Why: why, SRs: srs, Kind: steps.Automatic},
		Check: func(s nstate) steps.Finding {
			f := steps.Finding{Applicable: true,
				Observed: fmt.Sprintf("%s: %s; %s", label, onOff(get(s)), portText(s, ports...)),
				Expected: fmt.Sprintf("%s: Disabled; every port closed", label),
			}
			f.Compliant = !get(s) && closedAll(s, ports...)
			if !get(s) && !f.Compliant {
				f.Notes = append(f.Notes, "the setting is off but a port still answers: the change waits for a restart, or the device ignores it")
			}
			return f
		},
		Plan: func(s nstate, _ steps.Values) (steps.Plan[nstate], error) {
			return steps.Plan[nstate]{
				Changes: []steps.Change{{Setting: label, From: onOff(get(s)), To: "Disabled"}},
				Mutate:  func(d *nstate) error { set(d); return nil },
			}, nil
		},
	}
}

func nportSteps() []steps.Step[nstate] {
	return []steps.Step[nstate]{
		serviceOff("nport.3.1.http", "Turn off the plain-HTTP console",
			"The HTTP console sends the password and every setting in clear text. Anyone on the plant network can read them. HTTPS does the same job encrypted, so HTTP goes once HTTPS is proven to work.",
			[]string{"SR 7.7", "SR 4.1", "SR 3.1"},
			func(s nstate) bool { return s.Console.HTTP }, func(s *nstate) { s.Console.HTTP = false },
			"HTTP console", "http"),
		httpsStep(),
		legacyTLSStep(),
		serviceOff("nport.3.1.telnet", "Keep the Telnet console off",
			"Telnet carries the login and the whole session in clear text and is rarely needed once the web console is in use.",
			[]string{"SR 7.7", "SR 4.1", "SR 1.1"},
			func(s nstate) bool { return s.Console.Telnet }, func(s *nstate) { s.Console.Telnet = false },
			"Telnet console", "telnet"),
		serviceOff("nport.3.1.moxa-service", "Turn off the Moxa command service (DSCI)",
			"Moxa's search and configuration utilities talk to the device over UDP 4800 and TCP 4900/14900 without the web console's protections. Older firmware even hands out secrets over it. Few sites use these utilities after installation.",
			[]string{"SR 7.7", "SR 1.2"},
			func(s nstate) bool { return s.Console.MoxaService }, func(s *nstate) { s.Console.MoxaService = false },
			"Moxa Service", "moxa-udp", "moxa-tcp", "moxa-tcp2"),
		dsciLeakStep(),
		snmpStep(),
		sntpStep(),
		dhcpStep(),
		syslogServerStep(),
		opModesStep(),
		personalAdminStep(),
		defaultAdminStep(),
		policyStep(),
		lockoutStep(),
		loginMessageStep(),
		accessListStep(),
		logEventsStep(),
		logReviewStep(),
		patchPlanStep(),
		firmwareStep(),
		firmwareHashStep(),
	}
}

func httpsStep() steps.Step[nstate] {
	return steps.Step[nstate]{
		Meta: steps.Meta{ID: "nport.3.1.https", Section: "3.1", Group: groupTLS,
			Title: "Keep the HTTPS console on, with TLS 1.2",
			Why:   "HTTPS is the management path the guide keeps: it encrypts the login and the settings. It must work before the plain-HTTP console can go.",
			SRs:   []string{"SR 4.1", "SR 3.1", "SR 1.8"}, Kind: steps.Automatic},
		Check: func(s nstate) steps.Finding {
			tls12 := s.Observed.TLS.Versions["TLS 1.2"]
			f := steps.Finding{Applicable: true,
				Observed: fmt.Sprintf("HTTPS console: %s; %s; TLS 1.2 accepted: %t; logged in over HTTPS: %t", onOff(s.Console.HTTPS), portText(s, "https"), tls12, s.HTTPSProven),
				Expected: "HTTPS console: Enabled; port open; TLS 1.2 accepted; login over HTTPS works",
			}
			f.Compliant = s.Console.HTTPS && openAll(s, "https") && tls12 && s.HTTPSProven
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
				Changes: []steps.Change{{Setting: "HTTPS console", From: onOff(s.Console.HTTPS), To: "Enabled"}},
				Mutate:  func(d *nstate) error { d.Console.HTTPS = true; return nil },
			}, nil
		},
	}
}

func legacyTLSStep() steps.Step[nstate] {
	return steps.Step[nstate]{
		Meta: steps.Meta{ID: "nport.3.1.tls-legacy", Section: "3.1", Group: groupTLS,
			Title: "Refuse TLS 1.0 and 1.1 on the HTTPS console",
			Why:   "TLS 1.0 and 1.1 have known weaknesses and are retired. Offering them lets an attacker push a browser down to a weaker connection.",
			SRs:   []string{"SR 4.3", "SR 3.1", "SR 4.1"}, Kind: steps.Automatic,
			Caution: "Very old browsers on plant PCs may no longer open the console."},
		Check: func(s nstate) steps.Finding {
			v := s.Observed.TLS.Versions
			f := steps.Finding{Applicable: true,
				Observed: fmt.Sprintf("TLS v1.0/v1.1 setting: %s; offered: TLS 1.0 %t, TLS 1.1 %t", onOff(s.Console.LegacyTLS), v["TLS 1.0"], v["TLS 1.1"]),
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
				Changes: []steps.Change{{Setting: "TLS v1.0/v1.1 for HTTPS console", From: onOff(s.Console.LegacyTLS), To: "Disabled"}},
				Mutate:  func(d *nstate) error { d.Console.LegacyTLS = false; return nil },
			}, nil
		},
	}
}

func dsciLeakStep() steps.Step[nstate] {
	return steps.Step[nstate]{
		Meta: steps.Meta{ID: "nport.3.1.dsci-leak", Section: "3.1", Group: groupServices,
			Title: "UDP 4800 must not give away secrets",
			Why:   "On older firmware anyone can ask UDP port 4800 for the SNMP community or the admin password, with no login (CVE-2016-9361). The tool asks, as an attacker would; turning the Moxa command service off closes the hole.",
			SRs:   []string{"SR 4.1", "SR 1.5", "SR 7.7"}, Kind: steps.Automatic},
		Check: func(s nstate) steps.Finding {
			f := steps.Finding{Applicable: true,
				Observed: fmt.Sprintf("UDP 4800 function 0x28 returned a community: %t; %s", s.Observed.DSCILeak, portText(s, "moxa-udp")),
				Expected: "no secret returned (the service is off, or the firmware no longer leaks)",
			}
			// never compliant when the request was not sent
			f.Compliant = s.Observed.DSCIAsked && !s.Observed.DSCILeak
			if !s.Observed.DSCIAsked {
				f.Observed = "the UDP 4800 request for the community was not sent: the check was not made; " + portText(s, "moxa-udp")
			}
			return f
		},
		Plan: func(s nstate, _ steps.Values) (steps.Plan[nstate], error) {
			return steps.Plan[nstate]{
				Changes: []steps.Change{{Setting: "Moxa Service", From: onOff(s.Console.MoxaService), To: "Disabled"}},
				Mutate:  func(d *nstate) error { d.Console.MoxaService = false; return nil },
			}, nil
		},
	}
}

func snmpStep() steps.Step[nstate] {
	return steps.Step[nstate]{
		Meta: steps.Meta{ID: "nport.3.1.snmp", Section: "3.1", Group: groupServices,
			Title: "Turn off the SNMP agent",
			Why:   "The NPort's SNMP agent answers v1/v2c requests whose community strings travel in clear text, and the factory strings are public knowledge. The guide manages the device over HTTPS instead.",
			SRs:   []string{"SR 7.7", "SR 1.5", "SR 4.1"}, Kind: steps.Automatic,
			Caution: "A monitoring system that polls this device over SNMP will stop receiving data. Waive this step (with the reason) if SNMP monitoring is required, and change the community strings by hand."},
		Check: func(s nstate) steps.Finding {
			f := steps.Finding{Applicable: true,
				Observed: fmt.Sprintf("SNMP agent: %s; default communities accepted: %t; %s", onOff(s.SNMP.Enabled), s.SNMP.DefaultCommunities, portText(s, "snmp")),
				Expected: "SNMP agent: Disabled; no answer on UDP 161",
			}
			f.Compliant = !s.SNMP.Enabled && !s.SNMP.DefaultCommunities && closedAll(s, "snmp")
			return f
		},
		Plan: func(s nstate, _ steps.Values) (steps.Plan[nstate], error) {
			return steps.Plan[nstate]{
				Changes: []steps.Change{{Setting: "SNMP", From: onOff(s.SNMP.Enabled), To: "Disabled"}},
				Mutate:  func(d *nstate) error { d.SNMP.Enabled = false; return nil },
			}, nil
		},
	}
}

func sntpStep() steps.Step[nstate] {
	return steps.Step[nstate]{
		Meta: steps.Meta{ID: "nport.3.1.sntp", Section: "3.1", Group: groupServices,
			Title: "Leave the SNTP client off",
			Why:   "SNTP is unauthenticated: a forged time server can shift the device's clock and scramble its log. The guide leaves the time server empty unless the site runs a trusted one.",
			SRs:   []string{"SR 7.7", "SR 2.11"}, Kind: steps.Automatic,
			Caution: "Without a time server the log's timestamps drift; set the clock by hand in Basic Settings. Waive this step if the site runs a secured time server."},
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
				Changes: []steps.Change{{Setting: "Time server", From: quoteOrNone(s.Time.Server), To: "(none)"}},
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

func dhcpStep() steps.Step[nstate] {
	return steps.Step[nstate]{
		Meta: steps.Meta{ID: "nport.3.1.dhcp", Section: "3.1", Group: groupServices,
			Title: "Use a fixed address, not DHCP",
			Why:   "A DHCP client lets whoever answers DHCP on the segment move the device to another address. The guide assigns the address by hand.",
			SRs:   []string{"SR 7.7", "SR 7.6"}, Kind: steps.Automatic,
			Caution: "The tool keeps the address it reaches the device on, so the device does not move."},
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

func syslogServerStep() steps.Step[nstate] {
	return steps.Step[nstate]{
		Meta: steps.Meta{ID: "nport.3.1.syslog", Section: "3.1", Group: groupLogging,
			Title: "Send the log to the site's syslog server",
			Why:   "The device keeps only a short log, and an intruder can clear it. A copy on the site's log server survives and can be correlated with other devices.",
			SRs:   []string{"SR 2.8", "SR 6.1", "SR 3.9"}, Kind: steps.Automatic,
			Inputs: []steps.Input{{Key: "server", Label: "Syslog server address", Help: "IPv4 address of the site's log server (UDP 514)",
				Validate: func(v string) error { _, err := ParseIPv4(v); return err }}}},
		Check: func(s nstate) steps.Finding {
			_, err := netip.ParseAddr(s.RemoteLog.Server)
			return steps.Finding{Applicable: true, Compliant: err == nil,
				Observed: "SYSLOG server: " + quoteOrNone(s.RemoteLog.Server),
				Expected: "SYSLOG server: the site's log server"}
		},
		Defaults: func(s nstate) steps.Values { return steps.Values{"server": s.RemoteLog.Server} },
		Plan: func(s nstate, in steps.Values) (steps.Plan[nstate], error) {
			ip, err := ParseIPv4(in["server"])
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

func opModesStep() steps.Step[nstate] {
	return steps.Step[nstate]{
		Meta: steps.Meta{ID: "nport.3.1.opmodes", Section: "3.1", Group: groupServices,
			Title: "Serial ports: only the operation modes in use",
			Why:   "Each serial port in an operation mode opens network ports (Real COM 950+/966+, TCP server 4000+). A port nobody uses should be set to Disable so it listens on nothing.",
			SRs:   []string{"SR 7.7"}, Kind: steps.Manual,
			Attest: "Every serial port left in an operation mode is wired to equipment this plant uses; unused ports are set to Disable."},
		Check: func(s nstate) steps.Finding {
			var parts []string
			for _, p := range s.Ports {
				n := strconv.Itoa(p.Number)
				parts = append(parts, fmt.Sprintf("port %d: %s (%s)", p.Number, printable.String(p.Mode),
					portText(s, "realcom-data-"+n, "realcom-cmd-"+n, "tcp-server-"+n)))
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

func validateAccountName(v string) error {
	v = strings.TrimSpace(v)
	switch {
	case v == "":
		return errors.New("enter an account name, such as the technician's or operator's own name")
	case strings.EqualFold(v, "admin"):
		return errors.New(`"admin" is the default account: choose a personal name`)
	case len(v) > 16:
		return errors.New("use at most 16 characters")
	case printable.String(v) != v || strings.ContainsAny(v, " \"'<>&"):
		return errors.New("use letters, digits, dot, dash and underscore only")
	}
	return nil
}

func personalAdminStep() steps.Step[nstate] {
	return steps.Step[nstate]{
		Meta: steps.Meta{ID: "nport.3.2.personal-admin", Section: "3.2", Group: groupAccounts,
			Title: "Give each administrator a personal account",
			Why:   "Everyone knows the name \"admin\", and a shared account hides who made a change. The guide manages the device with a personal administrator-level account and leaves \"admin\" to be watched.",
			SRs:   []string{"SR 1.1", "SR 1.3", "SR 2.1"}, Kind: steps.Automatic,
			Caution: "After the restart the tool logs in with the new account to prove its password before the session ends.",
			Inputs: []steps.Input{
				{Key: "name", Label: "Account name", Help: "a personal name, not admin", Validate: validateAccountName},
				{Key: "password", Label: "Password", Help: "exactly 16 characters with upper and lower case, a digit and one of ~!@#$%^&*-_|;:,.<>[]{}()", Secret: true, Validate: NPortPasswordRules.Check},
				{Key: "confirm", Label: "Confirm password", Secret: true},
			}},
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
					d.Accounts = append(d.Accounts, nport.Account{Name: name, Active: true, Admin: true})
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

func defaultAdminStep() steps.Step[nstate] {
	return steps.Step[nstate]{
		Meta: steps.Meta{ID: "nport.3.2.default-admin", Section: "3.2", Group: groupAccounts,
			Title: "Change the default admin password",
			Why:   "admin/moxa is printed in every manual. Until it changes, anyone who reaches the console owns the device.",
			SRs:   []string{"SR 1.5", "SR 1.1"}, Kind: steps.Automatic,
			Caution: "Keep the new admin password in the site's password vault; it is the way back in if a personal account is lost.",
			Inputs: []steps.Input{
				{Key: "password", Label: "New admin password", Help: "exactly 16 characters with upper and lower case, a digit and a special character", Secret: true, Validate: NPortPasswordRules.Check},
				{Key: "confirm", Label: "Confirm password", Secret: true},
			}},
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

func policyText(p nport.PasswordPolicy) string {
	return fmt.Sprintf("minimum length %d; complexity check %s (digit %s, mixed case %s, special %s); lifetime %d days",
		p.MinLength, onOff(p.Complexity), onOff(p.Digit), onOff(p.MixedCase), onOff(p.Special), p.LifetimeDays)
}

func policyStep() steps.Step[nstate] {
	return steps.Step[nstate]{
		Meta: steps.Meta{ID: "nport.3.2.password-policy", Section: "3.2", Group: groupAccounts,
			Title: "Require long, complex passwords that expire",
			Why:   "Short or simple passwords fall to guessing in minutes. The guide sets the device's strongest policy: 16 characters with digits, mixed case and special characters, and a limited lifetime.",
			SRs:   []string{"SR 1.7", "SR 1.5"}, Kind: steps.Automatic,
			Caution: "Existing passwords are not re-checked; new ones must meet the policy. Plan who changes the passwords before they expire.",
			Inputs: []steps.Input{{Key: "lifetime", Label: "Password lifetime (days)", Help: "1 to 90; the guide's example uses 30",
				Validate: func(v string) error { _, err := intIn(v, 1, 90); return err }}}},
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
func keepLockout(want, cur nport.PasswordPolicy) nport.PasswordPolicy {
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

func lockoutText(p nport.PasswordPolicy) string {
	return fmt.Sprintf("lockout %s after %d failures for %d min", onOff(p.Lockout), p.Threshold, p.LockoutMinutes)
}

func lockoutStep() steps.Step[nstate] {
	return steps.Step[nstate]{
		Meta: steps.Meta{ID: "nport.3.2.lockout", Section: "3.2", Group: groupAccounts,
			Title: "Lock an account after 5 failed logins, for 60 minutes",
			Why:   "Without a lockout, a script can try passwords as fast as the device answers. Five tries then an hour's wait makes guessing impractical.",
			SRs:   []string{"SR 1.11"}, Kind: steps.Automatic,
			Caution: "A technician who mistypes five times is locked out for an hour too; keep the admin password in the vault."},
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

// DefaultBanner is the login message the wizard proposes.
const DefaultBanner = "Authorised access only. This device is part of an industrial control system; activity is logged and monitored."

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

func loginMessageStep() steps.Step[nstate] {
	return steps.Step[nstate]{
		Meta: steps.Meta{ID: "nport.3.2.login-message", Section: "3.2", Group: groupAccounts,
			Title: "Show the site's warning banner at login",
			Why:   "A banner tells everyone who reaches the login that access is restricted and monitored; many sites' policies and some laws require it before a misuse can be pursued.",
			SRs:   []string{"SR 1.12"}, Kind: steps.Automatic,
			Inputs: []steps.Input{{Key: "message", Label: "Login message", Help: "at most 240 characters", Multiline: true, Validate: validateBanner}}},
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

func rulesText(l nport.AccessList) string {
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

func accessListStep() steps.Step[nstate] {
	return steps.Step[nstate]{
		Meta: steps.Meta{ID: "nport.3.3.accessible-ip", Section: "3.3", Group: groupAllowList,
			Title: "Allow only the hosts that need the device",
			Why:   "With the Accessible IP list on, the device answers only the SCADA hosts, engineering stations and subnets you list, so a compromised PC elsewhere on the network cannot reach it at all.",
			SRs:   []string{"SR 5.2", "SR 1.13", "SR 7.7"}, Kind: steps.Automatic,
			Caution: "The device will ignore every host not listed, including this laptop if it is missing: the tool refuses a list that leaves out your own address.",
			Inputs: []steps.Input{{Key: "rules", Label: "Allowed hosts and subnets", Multiline: true,
				Help:     "one per line: 192.168.127.10 (a host), 192.168.127.0/24 or 192.168.127.0 255.255.255.0 (a subnet); at most 16",
				Validate: func(v string) error { _, err := ParseRules(v); return err }}}},
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
			rules, err := ParseRules(in["rules"])
			if err != nil {
				return steps.Plan[nstate]{}, err
			}
			want := nport.AccessList{Enabled: true}
			for _, r := range rules {
				want.Rules = append(want.Rules, nport.AccessRule{Active: true, IP: r.IP, Netmask: r.Netmask})
			}
			return steps.Plan[nstate]{
				Changes: []steps.Change{{Setting: "Accessible IP List", From: rulesText(s.AccessList), To: rulesText(want)}},
				Mutate:  func(d *nstate) error { d.AccessList = want; return nil },
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

func logEventsStep() steps.Step[nstate] {
	return steps.Step[nstate]{
		Meta: steps.Meta{ID: "nport.3.4.log-events", Section: "3.4", Group: groupLogging,
			Title: "Log every event group, locally and to the log server",
			Why:   "Logins, failed logins, configuration and password changes, restarts and serial connections are what an investigation needs. The guide records all four event groups.",
			SRs:   []string{"SR 2.8", "SR 6.1"}, Kind: steps.Automatic},
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
					d.LogEvents = map[string]nport.LogTarget{}
					for _, g := range logGroups {
						d.LogEvents[g] = nport.LogTarget{Local: true, Remote: true}
					}
					return nil
				},
			}, nil
		},
	}
}

func logReviewStep() steps.Step[nstate] {
	return steps.Step[nstate]{
		Meta: steps.Meta{ID: "nport.3.4.log-review", Section: "3.4", Group: groupLogging,
			Title: "Read the device's system log",
			Why:   "Failed logins and unexpected configuration changes before commissioning may mean someone has already been at the device.",
			SRs:   []string{"SR 6.1", "SR 2.8"}, Kind: steps.Manual,
			Attest: "I read the system log shown here; every login and change in it is explained."},
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

func patchPlanStep() steps.Step[nstate] {
	return steps.Step[nstate]{
		Meta: steps.Meta{ID: "nport.4.1.patch-plan", Section: "4.1", Group: groupFirmware,
			Title: "Have a plan for firmware updates",
			Why:   "Moxa publishes fixes and advisories; someone must watch for them and plan the update windows, or the device stays on today's firmware for its whole life.",
			SRs:   []string{"SR 3.4", "SR 3.3"}, Kind: steps.Manual,
			Attest: "The site's patch process covers this device: someone follows Moxa's security advisories and schedules firmware updates.",
			Inputs: []steps.Input{advisoryOwner("Moxa")}},
	}
}

func firmwareStep() steps.Step[nstate] {
	return steps.Step[nstate]{
		Meta: steps.Meta{ID: "nport.4.2.firmware", Section: "4.2", Group: groupFirmware,
			Title: "Run firmware the guide supports, with no open advisory",
			Why:   "The hardening features the guide relies on exist only from certain firmware versions on, and older firmware has published vulnerabilities.",
			SRs:   []string{"SR 3.4", "SR 3.3"}, Kind: steps.Automatic,
			Caution: "The tool does not upgrade firmware itself: download it from moxa.com, check its SHA-512 (next step), upload it in Upgrade Firmware, then check again."},
		Check: func(s nstate) steps.Finding {
			model, fw := s.Identity.Model, s.Identity.Firmware
			f := steps.Finding{Applicable: true, Observed: fmt.Sprintf("%s firmware %s", printable.String(model), printable.String(fw)),
				Expected: "firmware at or above the guide's minimum, with no advisory that a newer firmware fixes"}
			if fw == "" {
				f.Observed += " (the firmware version could not be read)"
				return f
			}
			f.Compliant = true
			for _, a := range nport.Advisories(model, fw) {
				f.Notes = append(f.Notes, a.String())
				if a.Affected && a.FixedIn != "" {
					f.Compliant = false
				}
			}
			return f
		},
	}
}

func firmwareHashStep() steps.Step[nstate] {
	return steps.Step[nstate]{
		Meta: steps.Meta{ID: "nport.4.2.firmware-hash", Section: "4.2", Group: groupFirmware,
			Title: "Check a firmware file's SHA-512 before uploading it",
			Why:   "The NPort does not check a firmware image's integrity itself (CVE-2023-4929). Comparing the file's SHA-512 with the value Moxa publishes is the only proof it is Moxa's file.",
			SRs:   []string{"SR 3.4"}, Kind: steps.Manual,
			Attest: "The firmware file matches Moxa's published SHA-512 (or no firmware upload is planned: mark the step not applicable).",
			Inputs: []steps.Input{
				{Key: "file", Label: "Firmware file", Help: "path of the downloaded .rom file", Validate: moxaFirmwareDigest.validateFile},
				{Key: "sha512", Label: "Published SHA-512", Help: "the 128 hex digits from moxa.com", Validate: moxaFirmwareDigest.validate},
			}},
		Evidence: func(ctx context.Context, in steps.Values) (string, error) {
			return FileSHA512Matches(ctx, strings.TrimSpace(in["file"]), in["sha512"])
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
		others := slices.ContainsFunc(p.Accounts, func(b nport.Account) bool {
			_, hasPw := p.Secrets[b.Name]
			return b.Name != p.User && b.Active && b.Admin && !b.Delete && (hasPw || slices.Contains(p.ProvenUsers, b.Name))
		})
		if !others {
			return fmt.Errorf("this would disable %q, the account the tool is using, with no other proven administrator", p.User)
		}
	}
	return nil
}

// NPort confirm-screen wording (tui.Timing): the NPort holds every
// submitted setting until one Save/Restart, which drops its serial links.
const (
	// NPortApplyTiming is shown before a change is sent.
	NPortApplyTiming = "The NPort stores this change but keeps running its old settings until the Save/Restart at the end; nothing is interrupted now."
	// NPortRestartTiming is shown before the Save/Restart.
	NPortRestartTiming = "The NPort saves every staged change and restarts: its serial links and every console session drop until it is back (usually under a minute). The tool then logs in again and verifies each change."
	// NPortDeleteTiming is shown before a deletion (an account, an allow-list rule).
	NPortDeleteTiming = "The NPort removes it at the Save/Restart; it cannot be brought back by the tool."
)
