package nport

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha512"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"errors"
	"math/big"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/commission-tool/commission/internal/sim/simnet"

	"github.com/commission-tool/commission/internal/access"
	"github.com/commission-tool/commission/internal/catalog/catalogtest"
	device "github.com/commission-tool/commission/internal/devices/nport"
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

func session(t *testing.T, d *simnport.Device, user, pw string) (*steps.Session[device.State], *device.Driver) {
	t.Helper()
	drv := device.New(device.Options{Options: access.Options{Host: d.Host(), Ports: d.Ports(), User: user, Password: pw, Pins: trustingPins(t, d), Timeout: 2 * time.Second}, RestartWait: 20 * time.Second})
	t.Cleanup(func() { drv.Close(context.Background()) })
	return steps.NewSession(Catalog(), drv, nil), drv
}

func outcomes(s *steps.Session[device.State]) map[string]steps.Outcome {
	m := map[string]steps.Outcome{}
	for _, r := range s.Results() {
		m[r.StepID] = r.Outcome
	}
	return m
}

func TestNPortCatalogCoversTheGuide(t *testing.T) {
	sections := map[string]bool{}
	ids := map[string]bool{}
	for _, st := range Catalog().Steps {
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
	// The manual steps closed, the session's signed record verifies
	// against the catalog and holds neither new password.
	for id, in := range map[string]steps.Values{"nport.3.1.opmodes": nil, "nport.3.4.log-review": nil,
		"nport.4.1.patch-plan": {"owner": "OT security lead"}} {
		if err := s.Attest(ctx, id, in, ""); err != nil {
			t.Fatalf("attest %s: %v", id, err)
		}
	}
	if err := s.NotApplicable("nport.4.2.firmware-hash", "no firmware upload is planned"); err != nil {
		t.Fatal(err)
	}
	catalogtest.RecordSession(t, Catalog(), s, techPw, adminPw)
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
	h, err := simnet.HoldPort("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	closed := h.Port()
	override := map[string]int{}
	for k, v := range ports {
		override[k] = v
	}
	override["https"] = closed
	drv := device.New(device.Options{Options: access.Options{Host: d.Host(), Ports: override, User: "admin", Password: "moxa", Pins: trustingPins(t, d), Timeout: 2 * time.Second}})
	defer drv.Close(context.Background())
	s := steps.NewSession(Catalog(), drv, nil)
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
	if !errors.Is(err, device.ErrWrongPassword) {
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
	drv := device.New(device.Options{Options: access.Options{Host: "127.0.0.1", Ports: map[string]int{"https": port, "http": port}, User: "admin", Password: "moxa", Pins: pins, Timeout: 500 * time.Millisecond}})
	s := steps.NewSession(Catalog(), drv, nil)
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

// stepOf returns the catalog's step with the given id.
func stepOf(t *testing.T, id string) steps.Step[device.State] {
	t.Helper()
	for _, s := range Catalog().Steps {
		if s.ID == id {
			return s
		}
	}
	t.Fatalf("no step %s", id)
	return steps.Step[device.State]{}
}

// inputOf returns the step's input with the given key.
func inputOf(t *testing.T, st steps.Step[device.State], key string) steps.Input {
	t.Helper()
	for _, in := range st.Inputs {
		if in.Key == key {
			return in
		}
	}
	t.Fatalf("%s has no input %q", st.ID, key)
	return steps.Input{}
}

// TestAllowListRules: the allow-list input reads hosts and subnets in
// every form the help names and refuses the rest with what to do, and
// the plan sets exactly the rules typed.
func TestAllowListRules(t *testing.T) {
	st := stepOf(t, "nport.3.3.accessible-ip")
	validate := inputOf(t, st, "rules").Validate
	good := map[string][]string{
		"192.168.1.120":   {"192.168.1.120/255.255.255.255"},
		"192.168.1.0/24":  {"192.168.1.0/255.255.255.0"},
		"192.168.1.77/25": {"192.168.1.0/255.255.255.128"},
		"192.168.1.128 255.255.255.128, 10.0.0.1": {"192.168.1.128/255.255.255.128", "10.0.0.1/255.255.255.255"},
	}
	for in, want := range good {
		if err := validate(in); err != nil {
			t.Errorf("%q: %v", in, err)
			continue
		}
		p, err := st.Plan(device.State{}, steps.Values{"rules": in})
		if err != nil {
			t.Errorf("plan %q: %v", in, err)
			continue
		}
		var d device.State
		if err := p.Mutate(&d); err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, r := range d.AccessList.Rules {
			if !r.Active {
				t.Errorf("%q: rule %v inactive", in, r)
			}
			got = append(got, r.IP.String()+"/"+r.Netmask.String())
		}
		if !d.AccessList.Enabled || strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("%q: enabled %t %v, want %v", in, d.AccessList.Enabled, got, want)
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
		err := validate(in)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: got %v, want an error containing %q", in, err, want)
		}
		if _, perr := st.Plan(device.State{}, steps.Values{"rules": in}); perr == nil {
			t.Errorf("plan %q accepted", in)
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
		"Password123456!@":  "commonly used",
		techPw:              "",
	}
	// the rules sit on both password inputs
	checks := map[string]func(string) error{
		"personal-admin": inputOf(t, stepOf(t, "nport.3.2.personal-admin"), "password").Validate,
		"default-admin":  inputOf(t, stepOf(t, "nport.3.2.default-admin"), "password").Validate,
	}
	for name, check := range checks {
		for pw, want := range cases {
			err := check(pw)
			if want == "" {
				if err != nil {
					t.Errorf("%s: %q refused: %v", name, pw, err)
				}
				continue
			}
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("%s: %q: got %v, want %q", name, pw, err, want)
			}
			if err != nil && strings.Contains(err.Error(), pw) {
				t.Errorf("the error echoes the password")
			}
		}
	}
}

// TestFirmwareHash: the firmware-hash step's inputs refuse a malformed
// published value and a folder, and its evidence names a match and
// refuses a mismatch.
func TestFirmwareHash(t *testing.T) {
	st := stepOf(t, "nport.4.2.firmware-hash")
	dir := t.TempDir()
	p := filepath.Join(dir, "fw.rom")
	if err := os.WriteFile(p, []byte("firmware image"), 0o600); err != nil {
		t.Fatal(err)
	}
	h := sha512.Sum512([]byte("firmware image"))
	sum := hex.EncodeToString(h[:])
	if err := inputOf(t, st, "sha512").Validate("abc"); err == nil || !strings.Contains(err.Error(), "128 hex digits") {
		t.Errorf("short hash: %v", err)
	}
	if err := inputOf(t, st, "sha512").Validate(strings.ToUpper(sum)); err != nil {
		t.Errorf("good hash refused: %v", err)
	}
	if err := inputOf(t, st, "file").Validate(dir); err == nil || !strings.Contains(err.Error(), "folder") {
		t.Errorf("a folder: %v", err)
	}
	if err := inputOf(t, st, "file").Validate(p); err != nil {
		t.Errorf("the file refused: %v", err)
	}
	ctx := context.Background()
	ev, err := st.Evidence(ctx, steps.Values{"file": " " + p + " ", "sha512": strings.ToUpper(sum)})
	if err != nil || !strings.Contains(ev, "matches") {
		t.Fatalf("good hash: %v %q", err, ev)
	}
	if _, err := st.Evidence(ctx, steps.Values{"file": p, "sha512": strings.Repeat("0", 128)}); err == nil || !strings.Contains(err.Error(), "do not install") {
		t.Fatalf("bad hash: %v", err)
	}
}

// TestDeletesMarked: a plan that removes something from the device says
// so (the wizard asks for a deletion's yes); one that only adds does not.
func TestDeletesMarked(t *testing.T) {
	rule := func(ip, mask string) device.AccessRule {
		return device.AccessRule{Active: true, IP: netip.MustParseAddr(ip), Netmask: netip.MustParseAddr(mask)}
	}
	acl := stepOf(t, "nport.3.3.accessible-ip")
	cur := device.State{AccessList: device.AccessList{Enabled: true, Rules: []device.AccessRule{
		rule("127.0.0.1", "255.255.255.255"), rule("10.0.0.0", "255.0.0.0")}}}
	cases := []struct {
		name  string
		state device.State
		rules string
		want  bool
	}{
		{"a rule dropped", cur, "127.0.0.1", true},
		{"the same rules", cur, "127.0.0.1\n10.0.0.0/8", false},
		{"a rule added", cur, "127.0.0.1\n10.0.0.0/8\n192.168.1.0/24", false},
		{"an inactive rule dropped", device.State{AccessList: device.AccessList{Rules: []device.AccessRule{{IP: netip.MustParseAddr("10.1.1.1"), Netmask: netip.MustParseAddr("255.255.255.255")}}}}, "127.0.0.1", true},
		{"an empty list filled", device.State{}, "127.0.0.1", false},
	}
	for _, c := range cases {
		p, err := acl.Plan(c.state, steps.Values{"rules": c.rules})
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if len(p.Changes) != 1 || p.Changes[0].Deletes != c.want {
			t.Errorf("%s: changes %+v, want Deletes %t", c.name, p.Changes, c.want)
		}
	}
	sntp := stepOf(t, "nport.3.1.sntp")
	for server, want := range map[string]bool{"192.168.1.5": true, "": false} {
		p, err := sntp.Plan(device.State{Time: device.TimeSettings{Server: server}}, nil)
		if err != nil || len(p.Changes) != 1 || p.Changes[0].Deletes != want {
			t.Errorf("time server %q: %+v %v, want Deletes %t", server, p.Changes, err, want)
		}
	}
	// nothing else removes anything
	full := device.State{Console: device.Console{HTTP: true, HTTPS: true, Telnet: true, MoxaService: true, LegacyTLS: true},
		Network: device.Network{Config: "DHCP", IP: "192.168.127.254"}, Accounts: []device.Account{{Name: "admin", Active: true, Admin: true}}}
	for _, st := range Catalog().Steps {
		if st.Plan == nil || st.ID == acl.ID || st.ID == sntp.ID {
			continue
		}
		in := st.Defaults
		vals := hardenInputs[st.ID]
		if vals == nil && in != nil {
			vals = in(full)
		}
		p, err := st.Plan(full, vals)
		if err != nil {
			t.Fatalf("%s: %v", st.ID, err)
		}
		for _, ch := range p.Changes {
			if ch.Deletes {
				t.Errorf("%s: %+v marked as a deletion", st.ID, ch)
			}
		}
	}
}

// runGuards runs the catalog's own guards on a planned state, as the
// engine does: a guard removed from the list or broken turns these red.
func runGuards(p device.State) error {
	for _, g := range Catalog().Guards {
		if err := g(p); err != nil {
			return err
		}
	}
	return nil
}

func TestNPortLastAdminGuard(t *testing.T) {
	base := device.State{User: "admin", ProvenUsers: []string{"admin"}, Console: device.Console{HTTP: true, HTTPS: true},
		Accounts: []device.Account{{Name: "admin", Active: true, Admin: true}, {Name: "viewer", Active: true}}}
	if err := runGuards(base); err != nil {
		t.Fatalf("the factory state is refused: %v", err)
	}
	// the only administrator disabled, demoted or deleted
	for name, mut := range map[string]func(a *device.Account){
		"disabled": func(a *device.Account) { a.Active = false },
		"demoted":  func(a *device.Account) { a.Admin = false },
		"deleted":  func(a *device.Account) { a.Delete = true },
	} {
		p := base.Clone()
		mut(&p.Accounts[0])
		if err := runGuards(p); err == nil || !strings.Contains(err.Error(), "last administrator") {
			t.Errorf("last admin %s: %v", name, err)
		}
	}
	// a second, proven administrator: the tool's own account may go
	two := base.Clone()
	two.Accounts = append(two.Accounts, device.Account{Name: "tech1", Active: true, Admin: true})
	two.Secrets = map[string]string{"tech1": techPw}
	two.Accounts[0].Active = false
	if err := runGuards(two); err != nil {
		t.Fatalf("admin disabled with a new personal admin staged: %v", err)
	}
	// a second administrator whose password is not known does not count
	unknown := base.Clone()
	unknown.Accounts = append(unknown.Accounts, device.Account{Name: "old", Active: true, Admin: true})
	unknown.Accounts[0].Admin = false
	if err := runGuards(unknown); err == nil || !strings.Contains(err.Error(), "the account the tool is using") {
		t.Fatalf("own account demoted, the other admin unproven: %v", err)
	}
}

func TestNPortOwnAccountWithStagedPasswordIsKept(t *testing.T) {
	p := device.State{User: "tech1", ProvenUsers: []string{"tech1", "admin"}, Console: device.Console{HTTP: true, HTTPS: true},
		Accounts: []device.Account{{Name: "admin", Active: true, Admin: true}, {Name: "tech1", Active: true, Admin: true}},
		Secrets:  map[string]string{"tech1": techPw}}
	if err := runGuards(p); err != nil {
		t.Fatalf("a new password for the tool's own account: %v", err)
	}
	for name, mut := range map[string]func(a *device.Account){
		"disabled": func(a *device.Account) { a.Active = false },
		"demoted":  func(a *device.Account) { a.Admin = false },
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
	var step steps.Step[device.State]
	for _, s := range Catalog().Steps {
		if s.Meta.ID == "nport.3.1.dsci-leak" {
			step = s
		}
	}
	if step.Check == nil {
		t.Fatal("no dsci-leak step")
	}
	if f := step.Check(device.State{}); f.Compliant || !strings.Contains(f.Observed, "not sent") {
		t.Fatalf("unasked: %+v", f)
	}
	var st device.State
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
	drv := device.New(device.Options{Options: access.Options{Host: d.Host(), Ports: d.Ports(), User: "admin", Password: "moxa", Timeout: 2 * time.Second}})
	defer drv.Close(context.Background())
	s := steps.NewSession(Catalog(), drv, nil)
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
