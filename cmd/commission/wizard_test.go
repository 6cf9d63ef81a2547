package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/teatest/v2"

	"github.com/commission-tool/commission/internal/probe"
	"github.com/commission-tool/commission/internal/record"
	"github.com/commission-tool/commission/internal/record/bundle"
	"github.com/commission-tool/commission/internal/record/keys"
	"github.com/commission-tool/commission/internal/steps"
	"github.com/commission-tool/commission/internal/transport"
	"github.com/commission-tool/commission/internal/tui"
)

// frame keeps the wizard's last whole frame for assertions.
type frame struct {
	inner tea.Model
	mu    *sync.Mutex
	last  *string
}

func (f frame) Init() tea.Cmd { return f.inner.Init() }
func (f frame) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	m, cmd := f.inner.Update(msg)
	f.inner = m
	return f, cmd
}
func (f frame) View() tea.View {
	v := f.inner.View()
	f.mu.Lock()
	*f.last = v.Content
	f.mu.Unlock()
	return v
}

type driver struct {
	t    *testing.T
	tm   *teatest.TestModel
	mu   sync.Mutex
	last string
}

func (d *driver) screen() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return ansi.Strip(d.last)
}

func (d *driver) waitFor(timeout time.Duration, want ...string) {
	d.t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		s := d.screen()
		ok := true
		for _, w := range want {
			ok = ok && strings.Contains(s, w)
		}
		if ok {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	d.t.Fatalf("screen never showed %q; last screen:\n%s", want, d.screen())
}

func (d *driver) waitFocus(title string) {
	d.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		for _, l := range strings.Split(d.screen(), "\n") {
			if strings.Contains(l, "┃") && strings.Contains(l, title) {
				return
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	d.t.Fatalf("field %q never had the focus:\n%s", title, d.screen())
}

func (d *driver) key(code rune) { d.tm.Send(tea.KeyPressMsg{Code: code}) }
func (d *driver) press(s string) {
	for _, r := range s {
		d.tm.Send(tea.KeyPressMsg{Code: r, Text: string(r)})
	}
}
func (d *driver) typ(s string) { d.tm.Type(s) }

// cursorLine is the overview line under the cursor.
func (d *driver) cursorLine() string {
	for _, l := range strings.Split(d.screen(), "\n") {
		if strings.HasPrefix(strings.TrimLeft(l, " "), "> ") {
			return l
		}
	}
	return ""
}

// open moves the overview cursor to the step whose title starts with
// title and opens it.
func (d *driver) open(title string) {
	d.t.Helper()
	d.waitFor(10*time.Second, "decided")
	prefix := title
	if len(prefix) > 28 {
		prefix = prefix[:28]
	}
	for range 40 {
		d.key(tea.KeyUp)
	}
	time.Sleep(30 * time.Millisecond)
	for range 45 {
		if strings.Contains(d.cursorLine(), prefix) {
			d.key(tea.KeyEnter)
			d.waitFor(10*time.Second, title, "esc back")
			return
		}
		before := d.cursorLine()
		d.key(tea.KeyDown)
		deadline := time.Now().Add(2 * time.Second)
		for d.cursorLine() == before && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
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
	dev := lab.devices[0]
	a := &app{pins: pins, journalDir: filepath.Join(tmp, "sessions"), outDir: out, timeout: 2 * time.Second, mode: "wizard", keyFile: keyPath,
		discover: func(context.Context) ([]tui.Candidate, error) {
			return []tui.Candidate{{Family: "nport", Address: dev.Address, Label: "Simulated NPort 5150A"}}, nil
		},
		ports: func(string, string) map[string]int { return dev.Ports },
	}
	os.MkdirAll(a.journalDir, 0o700)
	cfg := tui.Config{Candidates: a.discover, Families: families, Connect: a.connect, Trust: pins.Trust,
		Finish: a.finish, SigningKey: func() tui.KeyStatus { return keyStatus(keyPath) }, Version: "test", NoColor: true}
	d := &driver{t: t}
	m := tui.New(cfg)
	d.tm = teatest.NewTestModel(t, frame{inner: m, mu: &d.mu, last: &d.last}, teatest.WithInitialTermSize(80, 24),
		teatest.WithProgramOptions(tea.WithColorProfile(colorprofile.Ascii)))
	t.Cleanup(func() { m.Close() })

	// Choose the discovered device, log in, confirm the certificate.
	d.waitFor(5*time.Second, "commission")
	d.key(tea.KeyEnter)
	d.waitFor(5*time.Second, "Choose the device", "Simulated NPort 5150A")
	d.key(tea.KeyEnter)
	d.waitFor(5*time.Second, "Password")
	d.fill([2]string{"User", ""}, [2]string{"Password", "moxa"})
	d.waitFor(5*time.Second, "Confirm the device's certificate", "SHA256:")
	d.press("y")
	d.waitFor(10*time.Second, "decided", "NPort 5150A")

	fix := func(title string, fields ...[2]string) {
		t.Helper()
		d.open(title)
		d.press("x")
		if len(fields) > 0 {
			d.fill(fields...)
		}
		d.waitFor(5*time.Second, "This will change on the device")
		d.press("y")
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
	d.waitFor(10*time.Second, "Recorded as waived")
	d.key(tea.KeyEscape)

	// Finish: the signed record.
	d.press("f")
	d.waitFor(5*time.Second, "Summary")
	d.key(tea.KeyEnter)
	d.fill([2]string{"Technician", "Ada Field"}, [2]string{"E-mail", "tech@plant.example"},
		[2]string{"Company", "Acme Integrators"}, [2]string{"Site", "Plant 3"})
	d.waitFor(15*time.Second, "The record is written")
	d.press("q")
	d.tm.WaitFinished(t, teatest.WithFinalTimeout(10*time.Second))

	// The record: every step decided, the NPort restarted once, signed.
	if n := lab.nport.Restarts(); n != 1 {
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
		default:
			t.Errorf("%s: %s (%s)", s.ID, s.Outcome, s.Reason)
		}
	}
	if rec.Technician.Name != "Ada Field" || rec.Site != "Plant 3" {
		t.Errorf("technician/site: %+v %q", rec.Technician, rec.Site)
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
	if _, err := exec.LookPath("ssh-keygen"); err == nil {
		cmd := exec.Command("ssh-keygen", "-Y", "verify", "-f", "allowed_signers", "-I", "tech@plant.example",
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
		t.Run(dev.Family, func(t *testing.T) {
			tmp := t.TempDir()
			pins, err := transport.OpenPins(filepath.Join(tmp, "known_devices"))
			if err != nil {
				t.Fatal(err)
			}
			a := &app{pins: pins, journalDir: tmp, outDir: tmp, timeout: 2 * time.Second, mode: "wizard",
				discover: func(context.Context) ([]tui.Candidate, error) {
					var cs []tui.Candidate
					for _, d := range lab.devices {
						cs = append(cs, tui.Candidate{Family: d.Family, Address: d.Address, Label: labels[d.Family], User: d.User})
					}
					return cs, nil
				},
				ports: func(family, _ string) map[string]int {
					for _, d := range lab.devices {
						if d.Family == family {
							return d.Ports
						}
					}
					return nil
				},
			}
			cfg := tui.Config{Candidates: a.discover, Families: families, Connect: a.connect, Trust: pins.Trust, Finish: a.finish, Version: "test", NoColor: true}
			d := &driver{t: t}
			m := tui.New(cfg)
			d.tm = teatest.NewTestModel(t, frame{inner: m, mu: &d.mu, last: &d.last}, teatest.WithInitialTermSize(80, 24),
				teatest.WithProgramOptions(tea.WithColorProfile(colorprofile.Ascii)))
			t.Cleanup(func() { m.Close() })
			d.waitFor(5*time.Second, "commission")
			d.key(tea.KeyEnter)
			d.waitFor(5*time.Second, "Choose the device", labels[dev.Family])
			for range i {
				d.key(tea.KeyDown)
			}
			time.Sleep(50 * time.Millisecond)
			d.key(tea.KeyEnter)
			d.waitFor(5*time.Second, "Password")
			d.waitFocus("User")
			d.waitFor(5*time.Second, "> "+dev.User) // the candidate's login is proposed
			d.fill([2]string{"User", ""}, [2]string{"Password", dev.Password})
			d.waitFor(10*time.Second, "Confirm the device's certificate")
			d.press("y")
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
