package thingspro

import (
	"context"
	"errors"
	"net/netip"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/commission-tool/commission/internal/access"
	"github.com/commission-tool/commission/internal/catalog"
	"github.com/commission-tool/commission/internal/catalog/catalogtest"
	device "github.com/commission-tool/commission/internal/devices/thingspro"
	"github.com/commission-tool/commission/internal/probe"
	simthingspro "github.com/commission-tool/commission/internal/sim/thingspro"
	"github.com/commission-tool/commission/internal/steps"
	"github.com/commission-tool/commission/internal/transport"
)

// These tests drive the real ThingsPro driver against the simulator on loopback.

const newAdminPW = "Factory-Change-2024!"

func startSim(t *testing.T) *simthingspro.Device {
	t.Helper()
	d, err := simthingspro.Start(simthingspro.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

func session(t *testing.T, sim *simthingspro.Device, user, pw string) (*steps.Session[device.State], *device.Driver) {
	t.Helper()
	ps, err := transport.OpenPins(filepath.Join(t.TempDir(), "known_devices"))
	if err != nil {
		t.Fatal(err)
	}
	if err := ps.Trust(sim.Addr(simthingspro.PortHTTPS), transport.Fingerprint(sim.CertDER())); err != nil {
		t.Fatal(err)
	}
	drv, err := device.Connect(context.Background(), device.Options{Options: access.Options{Host: sim.Host(), User: user, Password: pw,
		NewPassword: newAdminPW, Pins: ps, Ports: sim.Ports(), Timeout: 2 * time.Second}})
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { drv.Close(context.Background()) })
	s := steps.NewSession(Catalog(), drv, nil)
	if err := s.Open(context.Background()); err != nil {
		t.Fatalf("open: %v", err)
	}
	return s, drv
}

func TestThingsProCatalogShape(t *testing.T) {
	cat := Catalog()
	seen := map[string]bool{}
	groups := map[string]bool{}
	for _, g := range catalog.Groups {
		groups[g] = true
	}
	sections := map[string]bool{}
	for _, st := range cat.Steps {
		switch {
		case seen[st.ID]:
			t.Errorf("duplicate id %s", st.ID)
		case !strings.HasPrefix(st.ID, "thingspro."+st.Section+"."):
			t.Errorf("%s: id does not carry section %s", st.ID, st.Section)
		case !groups[st.Group]:
			t.Errorf("%s: group %q", st.ID, st.Group)
		case st.Title == "" || len(st.Why) < 40 || len(st.SRs) == 0 || st.Check == nil:
			t.Errorf("%s: missing title, why, SRs or check", st.ID)
		case st.Kind == steps.Manual && st.Attest == "":
			t.Errorf("%s: manual step without attestation text", st.ID)
		}
		seen[st.ID] = true
		sections[st.Section] = true
	}
	for _, sec := range []string{"1.1", "1.2", "2.1.1", "2.1.2", "2.1.3", "2.1.4", "2.2.1", "2.2.2", "2.2.3", "2.2.4", "2.2.5", "2.3.1", "3.1", "3.2", "3.3", "3.4", "4"} {
		if !sections[sec] {
			t.Errorf("guide section %s has no step", sec)
		}
	}
	last := cat.Steps[len(cat.Steps)-1]
	if last.ID != "thingspro.2.2.1.https-off" || last.Kind != steps.Manual || last.Plan != nil {
		t.Errorf("the last step is %s (%s): turning HTTPS off must be the last, manual step", last.ID, last.Kind)
	}
}

func outcomes(s *steps.Session[device.State]) map[string]steps.Outcome {
	m := map[string]steps.Outcome{}
	for _, r := range s.Results() {
		m[r.StepID] = r.Outcome
	}
	return m
}

func TestThingsProAuditFactory(t *testing.T) {
	sim := startSim(t)
	s, _ := session(t, sim, "admin", "admin@123")
	got := outcomes(s)
	want := map[string]steps.Outcome{
		"thingspro.1.1.personal-account": steps.Deviation,
		"thingspro.1.2.default-account":  steps.Compliant, // the forced change at first login changed it
		"thingspro.2.1.1.cellular":       steps.Deviation,
		"thingspro.2.1.2.dhcp-server":    steps.Deviation,
		"thingspro.2.1.3.lan":            steps.Deviation,
		"thingspro.2.1.4.wifi":           steps.Deviation,
		"thingspro.2.2.1.http":           steps.Deviation,
		"thingspro.2.2.2.local-console":  steps.Deviation,
		"thingspro.2.2.3.nat":            steps.Deviation,
		"thingspro.2.2.4.sd-card":        steps.Deviation,
		"thingspro.2.2.5.ssh":            steps.Compliant,
		"thingspro.2.3.1.proxy":          steps.Deviation,
		"thingspro.3.1.time":             steps.Deviation,
		"thingspro.3.2.https-cert":       steps.Deviation,
		"thingspro.3.3.firewall":         steps.Deviation,
		"thingspro.3.4.log-storage":      steps.Compliant,
		"thingspro.4.azure-device":       steps.Deviation,
		"thingspro.4.azure-iotedge":      steps.NotApplicable,
		"thingspro.4.aws":                steps.NotApplicable,
		"thingspro.4.mqtt":               steps.Deviation,
		"thingspro.4.sparkplug":          steps.NotApplicable,
		"thingspro.2.2.1.https-off":      steps.ManualPending,
	}
	for id, w := range want {
		if got[id] != w {
			r := s.Result(id)
			t.Errorf("%s = %s, want %s (observed %+v)", id, got[id], w, r.Before)
		}
	}
	if len(got) != len(want) {
		t.Errorf("%d steps, %d expected", len(got), len(want))
	}
	id := s.Identity()
	if id.Family != "thingspro" || id.Model == "" || id.Address != sim.Host() {
		t.Errorf("identity %+v", id)
	}
}

func TestThingsProAuditHardened(t *testing.T) {
	sim := startSim(t)
	if err := sim.Harden(simthingspro.HardenOptions{User: "tech1", Password: "Harden-Test-Pass-2024!"}); err != nil {
		t.Fatal(err)
	}
	s, _ := session(t, sim, "tech1", "Harden-Test-Pass-2024!")
	for _, r := range s.Results() {
		if r.Meta.Kind == steps.Automatic && r.Outcome != steps.Compliant && r.Outcome != steps.NotApplicable {
			t.Errorf("%s = %s after Harden (observed %+v)", r.StepID, r.Outcome, r.Before)
		}
	}
}

func planApply(t *testing.T, s *steps.Session[device.State], id string, in steps.Values) {
	t.Helper()
	if in == nil {
		in = steps.Values{}
	}
	for k, v := range s.Defaults(id) {
		if _, ok := in[k]; !ok {
			in[k] = v
		}
	}
	if _, err := s.Plan(id, in); err != nil {
		t.Fatalf("plan %s: %v", id, err)
	}
	if err := s.Apply(context.Background(), id); err != nil {
		t.Fatalf("apply %s: %v", id, err)
	}
}

func TestThingsProScriptedSession(t *testing.T) {
	sim := startSim(t)
	s, _ := session(t, sim, "admin", "admin@123")
	ctx := context.Background()
	ca, err := sim.PlantCA()
	if err != nil {
		t.Fatal(err)
	}
	certPEM, keyPEM, err := ca.Issue("gateway-01", simthingspro.IssueOptions{Hosts: []string{sim.Host()}})
	if err != nil {
		t.Fatal(err)
	}
	pw := "Personal-Pass-2024!"
	planApply(t, s, "thingspro.1.1.personal-account", steps.Values{"name": "jdoe", "role": "operator", "password": pw, "confirm": pw})
	planApply(t, s, "thingspro.1.2.default-account", steps.Values{"action": "change-password", "password": "Admin-Vault-2024!x", "confirm": "Admin-Vault-2024!x"})
	for _, id := range []string{"thingspro.2.1.1.cellular", "thingspro.2.1.2.dhcp-server", "thingspro.2.1.3.lan", "thingspro.2.1.4.wifi",
		"thingspro.2.2.1.http", "thingspro.2.2.2.local-console", "thingspro.2.2.3.nat", "thingspro.2.2.4.sd-card", "thingspro.2.3.1.proxy"} {
		planApply(t, s, id, nil)
	}
	planApply(t, s, "thingspro.3.3.firewall", steps.Values{"delete": "83"}) // the technician's decision
	planApply(t, s, "thingspro.3.1.time", steps.Values{"zone": "Europe/Berlin", "server": "pool.ntp.org"})
	planApply(t, s, "thingspro.3.2.https-cert", steps.Values{"cert": certPEM, "key": keyPEM})
	if err := s.Commit(ctx); err != nil {
		t.Fatalf("commit: %v", err)
	}
	for _, id := range []string{"thingspro.4.azure-device", "thingspro.4.mqtt"} {
		if err := s.Waive(id, "the cloud team moves to X.509 in the next release"); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Attest(ctx, "thingspro.2.2.1.https-off", steps.Values{"confirm": "DISABLE HTTPS"}, "done at the end"); err != nil {
		t.Fatal(err)
	}
	for _, r := range s.Results() {
		if !r.Outcome.Final() {
			t.Errorf("%s = %s (%s) %+v", r.StepID, r.Outcome, r.Reason, r.After)
		}
	}
	fixed := 0
	for _, r := range s.Results() {
		if r.Outcome == steps.Fixed {
			fixed++
		}
	}
	if fixed < 14 {
		t.Errorf("only %d steps fixed", fixed)
	}
	// the imported certificate is the one served
	st := s.State()
	if st.Observed.TLS.Cert == nil || !strings.Contains(st.Observed.TLS.Cert.Issuer, "Example Plant") {
		t.Errorf("served certificate after import: %+v", st.Observed.TLS.Cert)
	}
	// the personal account logs in
	if _, ok := st.UserByName("jdoe"); !ok {
		t.Error("jdoe missing after commit")
	}
	// the recheck still works: the driver re-pinned the new certificate
	if err := s.Recheck(ctx); err != nil {
		t.Errorf("recheck after the certificate import: %v", err)
	}
	// the same kind of signed record as the NPort
	catalogtest.RecordSession(t, Catalog(), s, pw, "Admin-Vault-2024!x", "admin@123")
}

func TestThingsProFaultMidApply(t *testing.T) {
	sim := startSim(t)
	s, _ := session(t, sim, "admin", "admin@123")
	ctx := context.Background()
	pw := "Personal-Pass-2024!"
	// a new role is created first, then the user: fail the second call
	sim.FailNext("POST", "/users", 1)
	if _, err := s.Plan("thingspro.1.1.personal-account", steps.Values{"name": "jdoe", "role": "operator", "password": pw, "confirm": pw}); err != nil {
		t.Fatal(err)
	}
	err := s.Apply(ctx, "thingspro.1.1.personal-account")
	var ae *device.APIError
	if !errors.As(err, &ae) || ae.Status != 500 {
		t.Fatalf("apply with a 500: %v", err)
	}
	r := s.Result("thingspro.1.1.personal-account")
	if r.Outcome != steps.Failed || !strings.HasPrefix(r.Reason, "failed, not verified") || !strings.Contains(r.Reason, "500") {
		t.Errorf("result %s: %q", r.Outcome, r.Reason)
	}
	if strings.Contains(r.Reason, pw) {
		t.Error("the failure reason shows the password")
	}
}

func TestThingsProGuardsAndInputs(t *testing.T) {
	sim := startSim(t)
	s, _ := session(t, sim, "admin", "admin@123")
	var refused *steps.RefusedError
	if _, err := s.Plan("thingspro.1.2.default-account", steps.Values{"action": "delete"}); !errors.As(err, &refused) {
		t.Errorf("deleting the account the tool uses: %v, want refused", err)
	}
	st := s.State()
	st.Users[0].Delete = true
	st.User = "someone-else"
	if err := guardLastAdmin(st); err == nil {
		t.Error("deleting the last administrator was not refused")
	}
	st = s.State()
	if i := st.ManagementInterface(); i < 0 {
		t.Fatal("no management interface")
	} else {
		st.Interfaces[i].Enable = false
	}
	if err := guardManagementLAN(st); err == nil {
		t.Error("turning off the laptop's LAN was not refused")
	}
	st = s.State()
	st.Services[device.SvcHTTPS] = false
	if err := guardKeepHTTPS(st); err == nil {
		t.Error("turning HTTPS off was not refused")
	}

	ca, _ := sim.PlantCA()
	good, _, _ := ca.Issue("gw", simthingspro.IssueOptions{Hosts: []string{sim.Host()}})
	_, otherKey, _ := ca.Issue("gw2", simthingspro.IssueOptions{Hosts: []string{sim.Host()}})
	sha1, sha1Key, _ := ca.Issue("gw", simthingspro.IssueOptions{Hosts: []string{sim.Host()}, SHA1: true})
	old, oldKey, _ := ca.Issue("gw", simthingspro.IssueOptions{Hosts: []string{sim.Host()}, NotAfter: time.Now().Add(-time.Hour)})
	far, farKey, _ := ca.Issue("gw", simthingspro.IssueOptions{Hosts: []string{"10.1.2.3"}})
	for _, c := range []struct{ name, cert, key, want string }{
		{"mismatch", good, otherKey, "do not match"},
		{"sha1", sha1, sha1Key, "SHA1"},
		{"expired", old, oldKey, "expired"},
		{"san", far, farKey, "do not include the gateway's address"},
	} {
		_, err := s.Plan("thingspro.3.2.https-cert", steps.Values{"cert": c.cert, "key": c.key})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
	if err := s.Validate("thingspro.3.1.time", steps.Values{"zone": "Mars/Base", "server": "ntp..bad"}); err == nil {
		t.Error("a bad NTP server was accepted")
	}
	if err := s.Validate("thingspro.1.1.personal-account", steps.Values{"name": "admin", "role": "x", "password": "short"}); err == nil {
		t.Error("a bad account was accepted")
	}
	if err := s.Attest(context.Background(), "thingspro.2.2.1.https-off", steps.Values{"confirm": "yes"}, ""); err == nil {
		t.Error("HTTPS off attested without the typed confirmation")
	}
}

func TestThingsProFirewallAgainstListening(t *testing.T) {
	s := device.State{HTTP: device.HTTPServer{HTTPSPort: 8443}, GatewayAddr: netip.MustParseAddr("192.168.4.127"),
		Firewall: []device.FirewallRule{
			{ID: 1, Port: "8443", Protocol: "tcp", Action: "allow"},
			{ID: 2, Port: "502", Protocol: "tcp", Action: "allow"},
			{ID: 3, Port: "1502", Protocol: "tcp", Action: "forward"},
			{ID: 4, Port: "4840", Protocol: "tcp", Action: "allow"},
		},
		Listening: []device.Listener{
			{Proto: "tcp", Addr: netip.IPv4Unspecified(), Port: 8443},
			{Proto: "tcp", Addr: netip.MustParseAddr("127.0.0.1"), Port: 502}, // loopback only
			{Proto: "tcp", Addr: netip.IPv4Unspecified(), Port: 4840},
		}}
	got := flaggedRules(s)
	if _, ok := got[1]; ok {
		t.Error("the HTTPS rule was flagged")
	}
	if _, ok := got[4]; ok {
		t.Error("a rule for a listening port was flagged")
	}
	if !strings.Contains(got[2].Why, "nothing listens") || !got[2].Idle || !strings.Contains(got[3].Why, "forward") || got[3].Idle {
		t.Errorf("flags = %v", got)
	}
	f := firewall().Check(s)
	if f.Compliant {
		t.Error("firewall with stale rules reported compliant")
	}
}

func simWith(t *testing.T, cfg simthingspro.Config) *simthingspro.Device {
	t.Helper()
	d, err := simthingspro.Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

func ruleIDsOf(s device.State) []int {
	var ids []int
	for _, r := range s.Firewall {
		ids = append(ids, r.ID)
	}
	return ids
}

// TestThingsProFirewallNoGuess_Simulator: without evidence of what listens,
// the firewall step proposes no deletion; the rule is the technician's
// decision, and the decision is carried out.
func TestThingsProFirewallNoGuess_Simulator(t *testing.T) {
	sim := startSim(t)
	s, _ := session(t, sim, "admin", "admin@123")
	r := s.Result("thingspro.3.3.firewall")
	if r.Outcome != steps.Deviation || r.Before == nil || !strings.Contains(strings.Join(r.Before.Notes, " "), "could not be checked") {
		t.Fatalf("firewall before: %s %+v", r.Outcome, r.Before)
	}
	_, err := s.Plan("thingspro.3.3.firewall", steps.Values{})
	if err == nil || !strings.Contains(err.Error(), "your decision is needed for #83") || !strings.Contains(err.Error(), "deletes nothing on a guess") {
		t.Fatalf("plan with no decision and no evidence: %v", err)
	}
	if _, err := s.Plan("thingspro.3.3.firewall", steps.Values{"delete": "99"}); err == nil || !strings.Contains(err.Error(), "#83") {
		t.Errorf("an unknown rule id: %v", err)
	}
	if ids := ruleIDsOf(s.State()); len(ids) != 1 {
		t.Fatalf("rules after refused plans: %v", ids)
	}
	planApply(t, s, "thingspro.3.3.firewall", steps.Values{"delete": "83"})
	if err := s.Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := s.Result("thingspro.3.3.firewall"); got.Outcome != steps.Fixed || len(ruleIDsOf(s.State())) != 0 {
		t.Errorf("after the technician's decision: %s, rules %v", got.Outcome, ruleIDsOf(s.State()))
	}
}

// TestThingsProFirewallSSHCheck_Simulator: with the gateway's SSH login
// given in the step, the tool asks the shell what listens right before it
// deletes, keeps the Modbus/TCP rule while a slave listens on 502, and
// deletes it when nothing does. A wrong login deletes nothing.
func TestThingsProFirewallSSHCheck_Simulator(t *testing.T) {
	cases := []struct {
		name      string
		listening []simthingspro.Socket
		password  string
		kept      bool
		applyErr  string
	}{
		{"modbus slave listens", []simthingspro.Socket{{Proto: "tcp", Port: 502}}, "moxa", true, ""},
		{"nothing listens on 502", nil, "moxa", false, ""},
		{"wrong ssh password", nil, "not-the-password", true, "refused"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sim := simWith(t, simthingspro.Config{SSHOn: true, Listening: c.listening})
			s, _ := session(t, sim, "admin", "admin@123")
			f := s.Result("thingspro.3.3.firewall").Before
			if f == nil || !strings.Contains(strings.Join(f.Notes, " "), "give the gateway's SSH login in this step") {
				t.Fatalf("the step does not offer the SSH check: %+v", f)
			}
			changes, err := s.Plan("thingspro.3.3.firewall", steps.Values{"ssh-user": "moxa", "ssh-password": c.password})
			if err != nil {
				t.Fatal(err)
			}
			if len(changes) != 1 || !strings.Contains(changes[0].To, "only if the gateway's shell") || !strings.Contains(changes[0].To, "502/tcp") {
				t.Errorf("preview %+v", changes)
			}
			err = s.Apply(context.Background(), "thingspro.3.3.firewall")
			if c.applyErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.applyErr) || !strings.Contains(err.Error(), "nothing was deleted") {
					t.Fatalf("apply with a wrong SSH login: %v", err)
				}
			} else if err != nil {
				t.Fatal(err)
			} else if err := s.Commit(context.Background()); err != nil {
				t.Fatal(err)
			}
			st := s.State()
			if c.applyErr == "" {
				if err := s.Recheck(context.Background()); err != nil {
					t.Fatal(err)
				}
				st = s.State()
			}
			if kept := len(ruleIDsOf(st)) == 1; kept != c.kept {
				t.Errorf("rule 83 kept = %t, want %t (listening %v)", kept, c.kept, st.Listening)
			}
			if c.applyErr == "" {
				if st.Listening == nil {
					t.Error("later reads do not ask the shell")
				}
				if got := s.Result("thingspro.3.3.firewall"); got.Outcome != steps.Fixed && got.Outcome != steps.Compliant {
					t.Errorf("firewall after the SSH check: %s %+v", got.Outcome, got.After)
				}
			}
		})
	}
}

// TestThingsProCertProblems_Simulator: an expired, SHA-1 or 1024-bit
// certificate served on HTTPS is a deviation that names its reason.
func TestThingsProCertProblems_Simulator(t *testing.T) {
	cases := []struct {
		name string
		o    simthingspro.IssueOptions
		want string
	}{
		{"expired", simthingspro.IssueOptions{NotAfter: time.Now().Add(-24 * time.Hour)}, "expired on"},
		{"1024-bit", simthingspro.IssueOptions{KeyBits: 1024}, "1024-bit RSA key"},
		{"sha1", simthingspro.IssueOptions{SHA1: true}, "SHA1"},
		{"good", simthingspro.IssueOptions{}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sim := startSim(t)
			ca, err := sim.PlantCA()
			if err != nil {
				t.Fatal(err)
			}
			c.o.Hosts = []string{sim.Host()}
			certPEM, keyPEM, err := ca.Issue("gw", c.o)
			if err != nil {
				t.Skipf("cannot make this certificate here: %v", err)
			}
			if err := sim.ServeCert(certPEM, keyPEM); err != nil {
				t.Fatal(err)
			}
			s, _ := session(t, sim, "admin", "admin@123")
			r := s.Result("thingspro.3.2.https-cert")
			if r.Before == nil {
				t.Fatalf("no finding: %s", r.Reason)
			}
			notes := strings.Join(r.Before.Notes, "; ")
			if c.want == "" {
				if r.Outcome != steps.Compliant || strings.Contains(notes, "the certificate is ") {
					t.Errorf("a good plant certificate: %s, notes %q", r.Outcome, notes)
				}
				if !strings.Contains(r.Before.Observed, "RSA 2048 bits") || !strings.Contains(r.Before.Observed, "SHA256:") {
					t.Errorf("observed lacks key size or fingerprint: %q", r.Before.Observed)
				}
				return
			}
			if r.Outcome != steps.Deviation || !strings.Contains(notes, c.want) {
				t.Errorf("%s certificate: %s, notes %q; want a deviation naming %q", c.name, r.Outcome, notes, c.want)
			}
		})
	}
}

// TestThingsProGuardNeedsProof: removing or deactivating an administrator
// is refused while the only administrator left is one only planned, not
// read back from the gateway.
func TestThingsProGuardNeedsProof(t *testing.T) {
	base := device.State{User: "ops", Users: []device.User{
		{ID: 1, Name: "admin", Active: true, Roles: []string{device.AdminRole}, RolesProven: true},
		{Name: "ops", Active: true, Roles: []string{device.AdminRole}}, // planned, not proven
	}}
	for _, c := range []struct {
		name string
		edit func(*device.State)
	}{
		{"delete", func(s *device.State) { s.Users[0].Delete = true }},
		{"deactivate", func(s *device.State) { s.Users[0].Active = false }},
	} {
		st := base.Clone()
		c.edit(&st)
		if err := guardLastAdmin(st); err == nil || !strings.Contains(err.Error(), "not proven") {
			t.Errorf("%s admin while ops is unproven: %v, want a refusal", c.name, err)
		}
		st.Users[1].RolesProven = true
		if err := guardLastAdmin(st); err != nil {
			t.Errorf("%s admin once ops is proven: %v", c.name, err)
		}
	}
	if err := guardLastAdmin(base); err != nil {
		t.Errorf("nothing removed: %v", err)
	}
}

// TestThingsProUnknownIsNotCompliant: a setting the gateway did not
// report is a deviation that says so, never compliant.
func TestThingsProUnknownIsNotCompliant(t *testing.T) {
	st := device.State{Services: map[string]bool{device.SvcProvision: false, device.SvcLocalConsole: false},
		Unknown:    map[string]string{device.SvcDiscovery: "the reply of /system/discovery does not say whether it is on"},
		Observed:   device.Observed{Ports: map[string]probe.Result{"discovery": {State: probe.Closed}}},
		Interfaces: []device.Interface{{Kind: device.KindWiFi, ID: 1, Name: "Wi-Fi1", EnableUnknown: true}}}
	if f := proxy().Check(st); f.Compliant || !strings.Contains(f.Observed, "discovery: unknown") {
		t.Errorf("proxy with discovery unknown: %+v", f)
	}
	wifi := interfaceOff(device.KindWiFi)
	if f := wifi.Check(st); f.Compliant || !strings.Contains(f.Observed, "unknown") {
		t.Errorf("Wi-Fi with enable unknown: %+v", f)
	}
	st.Unknown[device.SvcSSH] = "the reply of /system/sshserver does not say whether it is on"
	ssh := serviceOff(device.SvcSSH, "SSH server", "")
	if f := ssh.Check(st); f.Compliant || !f.Applicable {
		t.Errorf("SSH unknown: %+v", f)
	}
}

// TestThingsProPreviewsSayWhenAndWhat_Simulator: every preview line of every
// automatic step says that the change applies at once and what it
// interrupts, never a restart or serial links.
func TestThingsProPreviewsSayWhenAndWhat_Simulator(t *testing.T) {
	sim := simWith(t, simthingspro.Config{SSHOn: true})
	s, _ := session(t, sim, "admin", "admin@123")
	ca, _ := sim.PlantCA()
	certPEM, keyPEM, _ := ca.Issue("gw", simthingspro.IssueOptions{Hosts: []string{sim.Host()}})
	pw := "Personal-Pass-2024!"
	inputs := map[string]steps.Values{
		"thingspro.1.1.personal-account": {"name": "jdoe", "role": "operator", "password": pw, "confirm": pw},
		"thingspro.1.2.default-account":  {"action": "change-password", "password": "Admin-Vault-2024!x", "confirm": "Admin-Vault-2024!x"},
		"thingspro.3.1.time":             {"zone": "Europe/Berlin", "server": "pool.ntp.org"},
		"thingspro.3.2.https-cert":       {"cert": certPEM, "key": keyPEM},
		"thingspro.3.3.firewall":         {"delete": "83"},
	}
	planned := 0
	for _, m := range s.Steps() {
		if m.Kind != steps.Automatic {
			continue
		}
		in := inputs[m.ID]
		if in == nil {
			in = s.Defaults(m.ID)
		}
		changes, err := s.Plan(m.ID, in)
		if err != nil {
			continue // not applicable here, or nothing to change
		}
		planned++
		for _, c := range changes {
			if !strings.Contains(c.To, "at once") || strings.Contains(c.To, "restart") || strings.Contains(c.To, "serial link") {
				t.Errorf("%s: %q -> %q does not say it applies at once and what it interrupts", m.ID, c.Setting, c.To)
			}
		}
	}
	if planned < 12 {
		t.Errorf("only %d steps planned", planned)
	}
	for _, text := range []string{Timing().Apply, Timing().Commit} {
		if !strings.Contains(text, "Nothing restarts") && !strings.Contains(text, "nothing restarts") {
			t.Errorf("timing %q", text)
		}
	}
}

// TestThingsProDeactivationWaitsForProof_Simulator: a personal
// administrator only applied (not yet read back) does not let the
// default admin go; once the commit's read proves it, the personal
// administrator deactivates admin, and admin keeps its role.
func TestThingsProDeactivationWaitsForProof_Simulator(t *testing.T) {
	sim := startSim(t)
	s, _ := session(t, sim, "admin", "admin@123")
	ctx := context.Background()
	pw := "Personal-Admin-2024!"
	planApply(t, s, "thingspro.1.1.personal-account", steps.Values{"name": "ops", "role": device.AdminRole, "password": pw, "confirm": pw})
	var refused *steps.RefusedError
	for _, action := range []string{"deactivate", "delete"} {
		_, err := s.Plan("thingspro.1.2.default-account", steps.Values{"action": action})
		if !errors.As(err, &refused) || !strings.Contains(err.Error(), "not proven") {
			t.Errorf("%s admin before ops is read back: %v, want a refusal for want of proof", action, err)
		}
	}
	if err := s.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if u, ok := s.State().UserByName("ops"); !ok || !u.RolesProven || !u.Admin() {
		t.Fatalf("ops after the commit: %+v", u)
	}
	s2, _ := session(t, sim, "ops", pw)
	planApply(t, s2, "thingspro.1.2.default-account", steps.Values{"action": "deactivate"})
	if err := s2.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if r := s2.Result("thingspro.1.2.default-account"); r.Outcome != steps.Fixed {
		t.Errorf("deactivate admin as ops: %s %s", r.Outcome, r.Reason)
	}
	if roles, active, _ := sim.UserRoles("admin"); active || !slices.Contains(roles, 1) {
		t.Errorf("admin: roles %v active %t, want inactive with its role kept", roles, active)
	}
}

// TestThingsProGuardOwnAccount: the account the tool is logged in with
// is never removed, deactivated or demoted, even when another proven
// administrator remains.
func TestThingsProGuardOwnAccount(t *testing.T) {
	base := device.State{User: "ops", Users: []device.User{
		{ID: 1, Name: "admin", Active: true, Roles: []string{device.AdminRole}, RolesProven: true},
		{ID: 2, Name: "ops", Active: true, Roles: []string{device.AdminRole}, RolesProven: true},
	}}
	for _, c := range []struct {
		name string
		edit func(*device.User)
	}{
		{"delete", func(u *device.User) { u.Delete = true }},
		{"deactivate", func(u *device.User) { u.Active = false }},
		{"demote", func(u *device.User) { u.Roles = []string{"operator"} }},
	} {
		st := base.Clone()
		c.edit(&st.Users[1])
		if err := guardOwnAccount(st); err == nil || !strings.Contains(err.Error(), "logged in as ops") {
			t.Errorf("%s the tool's own account: %v, want a refusal", c.name, err)
		}
		if err := guardLastAdmin(st); err != nil {
			t.Errorf("%s ops with admin left: the last-admin guard refuses too (%v), so this test would not isolate the own-account guard", c.name, err)
		}
	}
	st := base.Clone()
	st.Users[0].Delete = true
	if err := guardOwnAccount(st); err != nil {
		t.Errorf("deleting another account: %v", err)
	}
}

// TestThingsProDeletionsAreFlagged_Simulator checks that the plans that
// remove something from the gateway say so through Change.Deletes, which
// the wizard's deletion warning reads, and that the others do not.
func TestThingsProDeletionsAreFlagged_Simulator(t *testing.T) {
	sim := startSim(t)
	s, _ := session(t, sim, "admin", "admin@123")
	for _, c := range []struct {
		id     string
		in     steps.Values
		delete bool
	}{
		{"thingspro.3.3.firewall", steps.Values{"delete": "83"}, true},
		{"thingspro.1.2.default-account", steps.Values{"action": "deactivate"}, false},
	} {
		ch, err := s.Plan(c.id, c.in)
		if err != nil {
			if c.id == "thingspro.1.2.default-account" {
				continue // refused before a personal admin exists: nothing to flag
			}
			t.Fatalf("%s: %v", c.id, err)
		}
		for _, x := range ch {
			if x.Deletes != c.delete {
				t.Errorf("%s: change %q has Deletes %v, want %v", c.id, x.Setting, x.Deletes, c.delete)
			}
		}
		if err := s.Cancel(c.id); err != nil {
			t.Fatal(err)
		}
	}
}
