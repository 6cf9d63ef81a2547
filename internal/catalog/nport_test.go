package catalog

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/commission-tool/commission/internal/access"
	"github.com/commission-tool/commission/internal/devices/nport"
	"github.com/commission-tool/commission/internal/probe"
	simnport "github.com/commission-tool/commission/internal/sim/nport"
	"github.com/commission-tool/commission/internal/steps"
	"github.com/commission-tool/commission/internal/transport"
)

// These tests drive the real NPort driver against the NPort simulator on
// loopback. Names ending in _Simulator say that only the simulator made
// them pass: a field test against a real unit must confirm them.

const (
	techUser = "tech1"
	techPw   = "Fld#Tech2026!abc" // 16: upper, lower, digit, special
	adminPw  = "Vault#Adm1n!Key9"
)

func startSim(t *testing.T, cfg simnport.Config) *simnport.Device {
	t.Helper()
	if cfg.RestartDelay == 0 {
		cfg.RestartDelay = 50 * time.Millisecond
	}
	d, err := simnport.Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// trustingPins returns a pin store that already trusts the simulator's certificate.
func trustingPins(t *testing.T, d *simnport.Device) *transport.PinStore {
	t.Helper()
	pins, err := transport.OpenPins(filepath.Join(t.TempDir(), "known_devices"))
	if err != nil {
		t.Fatal(err)
	}
	rep := probe.TLS(context.Background(), d.Host(), d.Ports()["https"], 2*time.Second)
	if rep.Cert == nil {
		t.Fatalf("no certificate on the simulator's HTTPS port: %s", rep.Error)
	}
	hp := net.JoinHostPort(d.Host(), itoa(d.Ports()["https"]))
	if err := pins.Trust(hp, transport.FingerprintFromHex(rep.Cert.SHA256)); err != nil {
		t.Fatal(err)
	}
	return pins
}

func itoa(n int) string { return strconv.Itoa(n) }

func session(t *testing.T, d *simnport.Device, user, pw string) (*steps.Session[nport.State], *nport.Driver) {
	t.Helper()
	drv := nport.New(nport.Options{Options: access.Options{Host: d.Host(), Ports: d.Ports(), User: user, Password: pw, Pins: trustingPins(t, d), Timeout: 2 * time.Second}, RestartWait: 20 * time.Second})
	t.Cleanup(func() { drv.Close(context.Background()) })
	return steps.NewSession(NPort(), drv, nil), drv
}

func outcomes(s *steps.Session[nport.State]) map[string]steps.Outcome {
	m := map[string]steps.Outcome{}
	for _, r := range s.Results() {
		m[r.StepID] = r.Outcome
	}
	return m
}

func TestNPortCatalogCoversTheGuide(t *testing.T) {
	sections := map[string]bool{}
	ids := map[string]bool{}
	for _, st := range NPort().Steps {
		if ids[st.ID] {
			t.Errorf("duplicate step id %s", st.ID)
		}
		ids[st.ID] = true
		sections[st.Section] = true
		if st.Title == "" || st.Why == "" || len(st.SRs) == 0 || st.Group == "" {
			t.Errorf("%s lacks a title, why, SRs or group", st.ID)
		}
		if st.Kind == steps.Automatic && st.Check == nil {
			t.Errorf("%s is automatic without a check", st.ID)
		}
		if st.Kind == steps.Manual && st.Attest == "" {
			t.Errorf("%s is manual without an attestation text", st.ID)
		}
	}
	for _, s := range []string{"3.1", "3.2", "3.3", "3.4", "4.1", "4.2"} {
		if !sections[s] {
			t.Errorf("guide section %s has no step", s)
		}
	}
}

func TestNPortAuditFactoryDefaults_Simulator(t *testing.T) {
	d := startSim(t, simnport.Config{})
	s, _ := session(t, d, "admin", "moxa")
	if err := s.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := outcomes(s)
	want := map[string]steps.Outcome{
		"nport.3.1.http": steps.Deviation, "nport.3.1.https": steps.Compliant, "nport.3.1.tls-legacy": steps.Deviation,
		"nport.3.1.telnet": steps.Compliant, "nport.3.1.moxa-service": steps.Deviation, "nport.3.1.dsci-leak": steps.Compliant,
		"nport.3.1.snmp": steps.Deviation, "nport.3.1.sntp": steps.NotApplicable, "nport.3.1.dhcp": steps.Compliant,
		"nport.3.1.syslog": steps.Deviation, "nport.3.1.opmodes": steps.ManualPending,
		"nport.3.2.personal-admin": steps.Deviation, "nport.3.2.default-admin": steps.Deviation,
		"nport.3.2.password-policy": steps.Deviation, "nport.3.2.lockout": steps.Deviation,
		"nport.3.2.login-message": steps.Deviation, "nport.3.3.accessible-ip": steps.Deviation,
		"nport.3.4.log-events": steps.Deviation, "nport.3.4.log-review": steps.ManualPending,
		"nport.4.1.patch-plan": steps.ManualPending, "nport.4.2.firmware": steps.Compliant,
		"nport.4.2.firmware-hash": steps.ManualPending,
	}
	for id, o := range want {
		if got[id] != o {
			r := s.Result(id)
			t.Errorf("%s: %s, want %s (observed %v)", id, got[id], o, r.Before)
		}
	}
	if len(got) != len(want) {
		t.Errorf("%d steps, want %d", len(got), len(want))
	}
	fw := s.Result("nport.4.2.firmware").Before
	if fw == nil || !strings.Contains(strings.Join(fw.Notes, " "), "CVE-2023-4929") {
		t.Errorf("the firmware step does not show CVE-2023-4929: %+v", fw)
	}
}

func TestNPortDSCILeakOnOldFirmware_Simulator(t *testing.T) {
	d := startSim(t, simnport.Config{Vulnerable: true})
	s, _ := session(t, d, "admin", "moxa")
	if err := s.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	if o := s.Result("nport.3.1.dsci-leak").Outcome; o != steps.Deviation {
		t.Fatalf("leaking device: %s, want deviation", o)
	}
}

// harden answers every automatic deviation the way a technician would.
var hardenInputs = map[string]steps.Values{
	"nport.3.1.syslog":          {"server": "127.0.0.1"},
	"nport.3.2.personal-admin":  {"name": techUser, "password": techPw, "confirm": techPw},
	"nport.3.2.default-admin":   {"password": adminPw, "confirm": adminPw},
	"nport.3.2.password-policy": {"lifetime": "30"},
	"nport.3.2.login-message":   {"message": DefaultBanner},
	"nport.3.3.accessible-ip":   {"rules": "127.0.0.1\n10.10.0.0/16"},
}

func TestNPortHardenEndToEnd_Simulator(t *testing.T) {
	for _, g := range simnport.Generations() {
		t.Run(string(g), func(t *testing.T) { testHardenEndToEnd(t, g) })
	}
}

// testHardenEndToEnd takes one simulated generation from factory defaults
// to hardened with one Save/Restart, proven by a fresh read and probes.
func testHardenEndToEnd(t *testing.T, g simnport.Generation) {
	d := startSim(t, simnport.Config{Generation: g})
	s, _ := session(t, d, "admin", "moxa")
	ctx := context.Background()
	if err := s.Open(ctx); err != nil {
		t.Fatal(err)
	}
	for _, r := range s.Results() {
		if r.Outcome != steps.Deviation {
			continue
		}
		if _, err := s.Plan(r.StepID, hardenInputs[r.StepID]); err != nil {
			t.Fatalf("plan %s: %v", r.StepID, err)
		}
		if err := s.Apply(ctx, r.StepID); err != nil {
			t.Fatalf("apply %s: %v", r.StepID, err)
		}
	}
	if d.Restarts() != 0 {
		t.Fatalf("the device restarted %d times before Commit", d.Restarts())
	}
	if err := s.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if d.Restarts() != 1 {
		t.Errorf("%d restarts for a full hardening, want exactly 1", d.Restarts())
	}
	for _, r := range s.Results() {
		m := r.Meta
		if m.Kind == steps.Manual {
			continue
		}
		if r.Outcome != steps.Compliant && r.Outcome != steps.Fixed && !noSNTP(r) {
			t.Errorf("%s: %s (%s) after: %+v", r.StepID, r.Outcome, r.Reason, r.After)
		}
	}
	// The probes, run again independently, find every disabled service closed.
	ports := d.Ports()
	var targets []probe.Target
	for _, n := range []string{"http", "telnet", "moxa-tcp", "moxa-tcp2"} {
		targets = append(targets, probe.Target{Name: n, Network: "tcp", Port: ports[n]})
	}
	targets = append(targets,
		probe.Target{Name: "moxa-udp", Network: "udp", Port: ports["moxa-udp"], Request: []byte{1, 0, 0, 8, 0, 0, 0, 0}},
		probe.Target{Name: "snmp", Network: "udp", Port: ports["snmp"], Request: []byte{0x30, 0}})
	for _, res := range probe.Run(ctx, d.Host(), targets, 300*time.Millisecond) {
		if res.State == probe.Open {
			t.Errorf("%s (%d/%s) still answers after hardening", res.Name, res.Port, res.Network)
		}
	}
	tlsRep := probe.TLS(ctx, d.Host(), ports["https"], time.Second)
	if tlsRep.Versions["TLS 1.0"] || tlsRep.Versions["TLS 1.1"] || !tlsRep.Versions["TLS 1.2"] {
		t.Errorf("TLS after hardening: %v", tlsRep.Versions)
	}
	// The new personal account was proven by a login after the restart.
	st := s.State()
	if st.User != techUser {
		t.Errorf("after the restart the tool is logged in as %q, want %q", st.User, techUser)
	}
	// A fresh audit with the new credentials: every automatic step compliant.
	s2, _ := session(t, d, techUser, techPw)
	if err := s2.Open(ctx); err != nil {
		t.Fatal(err)
	}
	for _, r := range s2.Results() {
		if r.Meta.Kind == steps.Automatic && r.Outcome != steps.Compliant && !noSNTP(r) {
			t.Errorf("re-audit %s: %s %+v", r.StepID, r.Outcome, r.Before)
		}
	}
}

func TestNPortAuditHardened_Simulator(t *testing.T) {
	for _, g := range simnport.Generations() {
		t.Run(string(g), func(t *testing.T) { testAuditHardened(t, g) })
	}
}

func testAuditHardened(t *testing.T, g simnport.Generation) {
	d := startSim(t, simnport.Config{Generation: g})
	d.Harden(simnport.HardenOptions{AdminUser: techUser, AdminPassword: techPw})
	s, _ := session(t, d, techUser, techPw)
	if err := s.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, r := range s.Results() {
		want := steps.Compliant
		if r.Meta.Kind == steps.Manual {
			want = steps.ManualPending
		}
		if r.StepID == "nport.3.1.sntp" {
			want = steps.NotApplicable // the 5150A has no SNTP client
		}
		if r.Outcome != want {
			t.Errorf("%s: %s, want %s (%+v)", r.StepID, r.Outcome, want, r.Before)
		}
	}
}

func TestNPortAllowListWithoutOwnAddressIsRefused_Simulator(t *testing.T) {
	d := startSim(t, simnport.Config{})
	s, _ := session(t, d, "admin", "moxa")
	if err := s.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	_, err := s.Plan("nport.3.3.accessible-ip", steps.Values{"rules": "10.0.0.0/8"})
	var ref *steps.RefusedError
	if !errors.As(err, &ref) || !strings.Contains(err.Error(), "lock out this laptop (127.0.0.1)") {
		t.Fatalf("got %v, want a refusal naming 127.0.0.1", err)
	}
	if len(d.Saved().AccessList.Rules) > 0 && d.Saved().AccessList.Enabled {
		t.Fatal("the refused list reached the device")
	}
}

func TestNPortHTTPOffRefusedUntilHTTPSProven_Simulator(t *testing.T) {
	d := startSim(t, simnport.Config{})
	ports := d.Ports()
	// Point the tool's HTTPS at a port where nothing listens: it falls back
	// to HTTP, so HTTPS is not proven in this session.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().(*net.TCPAddr).Port
	l.Close()
	override := map[string]int{}
	for k, v := range ports {
		override[k] = v
	}
	override["https"] = closed
	drv := nport.New(nport.Options{Options: access.Options{Host: d.Host(), Ports: override, User: "admin", Password: "moxa", Pins: trustingPins(t, d), Timeout: 2 * time.Second}})
	defer drv.Close(context.Background())
	s := steps.NewSession(NPort(), drv, nil)
	if err := s.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	if s.State().HTTPSProven {
		t.Fatal("HTTPS proven although the tool used HTTP")
	}
	_, err = s.Plan("nport.3.1.http", nil)
	var ref *steps.RefusedError
	if !errors.As(err, &ref) || !strings.Contains(err.Error(), "HTTPS has not been proven") {
		t.Fatalf("got %v, want a refusal", err)
	}
}

func TestNPortDroppedConnectionMidApplyIsFailed_Simulator(t *testing.T) {
	d := startSim(t, simnport.Config{})
	s, _ := session(t, d, "admin", "moxa")
	ctx := context.Background()
	if err := s.Open(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Plan("nport.3.2.lockout", nil); err != nil {
		t.Fatal(err)
	}
	// the settings forms are sent by GET, which the HTTP client resends
	// once per idle connection: drop enough that every try is lost
	d.DropNextSubmits(8)
	if err := s.Apply(ctx, "nport.3.2.lockout"); err == nil {
		t.Fatal("apply reported success on a dropped connection")
	}
	r := s.Result("nport.3.2.lockout")
	if r.Outcome != steps.Failed || !strings.Contains(r.Reason, "failed, not verified") {
		t.Fatalf("got %s %q, want failed, not verified", r.Outcome, r.Reason)
	}
	if d.Saved().Policy.Lockout {
		t.Fatal("the dropped submit was saved anyway")
	}
}

func TestNPortWrongPassword_Simulator(t *testing.T) {
	d := startSim(t, simnport.Config{})
	s, _ := session(t, d, "admin", "wrong")
	err := s.Open(context.Background())
	if !errors.Is(err, nport.ErrWrongPassword) {
		t.Fatalf("got %v, want ErrWrongPassword", err)
	}
	if !strings.Contains(err.Error(), "check the user name and password") {
		t.Errorf("message does not tell the technician what to do: %v", err)
	}
}

func TestNPortUnreachableFailsWithinToolTimeout(t *testing.T) {
	// A listener that accepts and never answers: no traffic leaves loopback.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	port := l.Addr().(*net.TCPAddr).Port
	pins, _ := transport.OpenPins(filepath.Join(t.TempDir(), "p"))
	drv := nport.New(nport.Options{Options: access.Options{Host: "127.0.0.1", Ports: map[string]int{"https": port, "http": port}, User: "admin", Password: "moxa", Pins: pins, Timeout: 500 * time.Millisecond}})
	s := steps.NewSession(NPort(), drv, nil)
	start := time.Now()
	err = s.Open(context.Background())
	if err == nil {
		t.Fatal("open succeeded against a silent device")
	}
	if el := time.Since(start); el > 3*time.Second {
		t.Errorf("took %v; the tool's own timeout should end it well before 3 s", el)
	}
}

func TestNPortEscapeSequencesStripped_Simulator(t *testing.T) {
	d := startSim(t, simnport.Config{Model: "NPort\x1b[2J\x1b]0;pwn\x07 5150A", Telnet: true})
	s, _ := session(t, d, "admin", "moxa")
	if err := s.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	id := s.Identity()
	if strings.ContainsAny(id.Model, "\x1b\x07") {
		t.Fatalf("model shown with escapes: %q", id.Model)
	}
	for _, r := range s.Results() {
		if r.Before != nil && strings.ContainsRune(r.Before.Observed, 0x1b) {
			t.Errorf("%s observed carries an escape: %q", r.StepID, r.Before.Observed)
		}
	}
}

func TestParseRules(t *testing.T) {
	good := map[string][]string{
		"192.168.1.120":   {"192.168.1.120/255.255.255.255"},
		"192.168.1.0/24":  {"192.168.1.0/255.255.255.0"},
		"192.168.1.77/25": {"192.168.1.0/255.255.255.128"},
		"192.168.1.128 255.255.255.128, 10.0.0.1": {"192.168.1.128/255.255.255.128", "10.0.0.1/255.255.255.255"},
	}
	for in, want := range good {
		rs, err := ParseRules(in)
		if err != nil {
			t.Errorf("%q: %v", in, err)
			continue
		}
		var got []string
		for _, r := range rs {
			got = append(got, r.String())
		}
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("%q: %v, want %v", in, got, want)
		}
	}
	bad := map[string]string{
		"300.1.1.1":               "not an IPv4 address",
		"192.168.1.0 255.0.255.0": "contiguous",
		"192.168.1.0/33":          "prefix length",
		"10.0.0.0 0.0.0.0":        "turn the list off",
		"":                        "at least one rule",
		"fe80::1":                 "not an IPv4 address",
		"1.2.3.4 255.255.255.2x":  "not a netmask",
	}
	for in, want := range bad {
		_, err := ParseRules(in)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: got %v, want an error containing %q", in, err, want)
		}
	}
}

func TestNPortPasswordRules(t *testing.T) {
	cases := map[string]string{
		"Short1!":           "exactly 16",
		"abcdefghijklmnop":  "upper-case",
		"ABCDEFGHIJKLMNO1":  "lower-case",
		"Abcdefghijklmnop":  "digit",
		"Abcdefghijklmno1":  "special",
		"Abcdefghijklmn1 ":  "does not accept",
		"Password123!@#$%^": "exactly 16",
		techPw:              "",
	}
	for pw, want := range cases {
		err := NPortPasswordRules.Check(pw)
		if want == "" {
			if err != nil {
				t.Errorf("%q refused: %v", pw, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: got %v, want %q", pw, err, want)
		}
		if err != nil && strings.Contains(err.Error(), pw) {
			t.Errorf("the error echoes the password")
		}
	}
	kep := PasswordRules{MinLength: 14, Classes: 3, CheckCommon: true}
	if err := kep.Check("Password123456!"); err == nil || !strings.Contains(err.Error(), "commonly used") {
		t.Errorf("common password accepted: %v", err)
	}
}

func TestFirmwareHash(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "fw.rom")
	writeFile(t, p, "firmware image")
	// sha512("firmware image")
	sum := sha512hex("firmware image")
	ev, err := FileSHA512Matches(context.Background(), p, strings.ToUpper(sum))
	if err != nil || !strings.Contains(ev, "matches") {
		t.Fatalf("good hash: %v %q", err, ev)
	}
	bad := strings.Repeat("0", 128)
	if _, err := FileSHA512Matches(context.Background(), p, bad); err == nil || !strings.Contains(err.Error(), "do not install") {
		t.Fatalf("bad hash: %v", err)
	}
	if _, err := FileSHA512Matches(context.Background(), p, "abc"); err == nil || !strings.Contains(err.Error(), "128 hex digits") {
		t.Fatalf("short hash: %v", err)
	}
}

// runGuards runs the catalog's own guards on a planned state, as the
// engine does: a guard removed from the list or broken turns these red.
func runGuards(p nport.State) error {
	for _, g := range NPort().Guards {
		if err := g(p); err != nil {
			return err
		}
	}
	return nil
}

func TestNPortLastAdminGuard(t *testing.T) {
	base := nport.State{User: "admin", ProvenUsers: []string{"admin"}, Console: nport.Console{HTTP: true, HTTPS: true},
		Accounts: []nport.Account{{Name: "admin", Active: true, Admin: true}, {Name: "viewer", Active: true}}}
	if err := runGuards(base); err != nil {
		t.Fatalf("the factory state is refused: %v", err)
	}
	// the only administrator disabled, demoted or deleted
	for name, mut := range map[string]func(a *nport.Account){
		"disabled": func(a *nport.Account) { a.Active = false },
		"demoted":  func(a *nport.Account) { a.Admin = false },
		"deleted":  func(a *nport.Account) { a.Delete = true },
	} {
		p := base.Clone()
		mut(&p.Accounts[0])
		if err := runGuards(p); err == nil || !strings.Contains(err.Error(), "last administrator") {
			t.Errorf("last admin %s: %v", name, err)
		}
	}
	// a second, proven administrator: the tool's own account may go
	two := base.Clone()
	two.Accounts = append(two.Accounts, nport.Account{Name: "tech1", Active: true, Admin: true})
	two.Secrets = map[string]string{"tech1": techPw}
	two.Accounts[0].Active = false
	if err := runGuards(two); err != nil {
		t.Fatalf("admin disabled with a new personal admin staged: %v", err)
	}
	// a second administrator whose password is not known does not count
	unknown := base.Clone()
	unknown.Accounts = append(unknown.Accounts, nport.Account{Name: "old", Active: true, Admin: true})
	unknown.Accounts[0].Admin = false
	if err := runGuards(unknown); err == nil || !strings.Contains(err.Error(), "the account the tool is using") {
		t.Fatalf("own account demoted, the other admin unproven: %v", err)
	}
}

func TestNPortOwnAccountWithStagedPasswordIsKept(t *testing.T) {
	p := nport.State{User: "tech1", ProvenUsers: []string{"tech1", "admin"}, Console: nport.Console{HTTP: true, HTTPS: true},
		Accounts: []nport.Account{{Name: "admin", Active: true, Admin: true}, {Name: "tech1", Active: true, Admin: true}},
		Secrets:  map[string]string{"tech1": techPw}}
	if err := runGuards(p); err != nil {
		t.Fatalf("a new password for the tool's own account: %v", err)
	}
	for name, mut := range map[string]func(a *nport.Account){
		"disabled": func(a *nport.Account) { a.Active = false },
		"demoted":  func(a *nport.Account) { a.Admin = false },
	} {
		q := p.Clone()
		mut(&q.Accounts[1])
		// another proven administrator exists, yet the tool would log in
		// with the staged password of an account it just disabled
		if err := runGuards(q); err == nil || !strings.Contains(err.Error(), "while a new password is staged") {
			t.Errorf("own account %s with a staged password: %v", name, err)
		}
	}
}

func TestNPortDSCICheckNeverCompliantUnasked(t *testing.T) {
	var step steps.Step[nport.State]
	for _, s := range NPort().Steps {
		if s.Meta.ID == "nport.3.1.dsci-leak" {
			step = s
		}
	}
	if step.Check == nil {
		t.Fatal("no dsci-leak step")
	}
	if f := step.Check(nport.State{}); f.Compliant || !strings.Contains(f.Observed, "not sent") {
		t.Fatalf("unasked: %+v", f)
	}
	var st nport.State
	st.Observed.DSCIAsked = true
	if f := step.Check(st); !f.Compliant {
		t.Fatalf("asked, no leak: %+v", f)
	}
	st.Observed.DSCILeak = true
	if f := step.Check(st); f.Compliant {
		t.Fatalf("leak: %+v", f)
	}
}

// badCert is an expired certificate with a 1024-bit RSA key.
func badCert(t *testing.T) *tls.Certificate {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "NPort 5150A"},
		NotBefore: time.Now().AddDate(-3, 0, 0), NotAfter: time.Now().AddDate(-1, 0, 0),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

func TestNPortWeakCertificateIsADeviation_Simulator(t *testing.T) {
	d := startSim(t, simnport.Config{Certificate: badCert(t)})
	s, _ := session(t, d, "admin", "moxa")
	if err := s.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	r := s.Result("nport.3.1.https")
	if r.Outcome != steps.Deviation || r.Before == nil {
		t.Fatalf("https with an expired 1024-bit certificate: %s", r.Outcome)
	}
	notes := strings.Join(r.Before.Notes, "\n")
	if !strings.Contains(notes, "expired on") || !strings.Contains(notes, "1024-bit RSA key") {
		t.Fatalf("notes %q", notes)
	}
}

func TestNPortHTTPOnlyUnitIsSaidPlainly_Simulator(t *testing.T) {
	d := startSim(t, simnport.Config{NoHTTPS: true})
	drv := nport.New(nport.Options{Options: access.Options{Host: d.Host(), Ports: d.Ports(), User: "admin", Password: "moxa", Timeout: 2 * time.Second}})
	defer drv.Close(context.Background())
	s := steps.NewSession(NPort(), drv, nil)
	if err := s.Open(context.Background()); err != nil {
		t.Fatalf("a unit without HTTPS is driven over HTTP: %v", err)
	}
	if s.State().Via != "http" {
		t.Fatalf("via %q", s.State().Via)
	}
	r := s.Result("nport.3.1.https")
	if r.Outcome != steps.Deviation || r.Before == nil || !strings.Contains(strings.Join(r.Before.Notes, " "), "driven over plain HTTP") {
		t.Fatalf("https finding %s %+v", r.Outcome, r.Before)
	}
}

func TestNPortGenerationsAuditAndHarden_Simulator(t *testing.T) {
	for _, g := range simnport.Generations() {
		t.Run(string(g), func(t *testing.T) {
			d := startSim(t, simnport.Config{Generation: g})
			s, _ := session(t, d, "admin", "moxa")
			if err := s.Open(context.Background()); err != nil {
				t.Fatal(err)
			}
			if s.State().Generation != string(g) {
				t.Fatalf("generation %q", s.State().Generation)
			}
			if o := outcomes(s); o["nport.3.1.http"] != steps.Deviation || o["nport.3.2.default-admin"] != steps.Deviation {
				t.Fatalf("factory outcomes %v", o)
			}
		})
	}
}

// noSNTP is the Time server step on a model without SNTP (5100/5200
// series): not applicable, not a deviation.
func noSNTP(r steps.Result) bool {
	return r.StepID == "nport.3.1.sntp" && r.Outcome == steps.NotApplicable
}
