package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/commission-tool/commission/internal/peertest"
	"github.com/commission-tool/commission/internal/probe"
	"github.com/commission-tool/commission/internal/record"
	"github.com/commission-tool/commission/internal/record/bundle"
	"github.com/commission-tool/commission/internal/record/keys"
	simnport "github.com/commission-tool/commission/internal/sim/nport"
	"github.com/commission-tool/commission/internal/steps"
	"github.com/commission-tool/commission/internal/transport"
	"github.com/commission-tool/commission/internal/tui"
	"github.com/commission-tool/commission/internal/tui/tuitest"
)

// driver drives the real wizard through the shared harness (tuitest)
// with the few moves these end-to-end tests need.
type driver struct {
	*tuitest.Driver
	t *testing.T
	// first is the text of the overview's first step, seen when the
	// overview opened with the cursor on it.
	first string
}

// startWizard runs the wizard model of cfg at 80x24 without colours.
func startWizard(t *testing.T, cfg tui.Config) *driver {
	m := tui.New(cfg)
	t.Cleanup(func() { m.Close() })
	return &driver{Driver: tuitest.Start(t, m), t: t}
}

func (d *driver) screen() string { return d.Screen() }

func (d *driver) waitFor(timeout time.Duration, want ...string) {
	d.t.Helper()
	d.WaitForWithin(timeout, want...)
}

func (d *driver) waitFocus(title string) { d.t.Helper(); d.WaitFocus(title) }
func (d *driver) key(code rune)          { d.Key(code) }
func (d *driver) press(s string)         { d.Press(s) }
func (d *driver) typ(s string)           { d.TM.Type(s) }

// yes answers "y" on a yes/no screen once it accepts keys.
func (d *driver) yes(want ...string) {
	d.t.Helper()
	d.WaitArmed(want...)
	d.Press("y")
}

// cursorLine is the overview line under the cursor.
func (d *driver) cursorLine() string {
	for _, l := range strings.Split(d.screen(), "\n") {
		if strings.HasPrefix(strings.TrimLeft(l, " "), "> ") {
			return l
		}
	}
	return ""
}

// stepText is an overview line without its outcome badge.
func stepText(line string) string {
	line = strings.TrimLeft(line, " >")
	if len(line) > 13 {
		line = line[13:]
	}
	return strings.TrimSpace(line)
}

// overview waits for the overview and remembers its first step (the
// cursor starts there).
func (d *driver) overview(timeout time.Duration, want ...string) {
	d.t.Helper()
	d.waitFor(timeout, append([]string{"decided"}, want...)...)
	if d.first == "" {
		d.first = stepText(d.cursorLine())
	}
}

// open moves the overview cursor to the step whose title starts with
// title and opens it. It waits on frames, never on time. The prefix
// compared is long enough to tell apart titles that share their first
// 40 characters (three Kepware steps do).
func (d *driver) open(title string) {
	d.t.Helper()
	d.waitFor(10*time.Second, "decided")
	prefix := title
	if len(prefix) > 50 {
		prefix = prefix[:50]
	}
	d.key(tea.KeyHome)
	d.Until(5*time.Second, "the cursor on the first step", func(string) bool {
		return d.first != "" && strings.Contains(d.cursorLine(), d.first)
	})
	for range 60 {
		if strings.Contains(d.cursorLine(), prefix) {
			d.key(tea.KeyEnter)
			d.waitFor(10*time.Second, title, "esc back")
			return
		}
		before := d.cursorLine()
		d.key(tea.KeyDown)
		d.Until(2*time.Second, "the cursor moving down (step "+title+" not found)", func(string) bool { return d.cursorLine() != before })
	}
	d.t.Fatalf("step %q not found on the overview:\n%s", title, d.screen())
}

// fill types values into the focused form fields in order; an empty
// value keeps the field's default.
func (d *driver) fill(fields ...[2]string) {
	d.t.Helper()
	for _, f := range fields {
		d.waitFocus(f[0])
		if f[1] != "" {
			d.typ(f[1])
		}
		d.key(tea.KeyEnter)
	}
}

// TestWizardHardensFactoryNPort_Simulator drives the real wizard at 80x24
// against the simulated NPort: from factory defaults to every step
// compliant, fixed, waived or attested, one restart, a signed record, and
// outside probes that find every service the guide disables closed.
//
// It runs once per console generation the demo simulates, and then has
// `commission audit` read the hardened device: every automatic step
// compliant (exit 0).
func TestWizardHardensFactoryNPort_Simulator(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end wizard run")
	}
	ctx := context.Background()
	lab, err := startLab(ctx, 100*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	defer lab.Close()
	n := 0
	for _, dev := range lab.devices {
		if dev.Family != "nport" {
			continue
		}
		n++
		t.Run(dev.Label, func(t *testing.T) { hardenNPortThroughTheWizard(t, ctx, dev) })
	}
	if n < 2 {
		t.Errorf("the demo simulates %d NPort generation(s), want GA and the security firmware", n)
	}
}

func hardenNPortThroughTheWizard(t *testing.T, ctx context.Context, dev demoDevice) {
	sim := dev.sim.(*simnport.Device)
	tmp := t.TempDir()
	pins, err := transport.OpenPins(filepath.Join(tmp, "known_devices"))
	if err != nil {
		t.Fatal(err)
	}
	keyPath := filepath.Join(tmp, "id_ed25519")
	if err := keys.CreateEd25519(keyPath, "tech@plant.example", nil); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(tmp, "records")
	a := &app{pins: pins, journalDir: filepath.Join(tmp, "sessions"), outDir: out, timeout: 2 * time.Second, mode: "wizard", keyFile: keyPath,
		known: []tui.Candidate{{Family: "nport", Address: dev.Address, Label: "Simulated NPort 5150A"}},
		ports: func(string, string) map[string]int { return dev.Ports },
	}
	os.MkdirAll(a.journalDir, 0o700)
	cfg := a.config()
	cfg.SigningKey, cfg.Version, cfg.NoColor = func() tui.KeyStatus { return keyStatus(keyPath) }, "test", true
	d := startWizard(t, cfg)

	// Choose the listed device, log in, confirm the certificate.
	d.waitFor(5*time.Second, "commission")
	d.key(tea.KeyEnter)
	d.waitFor(5*time.Second, "Choose the device", "Simulated NPort 5150A")
	d.key(tea.KeyEnter)
	d.waitFor(5*time.Second, "Password")
	d.fill([2]string{"User", ""}, [2]string{"Password", "moxa"})
	d.yes("Confirm the device's certificate", "SHA256:")
	d.overview(10*time.Second, "NPort 5150A")

	fix := func(title string, fields ...[2]string) {
		t.Helper()
		d.open(title)
		d.press("x")
		if len(fields) > 0 {
			d.fill(fields...)
		}
		d.yes("This will change on the device")
		d.waitFor(20*time.Second, "Change sent")
		d.key(tea.KeyEscape)
	}
	fix("Turn off the plain-HTTP console")
	fix("Refuse TLS 1.0 and 1.1 on the HTTPS console")
	fix("Turn off the Moxa command service (DSCI)")
	fix("Turn off the SNMP agent")
	fix("Send the log to the site's syslog server", [2]string{"Syslog server address", "127.0.0.1"})
	fix("Give each administrator a personal account",
		[2]string{"Account name", "tech1"}, [2]string{"Password", "Fld#Tech2026!abc"}, [2]string{"Confirm password", "Fld#Tech2026!abc"})
	fix("Change the default admin password",
		[2]string{"New admin password", "Vault#Adm1n!Key9"}, [2]string{"Confirm password", "Vault#Adm1n!Key9"})
	fix("Require long, complex passwords that expire", [2]string{"Password lifetime", ""})
	fix("Lock an account after 5 failed logins, for 60 minutes")
	fix("Show the site's warning banner at login", [2]string{"Login message", ""})
	fix("Allow only the hosts that need the device", [2]string{"Allowed hosts and subnets", ""})
	fix("Log every event group, locally and to the log server")

	// One restart verifies everything.
	d.waitFor(5*time.Second, "waiting for restart")
	d.press("r")
	d.yes("Restart the device now?")
	d.waitFor(60*time.Second, "Verified against a fresh read", "fixed", "enter back to the overview")
	if strings.Contains(d.screen(), "✗") {
		t.Fatalf("a step failed verification:\n%s", d.screen())
	}
	d.key(tea.KeyEnter)

	attest := func(title string, fields ...[2]string) {
		t.Helper()
		d.open(title)
		d.press("a")
		d.fill(append(fields, [2]string{"Note (optional)", "checked on site"})...)
		d.waitFor(10*time.Second, "Attested.")
		d.key(tea.KeyEscape)
	}
	attest("Serial ports: only the operation modes in use")
	attest("Read the device's system log")
	attest("Have a plan for firmware updates", [2]string{"Who follows the advisories", "OT security team"})
	d.open("Check a firmware file's SHA-512 before uploading it")
	d.press("w")
	d.waitFor(5*time.Second, "Why do you waive this step?")
	d.typ("no firmware upload planned at commissioning")
	d.key(tea.KeyEnter)
	d.fill([2]string{"Approved by", "J. Smith, OT security"}, [2]string{"Waiver holds until", "2099-12-31"})
	d.waitFor(10*time.Second, "Recorded as waived")
	d.key(tea.KeyEscape)

	// Finish: the signed record.
	d.press("f")
	d.waitFor(5*time.Second, "Summary")
	d.key(tea.KeyEnter)
	d.fill([2]string{"Technician", "Ada Field"}, [2]string{"E-mail", "tech@plant.example"},
		[2]string{"Company", "Acme Integrators"}, [2]string{"Site", "Plant 3"},
		[2]string{"Accepted for the plant by", "B. Keller"}, [2]string{"Their role", "Plant engineer"})
	d.yes("Sign the record as", "Ada Field")
	d.waitFor(15*time.Second, "The record is written")
	d.press("q")
	d.Final(10 * time.Second)

	// The record: every step decided, the NPort restarted once, signed.
	if n := sim.Restarts(); n != 1 {
		t.Errorf("%d Save/Restarts, want 1", n)
	}
	dirs, _ := filepath.Glob(filepath.Join(out, "*"))
	if len(dirs) != 1 {
		t.Fatalf("record folders: %v", dirs)
	}
	rep, err := verifyDir(dirs[0], "", "")
	if err != nil || !rep.OK() || !rep.CatalogChecked {
		t.Fatalf("verify: %v %+v", err, rep)
	}
	rec, _, err := record.Load(filepath.Join(dirs[0], bundle.RecordFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range rec.Steps {
		switch s.Outcome {
		case steps.Compliant, steps.Fixed, steps.Waived, steps.Attested:
		case steps.NotApplicable: // the model lacks the feature; the reason says so
			if s.Reason == "" {
				t.Errorf("%s: not applicable without a reason", s.ID)
			}
		default:
			t.Errorf("%s: %s (%s)", s.ID, s.Outcome, s.Reason)
		}
	}
	if rec.Technician.Name != "Ada Field" || rec.Site != "Plant 3" {
		t.Errorf("technician/site: %+v %q", rec.Technician, rec.Site)
	}
	if rec.Acceptance == nil || rec.Acceptance.Name != "B. Keller" || rec.Acceptance.Role != "Plant engineer" {
		t.Errorf("plant acceptance: %+v", rec.Acceptance)
	}
	for _, s := range rec.Steps {
		if s.Outcome == steps.Waived && (s.Waiver == nil || s.Waiver.Approver != "J. Smith, OT security" || s.Waiver.Expires != "2099-12-31") {
			t.Errorf("%s: waiver %+v", s.ID, s.Waiver)
		}
	}
	// No secret in any written file, nor in the journal.
	secrets := []string{"Fld#Tech2026!abc", "Vault#Adm1n!Key9", `"moxa"`}
	filepath.Walk(tmp, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() || strings.HasSuffix(p, "id_ed25519") {
			return nil
		}
		b, _ := os.ReadFile(p)
		for _, s := range secrets {
			if strings.Contains(string(b), s) {
				t.Errorf("%s contains a secret", p)
			}
		}
		return nil
	})
	// ssh-keygen accepts the signature.
	if keygen, ok := peertest.Optional(t, "ssh-keygen"); ok {
		cmd := exec.Command(keygen, "-Y", "verify", "-f", "allowed_signers", "-I", "tech@plant.example",
			"-n", "commissioning-record@commission.tool", "-s", "record.json.sig")
		cmd.Dir = dirs[0]
		cmd.Stdin, _ = os.Open(filepath.Join(dirs[0], "record.json"))
		if outb, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("ssh-keygen -Y verify: %v %s", err, outb)
		}
	}
	// Outside probes: every service the guide disables is closed.
	ports := dev.Ports
	var targets []probe.Target
	for _, n := range []string{"http", "telnet", "moxa-tcp", "moxa-tcp2"} {
		targets = append(targets, probe.Target{Name: n, Network: "tcp", Port: ports[n]})
	}
	targets = append(targets,
		probe.Target{Name: "moxa-udp", Network: "udp", Port: ports["moxa-udp"], Request: []byte{1, 0, 0, 8, 0, 0, 0, 0}},
		probe.Target{Name: "snmp", Network: "udp", Port: ports["snmp"], Request: []byte{0x30, 0}})
	for _, r := range probe.Run(ctx, dev.Address, targets, 300*time.Millisecond) {
		if r.State == probe.Open {
			t.Errorf("%s still open after the wizard", r.Name)
		}
	}
	js, _ := json.Marshal(rec.Summary)
	t.Logf("record summary: %s", js)

	// commission audit, as the new personal admin, finds it hardened.
	args := withPins(t, dev.AuditArgs)
	for i := range args {
		if args[i] == "--user" {
			args[i+1] = "tech1"
		}
	}
	var stdout, stderr strings.Builder
	err = run(ctx, args, strings.NewReader("Fld#Tech2026!abc\n"), &stdout, &stderr)
	if codeOf(err) != ExitOK {
		t.Errorf("audit of the hardened %s: exit %d (%v)\n%s\n%s", dev.Label, codeOf(err), err, stdout.String(), stderr.String())
	}
	if sim.Restarts() != 1 {
		t.Errorf("the audit restarted the device")
	}
}

// TestWizardConnectsEveryFamily_Simulator opens each simulated family in
// the real wizard: the device list, the login (with the ThingsPro
// gateway's forced first-login password change), the certificate
// confirmation, and the overview with the family's steps.
func TestWizardConnectsEveryFamily_Simulator(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end wizard run")
	}
	lab, err := startLab(context.Background(), 100*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	defer lab.Close()
	for i, dev := range lab.devices {
		t.Run(dev.Label, func(t *testing.T) {
			tmp := t.TempDir()
			pins, err := transport.OpenPins(filepath.Join(tmp, "known_devices"))
			if err != nil {
				t.Fatal(err)
			}
			a := &app{pins: pins, journalDir: tmp, outDir: tmp, timeout: 2 * time.Second, mode: "wizard",
				known: lab.candidates(),
				ports: lab.ports,
			}
			cfg := a.config()
			cfg.SigningKey, cfg.Version, cfg.NoColor = nil, "test", true
			d := startWizard(t, cfg)
			d.waitFor(5*time.Second, "commission")
			d.key(tea.KeyEnter)
			d.waitFor(5*time.Second, "Choose the device", dev.Label)
			for range i {
				d.key(tea.KeyDown)
			}
			d.Until(5*time.Second, "the cursor on "+dev.Label, func(string) bool { return strings.Contains(d.cursorLine(), dev.Label) })
			d.key(tea.KeyEnter)
			d.waitFor(5*time.Second, "Password")
			d.waitFocus("User")
			d.waitFor(5*time.Second, "> "+dev.User) // the candidate's login is proposed
			d.fill([2]string{"User", ""}, [2]string{"Password", dev.Password})
			d.WaitForWithin(10*time.Second, "Confirm the device's certificate")
			d.yes("Confirm the device's certificate")
			if dev.Family == "thingspro" {
				d.waitFor(10*time.Second, "requires a new password")
				d.fill([2]string{"User", ""}, [2]string{"Password", dev.Password},
					[2]string{"New password", "Gw-Plant3-2026!x"}, [2]string{"Confirm new password", "Gw-Plant3-2026!x"})
			}
			d.waitFor(10*time.Second, "decided")
			if strings.Contains(d.screen(), "Gw-Plant3") || strings.Contains(d.screen(), dev.Password) {
				t.Fatal("a password is on the screen")
			}
		})
	}
}
