package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	tea "charm.land/bubbletea/v2"

	"github.com/commission-tool/commission/internal/record"
	"github.com/commission-tool/commission/internal/record/bundle"
	"github.com/commission-tool/commission/internal/record/keys"
	"github.com/commission-tool/commission/internal/siteplan"
	"github.com/commission-tool/commission/internal/steps"
	"github.com/commission-tool/commission/internal/transport"
	"github.com/commission-tool/commission/internal/tui"
)

// plannedField is one field of a step's form in a site-plan session, in
// the order the form asks for it. A field with plan is filled from the
// site plan; with typed too, the technician replaces the plan's value in
// the field. A field without plan is a secret the plan never holds: the
// technician types it.
type plannedField struct {
	label, key, plan, typed string
}

// plannedStep is a step whose inputs the site plan gives.
type plannedStep struct {
	id, title string
	fields    []plannedField
}

// planned is the plan's keys of the step.
func (s plannedStep) planned() (keys []string) {
	for _, f := range s.fields {
		if f.plan != "" {
			keys = append(keys, f.key)
		}
	}
	slices.Sort(keys)
	return keys
}

// changed is the plan's keys the technician changes in the field.
func (s plannedStep) changed() (keys []string) {
	for _, f := range s.fields {
		if f.plan != "" && f.typed != "" {
			keys = append(keys, f.key)
		}
	}
	slices.Sort(keys)
	return keys
}

// plannedSession is, per family, the plan's values (TOML tables) and two
// of its steps: a, filled from the plan alone (nothing planned is typed),
// and b, one planned value of which is changed in the field.
type plannedSession struct {
	values string
	a, b   plannedStep
}

// plannedSessions has one session per family of the registry; the test
// fails for a family it does not know, so a new family brings its own.
var plannedSessions = map[string]plannedSession{
	"nport": {
		values: `
[values.nport."nport.3.1.syslog"]
server = "127.0.0.1"

[values.nport."nport.3.2.login-message"]
message = "Authorised personnel only."
`,
		a: plannedStep{id: "nport.3.1.syslog", title: "Send the log to the site's syslog server", fields: []plannedField{
			{label: "Syslog server address", key: "server", plan: "127.0.0.1"},
		}},
		b: plannedStep{id: "nport.3.2.login-message", title: "Show the site's warning banner at login", fields: []plannedField{
			{label: "Login message", key: "message", plan: "Authorised personnel only.", typed: "Plant 3: authorised staff only."},
		}},
	},
	"thingspro": {
		values: `
[values.thingspro."thingspro.3.1.time"]
zone = "Europe/Berlin"
server = "127.0.0.1"

[values.thingspro."thingspro.1.1.personal-account"]
name = "ada.field"
role = "Administrator"
`,
		a: plannedStep{id: "thingspro.3.1.time", title: "Set the time zone and keep the clock synced with NTP", fields: []plannedField{
			{label: "Time zone", key: "zone", plan: "Europe/Berlin"},
			{label: "NTP server", key: "server", plan: "127.0.0.1"},
		}},
		b: plannedStep{id: "thingspro.1.1.personal-account", title: "Give each person an account with a role", fields: []plannedField{
			{label: "Account name", key: "name", plan: "ada.field", typed: "ada.lovelace"},
			{label: "Role", key: "role", plan: "Administrator"},
			{label: "Password", key: "password", typed: "Gw-Person-2026!x"},
			{label: "Confirm password", key: "confirm", typed: "Gw-Person-2026!x"},
		}},
	},
	"kepware": {
		values: `
[values.kepware."kepware.6.1.ua-group"]
group = "ua-clients"
user = "scada-ua"

[values.kepware."kepware.7.1.api-group"]
group = "api-clients"
user = "mes-api"
`,
		a: plannedStep{id: "kepware.6.1.ua-group", title: "A least-privilege group and user for OPC UA clients", fields: []plannedField{
			{label: "Group name", key: "group", plan: "ua-clients"},
			{label: "User name", key: "user", plan: "scada-ua"},
			{label: "Password for the new user", key: "password", typed: "Kep#UaClient2026!xy"},
			{label: "Confirm password", key: "confirm", typed: "Kep#UaClient2026!xy"},
		}},
		b: plannedStep{id: "kepware.7.1.api-group", title: "A least-privilege group and user for the Configuration API", fields: []plannedField{
			{label: "Group name", key: "group", plan: "api-clients", typed: "config-api"},
			{label: "User name", key: "user", plan: "mes-api"},
			{label: "Password for the new user", key: "password", typed: "Kep#MesApi2026!xyz"},
			{label: "Confirm password", key: "confirm", typed: "Kep#MesApi2026!xyz"},
		}},
	},
}

// TestWizardWithSitePlan_Simulator drives the real wizard with a site
// plan (--plan) against each family's simulated device at factory
// defaults: a step whose inputs the plan holds asks for none of them (its
// form shows the plan's values, marked "from the site plan", and is sent
// as it is), and a planned value changed in the field is marked so. The
// signed record names the plan's digest and marks, per step, the inputs
// from the plan and the one changed in the field; verify --plan accepts
// that plan and refuses another.
func TestWizardWithSitePlan_Simulator(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end wizard run")
	}
	ctx := context.Background()
	lab, err := startLab(ctx, 100*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	defer lab.Close()
	for _, f := range registry {
		t.Run(f.Name, func(t *testing.T) {
			ps, ok := plannedSessions[f.Name]
			if !ok {
				t.Fatalf("no site-plan session for the family %q: add one to plannedSessions", f.Name)
			}
			wizardWithSitePlan(t, ctx, lab, lab.first(f.Name), ps)
		})
	}
}

func wizardWithSitePlan(t *testing.T, ctx context.Context, lab *demoLab, dev demoDevice, ps plannedSession) {
	if len(ps.a.planned()) == 0 || len(ps.a.changed()) != 0 || len(ps.b.changed()) != 1 {
		t.Fatalf("the session must leave step a as planned and change one value of step b")
	}
	tmp := t.TempDir()
	planFile := filepath.Join(tmp, "site.toml")
	src := "schema = \"commission.plan/v1\"\n\n[site]\nname = \"Plant 3\"\n" + ps.values
	if err := os.WriteFile(planFile, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr strings.Builder
	if err := run(ctx, []string{"plan", "check", planFile}, strings.NewReader(""), &stdout, &stderr); err != nil {
		t.Fatalf("plan check: %v\n%s%s", err, stdout.String(), stderr.String())
	}
	plan, err := planSchema().Load(planFile)
	if err != nil {
		t.Fatal(err)
	}
	if want := siteplan.Digest([]byte(src)); plan.Digest() != want || !strings.Contains(stdout.String(), want) {
		t.Fatalf("the plan's digest %s, plan check says %q, want %s", plan.Digest(), stdout.String(), want)
	}

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
		known: lab.candidates(), ports: lab.ports, plan: plan}
	if err := os.MkdirAll(a.journalDir, 0o700); err != nil {
		t.Fatal(err)
	}
	cfg := a.config()
	cfg.SigningKey, cfg.Version, cfg.NoColor = func() tui.KeyStatus { return keyStatus(keyPath) }, "test", true
	d := startWizard(t, cfg)

	// Choose the device, log in, confirm the certificate.
	d.waitFor(5*time.Second, "commission")
	d.key(tea.KeyEnter)
	d.waitFor(5*time.Second, "Choose the device", dev.Label)
	for range 10 {
		if strings.Contains(d.cursorLine(), dev.Label) {
			break
		}
		before := d.cursorLine()
		d.key(tea.KeyDown)
		d.Until(2*time.Second, "the cursor moving down", func(string) bool { return d.cursorLine() != before })
	}
	d.Until(5*time.Second, "the cursor on "+dev.Label, func(string) bool { return strings.Contains(d.cursorLine(), dev.Label) })
	d.key(tea.KeyEnter)
	d.waitFor(5*time.Second, "Password")
	d.fill([2]string{"User", ""}, [2]string{"Password", dev.Password})
	d.yes("Confirm the device's certificate", "SHA256:")
	// A gateway at factory defaults forces a new password at the first
	// login (TestWizardConnectsEveryFamily_Simulator).
	d.Until(10*time.Second, "the overview or the first-login password change", func(sc string) bool {
		return strings.Contains(sc, "decided") || strings.Contains(sc, "requires a new password")
	})
	if strings.Contains(d.screen(), "requires a new password") {
		d.fill([2]string{"User", ""}, [2]string{"Password", dev.Password},
			[2]string{"New password", "Gw-Plant3-2026!x"}, [2]string{"Confirm new password", "Gw-Plant3-2026!x"})
	}
	d.overview(10 * time.Second)

	d.fillPlanned(ps.a)
	d.fillPlanned(ps.b)

	// One restart (or, where changes apply at once, a fresh read)
	// verifies both.
	d.waitFor(10*time.Second, "decided")
	d.press("r")
	d.yes("Restart the device now?")
	d.waitFor(60*time.Second, "Verified against a fresh read", "enter back to the overview")
	if strings.Contains(d.screen(), "✗") {
		t.Fatalf("a step failed verification:\n%s", d.screen())
	}
	d.key(tea.KeyEnter)

	// Sign: the other steps stay open, so the record says INCOMPLETE and
	// the wizard asks why.
	d.press("f")
	d.waitFor(5*time.Second, "Summary")
	d.key(tea.KeyEnter)
	d.fill([2]string{"Technician", "Ada Field"}, [2]string{"E-mail", "tech@plant.example"},
		[2]string{"Company", "Acme Integrators"}, [2]string{"Site", "Plant 3"},
		[2]string{"Accepted for the plant by", ""}, [2]string{"Their role", ""})
	d.waitFocus("steps are open: the record will say INCOMPLETE")
	d.press("y")
	d.key(tea.KeyEnter)
	d.fill([2]string{"Why is the record signed with open steps?", "only the site plan's steps were in scope"})
	d.yes("Sign the record as", "Ada Field")
	d.waitFor(15*time.Second, "The record is written")
	d.press("q")
	d.Final(10 * time.Second)

	dirs, _ := filepath.Glob(filepath.Join(out, "*"))
	if len(dirs) != 1 {
		t.Fatalf("record folders: %v", dirs)
	}
	rec, _, err := record.Load(filepath.Join(dirs[0], bundle.RecordFile))
	if err != nil {
		t.Fatal(err)
	}
	if rec.Plan == nil || rec.Plan.SHA256 != siteplan.Digest([]byte(src)) || rec.Plan.Name != "site.toml" {
		t.Errorf("the record names the plan %+v, want site.toml with sha256 %s", rec.Plan, siteplan.Digest([]byte(src)))
	}
	if rec.Status.State != record.StatusIncomplete || rec.Status.Reason != "only the site plan's steps were in scope" {
		t.Errorf("status %+v, want INCOMPLETE with the reason given", rec.Status)
	}
	for _, ps := range []plannedStep{ps.a, ps.b} {
		st, ok := recordStep(rec, ps.id)
		if !ok {
			t.Errorf("the record has no step %s", ps.id)
			continue
		}
		if st.Outcome != steps.Fixed {
			t.Errorf("%s: %s (%s), want fixed", ps.id, st.Outcome, st.Reason)
		}
		var from []string
		for _, f := range ps.fields {
			want := f.plan
			if f.typed != "" {
				want = f.typed
			}
			if f.plan == "" {
				if _, ok := st.Inputs[f.key]; ok {
					t.Errorf("%s: the secret input %s is in the record", ps.id, f.key)
				}
				continue
			}
			if f.typed == "" {
				from = append(from, f.key)
			}
			if st.Inputs[f.key] != want {
				t.Errorf("%s: input %s = %q, want %q", ps.id, f.key, st.Inputs[f.key], want)
			}
		}
		slices.Sort(from)
		if !slices.Equal(st.FromPlan, from) || !slices.Equal(st.ChangedInField, ps.changed()) {
			t.Errorf("%s: from_plan %q, changed_in_field %q; want %q and %q", ps.id, st.FromPlan, st.ChangedInField, from, ps.changed())
		}
	}
	for _, st := range rec.Steps {
		if st.ID != ps.a.id && st.ID != ps.b.id && (len(st.FromPlan) > 0 || len(st.ChangedInField) > 0) {
			t.Errorf("%s: marked from the plan (%q) or changed (%q), but the plan gives it nothing", st.ID, st.FromPlan, st.ChangedInField)
		}
	}

	// verify --plan: this plan passes; another one, even valid, does not.
	stdout.Reset()
	stderr.Reset()
	err = run(ctx, []string{"verify", "--plan", planFile, dirs[0]}, strings.NewReader(""), &stdout, &stderr)
	if c := codeOf(err); c != ExitOK && c != ExitUntrusted {
		t.Errorf("verify --plan %s: exit %d (%v)\n%s%s", planFile, c, err, stdout.String(), stderr.String())
	}
	other := filepath.Join(tmp, "other.toml")
	if err := os.WriteFile(other, []byte(strings.Replace(src, "Plant 3", "Plant 4", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := run(ctx, []string{"plan", "check", other}, strings.NewReader(""), io.Discard, io.Discard); err != nil {
		t.Fatalf("plan check %s: %v", other, err)
	}
	stdout.Reset()
	stderr.Reset()
	err = run(ctx, []string{"verify", "--plan", other, dirs[0]}, strings.NewReader(""), &stdout, &stderr)
	if c := codeOf(err); c != ExitDeviation || !strings.Contains(stdout.String()+stderr.String(), "site plan") {
		t.Errorf("verify --plan %s (another plan): exit %d (%v), want 1 naming the site plan\n%s%s", other, c, err, stdout.String(), stderr.String())
	}
}

// recordStep is the record's step id.
func recordStep(rec record.Record, id string) (record.Step, bool) {
	for _, s := range rec.Steps {
		if s.ID == id {
			return s, true
		}
	}
	return record.Step{}, false
}

// focusedLine is the title line of the focused form field titled title.
func focusedLine(screen, title string) string {
	for _, l := range strings.Split(screen, "\n") {
		if strings.Contains(l, "┃") && strings.Contains(l, title) {
			return l
		}
	}
	return ""
}

// fillPlanned opens step s, asks to fix it, and goes through its form:
// a planned field is checked to show the plan's value, marked "from the
// site plan", and is either left as it is or replaced (then marked
// "changed in the field"); a secret is typed. The change is then sent.
func (d *driver) fillPlanned(s plannedStep) {
	d.t.Helper()
	d.open(s.title)
	d.press("x")
	for _, f := range s.fields {
		d.waitFocus(f.label)
		if f.plan != "" {
			d.Until(5*time.Second, f.label+" from the site plan, showing "+f.plan, func(sc string) bool {
				return strings.Contains(focusedLine(sc, f.label), "from the site plan") && strings.Contains(sc, f.plan)
			})
		}
		if f.plan != "" && f.typed != "" {
			for range utf8.RuneCountInString(f.plan) {
				d.key(tea.KeyBackspace)
			}
			d.typ(f.typed)
			d.Until(5*time.Second, f.label+" changed in the field", func(sc string) bool {
				return strings.Contains(focusedLine(sc, f.label), "changed in the field") &&
					strings.Contains(sc, "the site plan says: "+f.plan) && strings.Contains(sc, f.typed)
			})
		} else if f.typed != "" {
			d.typ(f.typed)
		}
		d.key(tea.KeyEnter)
	}
	d.yes("This will change on the device")
	d.waitFor(20*time.Second, "Change sent")
	d.key(tea.KeyEscape)
}
