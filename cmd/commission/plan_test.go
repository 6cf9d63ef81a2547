package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/commission-tool/commission/internal/steps"
)

func runPlanArgs(args ...string) (string, string, ExitCode) {
	var out, errb bytes.Buffer
	err := run(context.Background(), append([]string{"plan"}, args...), strings.NewReader(""), &out, &errb)
	msg := errb.String()
	if err != nil {
		msg += err.Error()
	}
	return out.String(), msg, codeOf(err)
}

func TestPlanInitWritesAPlanThatChecksClean(t *testing.T) {
	out, msg, code := runPlanArgs("init")
	if code != ExitOK || !strings.Contains(out, `schema = "commission.plan/v1"`) {
		t.Fatalf("init: exit %d %s", code, msg)
	}
	// Every family's steps with inputs are offered, from the catalogs.
	for _, f := range registry {
		metas, _ := f.Guide()
		for _, m := range metas {
			offered := false
			for _, in := range m.Inputs {
				offered = offered || !in.Secret
			}
			if got := strings.Contains(out, `[values.`+f.Name+`."`+m.ID+`"]`); got != offered {
				t.Errorf("%s: in the template %v, want %v", m.ID, got, offered)
			}
		}
	}
	path := filepath.Join(t.TempDir(), "site.toml")
	if _, msg, code := runPlanArgs("init", "--out", path); code != ExitOK {
		t.Fatalf("init --out: %d %s", code, msg)
	}
	if _, msg, code := runPlanArgs("init", "--out", path); code != ExitError || !strings.Contains(msg, "never overwrites") {
		t.Errorf("init over an existing plan: %d %s", code, msg)
	}
	out, msg, code = runPlanArgs("check", path)
	if code != ExitOK || !strings.Contains(out, "valid plan, sha256 ") {
		t.Errorf("check of the template: %d %s %s", code, out, msg)
	}
}

func TestPlanCheckReportsLinesAgainstTheCatalogs(t *testing.T) {
	plan := `schema = "commission.plan/v1"

[site]
name = "Plant 4"

[values.nport."nport.3.1.syslog"]
server = "192.168.127.10"

[values.nport."nport.3.3.accessible-ip"]
rules = ["192.168.127.0/24", "10.1.1.5"]

[values.nport."nport.3.2.password-policy"]
lifetime = 400

[values.nport."nport.3.1.telnet-typo"]
x = "1"

[values.kepware."kepware.6.1.ua-group"]
group = "ua-clients"
colour = "blue"

[values.nport."nport.3.2.default-admin"]
password = "Fld#Tech2026!abc"

[[device]]
family = "nport"
address = "192.168.127.999"
user = "admin"

[[device]]
family = "kepware"
address = "127.0.0.1"
user = "Administrator"
password_env = "KEP_PW"
ports = { telnet = 23 }

[[waiver]]
step = "nport.3.1.snmp"
approver = "J. Smith"
reason = "the SCADA polls it"
expires = 2020-01-01
`
	path := filepath.Join(t.TempDir(), "site.toml")
	os.WriteFile(path, []byte(plan), 0o600)
	_, msg, code := runPlanArgs("check", path)
	if code != ExitError {
		t.Fatalf("exit %d, want 2: %s", code, msg)
	}
	for _, want := range []string{
		path + ":13: lifetime (Password lifetime (days)):",
		path + `:15: nport has no step "nport.3.1.telnet-typo"`,
		path + `:20: step "kepware.6.1.ua-group" has no input "colour"`,
		path + `:23: "password" looks like a secret`,
		path + `:25: address "192.168.127.999"`,
		path + `:30: --port telnet=23: kepware has no service "telnet"`,
		path + ":41: the waiver of nport.3.1.snmp expired on 2020-01-01",
		"7 problem(s)",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("check output lacks %q:\n%s", want, msg)
		}
	}
	if strings.Contains(msg, "Fld#Tech2026!abc") {
		t.Error("the check repeated a password it found")
	}
	if _, _, code := runPlanArgs("check"); code != ExitError {
		t.Error("check without a file")
	}
	if _, _, code := runPlanArgs("frobnicate"); code != ExitError {
		t.Error("unknown subcommand")
	}
}

func TestPlanValuesPassTheStepsOwnValidation(t *testing.T) {
	plan := "schema = \"commission.plan/v1\"\n[values.nport.\"nport.3.3.accessible-ip\"]\nrules = [\"192.168.127.0/24\", \"10.1.1.5\"]\n" +
		"[values.thingspro.\"thingspro.1.2.default-account\"]\naction = \"deactivate\"\n"
	p, err := planSchema().Parse("p.toml", []byte(plan))
	if err != nil {
		t.Fatal(err)
	}
	v, ok := p.Values("nport", "nport.3.3.accessible-ip")
	if !ok || v["rules"] != "192.168.127.0/24\n10.1.1.5" {
		t.Errorf("rules %q", v["rules"])
	}
	metas, _, _ := stepMetas("nport")
	for _, m := range metas {
		if m.ID == "nport.3.3.accessible-ip" {
			for _, in := range m.Inputs {
				if in.Validate != nil {
					if err := in.Validate(v[in.Key]); err != nil {
						t.Errorf("the plan's value fails the step's own check: %v", err)
					}
				}
			}
		}
	}
	if _, err := planSchema().Parse("p.toml", []byte(strings.Replace(plan, "deactivate", "shred", 1))); err == nil || !strings.Contains(err.Error(), "p.toml:5: What to do with admin: choose one of") {
		t.Errorf("an option outside the list: %v", err)
	}
}

// fakeDefaults is an engine whose device proposes defaults.
type fakeDefaults struct {
	engine
	family string
	props  map[string]steps.Values
}

func (f fakeDefaults) Family() string                  { return f.family }
func (f fakeDefaults) Defaults(id string) steps.Values { return f.props[id] }

func TestPlannedEngineFillsDefaultsFromThePlan(t *testing.T) {
	p, err := planSchema().Parse("p.toml", []byte("schema = \"commission.plan/v1\"\n[values.nport.\"nport.3.1.syslog\"]\nserver = \"192.168.127.10\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	dev := fakeDefaults{family: "nport", props: map[string]steps.Values{
		"nport.3.1.syslog":        {"server": "0.0.0.0"},
		"nport.3.2.login-message": {"message": "device proposal"},
	}}
	e := &plannedEngine{engine: dev, plan: p}
	if got := e.Defaults("nport.3.1.syslog"); got["server"] != "192.168.127.10" {
		t.Errorf("the plan's value does not win: %v", got)
	}
	if got := e.Defaults("nport.3.2.login-message"); got["message"] != "device proposal" {
		t.Errorf("a step the plan does not name keeps the device's proposal: %v", got)
	}
	if got := e.FromPlan("nport.3.1.syslog"); got["server"] != "192.168.127.10" || len(e.FromPlan("nport.3.2.login-message")) != 0 {
		t.Errorf("FromPlan %v", got)
	}
	if dev.props["nport.3.1.syslog"]["server"] != "0.0.0.0" {
		t.Error("Defaults changed the device's map")
	}
	if e.PlanDigest() != p.Digest() || len(e.PlanDigest()) != 64 {
		t.Errorf("digest %q", e.PlanDigest())
	}
}
